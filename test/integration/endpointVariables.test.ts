import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OWN_ENDPOINTS_VARIABLE, userEndpoints } from '../../cli/local/environmentEndpoints.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { ingestEvents } from '../../model/events/ingest.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

let dir: string;
let theirs: LocalStack;
const saved = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-endpoints-'));
  // "Their" services: a stack this test runs, whose endpoints the user would name by hand.
  theirs = await openLocalStack(path.join(dir, 'theirs'), { applyEnv: false });
});

afterEach(() => {
  process.env = { ...saved };
});

afterAll(async () => {
  await theirs.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the SDK endpoint variables, in one process', () => {
  it('some set: those services are the user’s, the embedded emulators serve the others, and a note says which', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = theirs.endpoints.dynamodb;
    const notes: string[] = [];
    const mine = await openLocalStack(path.join(dir, 'partial'), { warn: (n) => notes.push(n) });
    try {
      expect(notes).toEqual([
        `using DynamoDB at ${theirs.endpoints.dynamodb} (AWS_ENDPOINT_URL_DYNAMODB) set in the environment; the embedded emulators serve the other services`,
      ]);
      expect(mine.owner).toBe(true);
      expect(mine.endpoints.dynamodb).toBe(theirs.endpoints.dynamodb);
      expect(mine.endpoints.s3).not.toBe(theirs.endpoints.s3);
      expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(theirs.endpoints.dynamodb);
      expect(await ingestEvents(eventStoreFromEnv(), [makeEvent('session_started', { customerId: 'partial-1' })])).toMatchObject({
        accepted: 1,
      });
      // The event is in their DynamoDB: a process opening their stack reads it.
      process.env = { ...saved };
      await openLocalStack(path.join(dir, 'theirs'));
      expect(await eventStoreFromEnv().listCustomerEvents('partial-1')).toHaveLength(1);
    } finally {
      await mine.close();
    }
  });

  it('AWS_ENDPOINT_URL alone names all three: nothing starts, no lock is taken, the table is there', async () => {
    // Their stack's DynamoDB, S3 and SQS share no port, so the general variable fits one service
    // only; the per-service ones name all three here, and AWS_ENDPOINT_URL is checked on its own.
    expect(userEndpoints({ AWS_ENDPOINT_URL: 'http://localhost:4566' })).toEqual({
      dynamodb: { url: 'http://localhost:4566', variable: 'AWS_ENDPOINT_URL' },
      s3: { url: 'http://localhost:4566', variable: 'AWS_ENDPOINT_URL' },
      sqs: { url: 'http://localhost:4566', variable: 'AWS_ENDPOINT_URL' },
    });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = theirs.endpoints.dynamodb;
    process.env.AWS_ENDPOINT_URL_S3 = theirs.endpoints.s3;
    process.env.AWS_ENDPOINT_URL_SQS = theirs.endpoints.sqs;
    const notes: string[] = [];
    const external = await openLocalStack(path.join(dir, 'external'), { warn: (n) => notes.push(n) });
    expect(external).toMatchObject({ owner: false, external: true, endpoints: theirs.endpoints });
    expect(notes[0]).toMatch(/instead of starting the embedded emulators$/);
    expect(existsSync(path.join(dir, 'external', 'stack.lock'))).toBe(false);
    expect(await ingestEvents(eventStoreFromEnv(), [makeEvent('session_started', { customerId: 'external-1' })])).toMatchObject({
      accepted: 1,
    });
    expect(await eventStoreFromEnv().listCustomerEvents('external-1')).toHaveLength(1);
  });

  it('values the embedded stack wrote itself are not taken for the user’s (their list travels to child processes in the environment)', async () => {
    const first = await openLocalStack(path.join(dir, 'first'));
    await first.close();
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(first.endpoints.dynamodb);
    expect(process.env[OWN_ENDPOINTS_VARIABLE]).toContain(first.endpoints.dynamodb);
    expect(userEndpoints()).toEqual({});
    const notes: string[] = [];
    const second = await openLocalStack(path.join(dir, 'second'), { warn: (n) => notes.push(n) });
    try {
      expect(second.owner).toBe(true);
      expect(second.endpoints.dynamodb).not.toBe(first.endpoints.dynamodb);
      expect(notes).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
