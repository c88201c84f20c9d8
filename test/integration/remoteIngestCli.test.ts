import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTENING, ROOT, spawnCli } from '../helpers/cliProcess.ts';

const SAMPLE = 'examples/sample-events.ndjson';
let dir: string;

/**
 * The environment of a user's shell: none of the AWS variables this test process may carry (an
 * in-process stack of another test sets them), no shared config files, plus `extra`.
 */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^AWS_|^CHURNGUARD_/.test(k)) env[k] = v;
  return {
    ...env,
    AWS_CONFIG_FILE: path.join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...extra,
  };
}

/** Runs the CLI in a child process with `env`; `until` resolves `ready` with its first capture. */
const cli = (args: string[], env: NodeJS.ProcessEnv, until?: RegExp) => spawnCli(args, { env, ...(until ? { until } : {}) });

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDSERVETEST', AWS_SECRET_ACCESS_KEY: 'serve-test-secret', AWS_REGION: 'eu-west-1' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-remote-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each test runs several CLI processes (each a Node start with tsx): more than the default 60 s on a loaded machine. */
const CLI_TEST_MS = 180_000;

describe('ingest and import --endpoint against serve --auth iam', () => {
  let server: ReturnType<typeof cli>;
  let url: string;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = path.join(dir, 'iam');
    server = cli(['serve', '--auth', 'iam', '--port', '0', '--data-dir', dataDir], shellEnv(CREDENTIALS), LISTENING);
    url = await server.ready;
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it(
    'stores every valid event when signed with the credentials serve accepts, reports the rejections in one file, and fails with a clear 403 without credentials',
    async () => {
      const report = path.join(dir, 'rejections.ndjson');
      const signed = await cli(['ingest', '--endpoint', `${url}/events`, SAMPLE, '--report', report, '--json'], shellEnv(CREDENTIALS))
        .exited;
      expect(signed.code).toBe(2);
      expect(JSON.parse(signed.stdout)).toMatchObject({ records: 54, accepted: 52, rejectedCount: 2, unstoredCount: 0 });
      const lines = (await readFile(report, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.source, l.line, l.eventId, l.status])).toEqual([
        [SAMPLE, 21, 'ex-bad-1', 'rejected'],
        [SAMPLE, 41, 'ex-bad-2', 'rejected'],
      ]);
      expect(signed.stderr).toContain(`2 rejected or unstored event(s) written to ${report}`);

      const unsigned = await cli(['ingest', '--endpoint', `${url}/events`, SAMPLE], shellEnv({ AWS_REGION: 'eu-west-1' })).exited;
      expect(unsigned.code).toBe(1);
      expect(unsigned.stderr).toMatch(/refused the request \(403 Forbidden\): Missing Authentication Token: the request is not signed/);
      expect(unsigned.stderr).toContain('no AWS credentials were found in the default chain');
      expect(unsigned.stderr).toContain('churnguard: no AWS credentials in the default chain');

      const wrongSecret = await cli(
        ['ingest', '--endpoint', `${url}/events`, SAMPLE],
        shellEnv({ ...CREDENTIALS, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }),
      ).exited;
      expect(wrongSecret.code).toBe(1);
      expect(wrongSecret.stderr).toMatch(/403 Forbidden\): The request signature we calculated does not match/);

      // Only the signed run stored anything: listed through the serve's own stack.
      const listed = await cli(['events', '--customer', 'ember-labs', '--data-dir', dataDir, '--json'], shellEnv()).exited;
      expect(JSON.parse(listed.stdout)).toHaveLength(10);
    },
    CLI_TEST_MS,
  );

  it(
    'import table and import events --endpoint send every planned event to the API',
    async () => {
      const imported = await cli(
        ['import', 'table', 'test/fixtures/telco-sample.csv', '--id', 'customerID', '--label', 'Churn', '--endpoint', url, '--json'],
        shellEnv(CREDENTIALS),
      ).exited;
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 151, events: 453, stored: 453, unstored: [] });
      const customer = await cli(['events', '--customer', '7590-VHVEG', '--data-dir', dataDir, '--json'], shellEnv()).exited;
      expect((JSON.parse(customer.stdout) as Array<{ type: string }>).map((e) => e.type).sort()).toEqual([
        'customer_profile',
        'session_started',
        'session_started',
      ]);

      const log = await cli(
        ['import', 'events', 'test/fixtures/cdnow-sample.txt', '--customer', 'customer_id', '--time', 'date', '--value', 'dollar_value'],
        shellEnv(CREDENTIALS),
      ).exited;
      // Without --shift-years the 1997 log is refused before anything is sent.
      expect(log.code).toBe(1);
      expect(log.stderr).toContain('--shift-years 3');
      const shifted = await cli(
        [
          ...[
            'import',
            'events',
            'test/fixtures/cdnow-sample.txt',
            '--customer',
            'customer_id',
            '--time',
            'date',
            '--value',
            'dollar_value',
          ],
          '--shift-years',
          '28',
          '--endpoint',
          url,
          '--json',
        ],
        shellEnv(CREDENTIALS),
      ).exited;
      expect(shifted.code).toBe(0);
      expect(JSON.parse(shifted.stdout)).toMatchObject({ imported: 199, stored: 199, unstored: [] });
    },
    CLI_TEST_MS,
  );
});

describe('examples/producer.ts (the package export churnguard/client)', () => {
  it(
    'sends its events through createEventsClient, signed from the environment, to serve --auth iam',
    async () => {
      const dataDir = path.join(dir, 'producer');
      const server = cli(['serve', '--auth', 'iam', '--port', '0', '--data-dir', dataDir], shellEnv(CREDENTIALS), LISTENING);
      try {
        const url = await server.ready;
        const run = (env: NodeJS.ProcessEnv) =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'tsx', 'examples/producer.ts'], {
              cwd: ROOT,
              env,
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (out += d.toString()));
            child.on('close', (code) => resolve({ code, out }));
          });
        const signed = await run(shellEnv({ ...CREDENTIALS, EVENTS_URL: `${url}/events` }));
        expect(signed).toEqual({ code: 0, out: `3 of 3 events accepted by ${url}/events\n` });
        const unsigned = await run(shellEnv({ AWS_REGION: 'eu-west-1', EVENTS_URL: `${url}/events` }));
        expect(unsigned.code).not.toBe(0);
        expect(unsigned.out).toContain('EventsApiAuthError');
        const listed = await cli(['events', '--customer', 'acme-corp', '--data-dir', dataDir, '--json'], shellEnv()).exited;
        expect((JSON.parse(listed.stdout) as Array<{ type: string }>).map((e) => e.type).sort()).toEqual([
          'feature_used',
          'payment_failed',
          'session_started',
        ]);
      } finally {
        server.child.kill('SIGTERM');
      }
      expect((await server.exited).code).toBe(0);
    },
    CLI_TEST_MS,
  );
});

describe('the SDK endpoint variables', () => {
  it(
    'point one CLI process at the stack another one serves: no emulator of its own, a note on stderr, the events land there',
    async () => {
      const servedDir = path.join(dir, 'served');
      const server = cli(['serve', '--port', '0', '--data-dir', servedDir], shellEnv(), LISTENING);
      try {
        await server.ready;
        const { endpoints } = JSON.parse(await readFile(path.join(servedDir, 'stack.json'), 'utf8')) as {
          endpoints: { dynamodb: string; s3: string; sqs: string };
        };
        const pointed = shellEnv({
          AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
          AWS_ENDPOINT_URL_S3: endpoints.s3,
          AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        });
        const otherDir = path.join(dir, 'other');
        const ingest = await cli(['ingest', SAMPLE, '--data-dir', otherDir, '--json'], pointed).exited;
        expect(ingest.code).toBe(2);
        expect(JSON.parse(ingest.stdout)).toMatchObject({ accepted: 52, rejectedCount: 2 });
        expect(ingest.stderr).toContain(
          `using DynamoDB at ${endpoints.dynamodb} (AWS_ENDPOINT_URL_DYNAMODB), S3 at ${endpoints.s3} (AWS_ENDPOINT_URL_S3), SQS at ${endpoints.sqs} (AWS_ENDPOINT_URL_SQS) set in the environment, instead of starting the embedded emulators`,
        );
        // It started nothing in its own data dir and took no lock there.
        for (const file of ['stack.json', 'stack.lock', 'dynamodb', 's3']) expect(existsSync(path.join(otherDir, file))).toBe(false);

        const listedThere = await cli(['events', '--customer', 'ember-labs', '--data-dir', otherDir, '--json'], pointed).exited;
        expect(JSON.parse(listedThere.stdout)).toHaveLength(10);
        // The serving process's own stack has them: a process without the variables joins it by data dir.
        const listedHere = await cli(['events', '--customer', 'ember-labs', '--data-dir', servedDir, '--json'], shellEnv()).exited;
        expect(JSON.parse(listedHere.stdout)).toHaveLength(10);
        expect(listedHere.stderr).not.toContain('set in the environment');
      } finally {
        server.child.kill('SIGTERM');
      }
      expect((await server.exited).code).toBe(0);
    },
    CLI_TEST_MS,
  );
});
