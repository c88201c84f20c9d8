import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestRunSummary, ingestExitCode, ingestFile, ingestFiles } from '../../cli/commands/ingest.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { ROOT, spawnCli } from '../helpers/cliProcess.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

let dir: string;

/** Runs the CLI in a child process (one node process: tsx as an import hook). */
const cli = (args: string[], options: { until?: RegExp } = {}) => spawnCli(args, options);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ingestFile (what the demo calls)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await openLocalStack(path.join(dir, 'files'));
  });
  afterAll(async () => {
    await stack.close();
  });

  it('ingests the example NDJSON: 52 accepted, the 2 bad lines rejected by line with reasons', async () => {
    const progress: number[] = [];
    const summary = await ingestFile(path.join(ROOT, 'examples/sample-events.ndjson'), eventStoreFromEnv(), (p) =>
      progress.push(p.bytesRead),
    );
    expect(summary).toMatchObject({ format: 'ndjson', records: 54, accepted: 52, rejectedCount: 2, unstoredCount: 0 });
    expect(summary.rejected.map((r) => [r.line, r.eventId, r.errors[0]?.path])).toEqual([
      [21, 'ex-bad-1', 'properties.amountCents'],
      [41, 'ex-bad-2', 'occurredAt'],
    ]);
    expect(progress.length).toBeGreaterThan(0);
    expect(await eventStoreFromEnv().listCustomerEvents('blue-fern')).toHaveLength(8);
  });

  it('ingests a JSON array and a CSV file through the same validation, in request-sized chunks', async () => {
    const events = Array.from({ length: 603 }, (_, i) =>
      makeEvent('feature_used', { customerId: 'bulk', eventId: `b-${i}`, properties: { feature: 'f', quantity: i } }),
    );
    const jsonFile = path.join(dir, 'bulk.json');
    await writeFile(jsonFile, JSON.stringify([...events, { eventId: 'broken' }], null, 1));
    const csvFile = path.join(dir, 'events.csv');
    await writeFile(
      csvFile,
      'eventId,customerId,type,occurredAt,properties.feature,properties.quantity\ncsv-1,csvcust,feature_used,2026-01-01T00:00:00Z,reports,3\ncsv-2,csvcust,feature_used,not-a-time,reports,1\n',
    );
    const run = await ingestFiles([jsonFile, csvFile], eventStoreFromEnv(), undefined);
    expect(run.files.map((f) => [f.format, f.records, f.accepted, f.rejected])).toEqual([
      ['json', 604, 603, 1],
      ['csv', 2, 1, 1],
    ]);
    expect(run.rejected.map((r) => [path.basename(r.file), r.index, r.errors[0]?.path])).toEqual([
      ['bulk.json', 603, 'type'],
      ['events.csv', 1, 'occurredAt'],
    ]);
    expect(await eventStoreFromEnv().listCustomerEvents('bulk')).toHaveLength(603);
    expect(ingestExitCode(run)).toBe(2);
  });

  it('reports a file that cannot be read and still ingests the others', async () => {
    const bad = path.join(dir, 'object.json');
    await writeFile(bad, '{"events": 1}');
    const run = await ingestFiles([path.join(dir, 'missing.ndjson'), bad], eventStoreFromEnv(), 'json');
    expect(run.files.map((f) => f.error)).toEqual([expect.stringContaining('ENOENT'), expect.stringContaining('expected a JSON array')]);
    expect(ingestExitCode(run)).toBe(1);
  });

  it('exit codes: 0 all accepted, 2 some rejected, 1 unstored events', () => {
    const run = (over: Partial<IngestRunSummary>): IngestRunSummary => ({
      files: [],
      records: 1,
      accepted: 1,
      rejectedCount: 0,
      unstoredCount: 0,
      rejected: [],
      unstored: [],
      ...over,
    });
    expect([
      ingestExitCode(run({})),
      ingestExitCode(run({ rejectedCount: 1 })),
      ingestExitCode(run({ rejectedCount: 1, unstoredCount: 1 })),
    ]).toEqual([0, 2, 1]);
  });
});

describe('churnguard CLI', () => {
  it('`serve` answers POST /events through the Lambda handler, `ingest` joins its stack and exits 2 on rejections, SIGTERM stops it cleanly', async () => {
    const dataDir = path.join(dir, 'serve');
    const server = cli(['serve', '--port', '0', '--data-dir', dataDir], {
      until: /churnguard API listening on (http:\/\/127\.0\.0\.1:\d+)/,
    });
    try {
      const url = (await server.ready).replace('churnguard API listening on ', '');
      const health = await fetch(`${url}/health`);
      const post = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: `${JSON.stringify(makeEvent('session_started', { customerId: 'served' }))}\nnope\n`,
      });
      expect(health.status).toBe(200);
      expect(post.status).toBe(207);
      expect(await post.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1 }] });

      const ingest = await cli(['ingest', 'examples/sample-events.ndjson', '--data-dir', dataDir, '--json']).exited;
      expect(ingest.code).toBe(2);
      expect(JSON.parse(ingest.stdout)).toMatchObject({ accepted: 52, rejectedCount: 2, rejected: [{ line: 21 }, { line: 41 }] });

      const joined = await openLocalStack(dataDir);
      expect(joined.owner).toBe(false);
      expect(await eventStoreFromEnv().listCustomerEvents('served')).toHaveLength(1);
      expect(await eventStoreFromEnv().listCustomerEvents('ember-labs')).toHaveLength(10);
    } finally {
      server.child.kill('SIGTERM');
    }
    const { code, stderr } = await server.exited;
    expect(code).toBe(0);
    expect(stderr).toContain('SIGTERM, shutting down');
  });
});
