import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';

/**
 * The embedded emulators (DynamoDB, S3, SQS) for one test file: opened in a fresh temporary data
 * dir before its tests, closed and removed after them. Read the fields inside tests and hooks.
 */
export function useEmulatorStack(prefix: string): { readonly clients: AwsClients; readonly stack: LocalStack; readonly dataDir: string } {
  let state: { clients: AwsClients; stack: LocalStack; dataDir: string } | undefined;
  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `churnguard-${prefix}-`));
    const stack = await openLocalStack(dataDir);
    state = { dataDir, stack, clients: createAwsClients() };
  });
  afterAll(async () => {
    await state?.stack.close();
    if (state) await rm(state.dataDir, { recursive: true, force: true });
  });
  const opened = () => {
    if (!state) throw new Error('the emulator stack is open only inside tests and hooks');
    return state;
  };
  return {
    get clients() {
      return opened().clients;
    },
    get stack() {
      return opened().stack;
    },
    get dataDir() {
      return opened().dataDir;
    },
  };
}
