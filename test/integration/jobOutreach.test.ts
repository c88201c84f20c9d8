import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { customerPk, RISK_SK } from '../../adapters/aws/keys.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { DynamoOutreachStore } from '../../adapters/aws/outreachStore.ts';
import { DynamoRiskStore } from '../../adapters/aws/riskStore.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import { runJob } from '../../app/job.ts';
import { DEFAULT_JOB_CONFIG } from '../../app/jobConfig.ts';
import type { JobDependencies, ScoringModel } from '../../app/ports.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import type { HistoryLike } from '../../model/analytics/churnByMonth.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { OutreachMessage } from '../../model/outreach/message.ts';
import { RunSummary } from '../../model/runSummary.ts';
import { event, tinyMatrix } from '../unit/outreachFactories.ts';

/**
 * The job against the emulators with the real stores (DynamoDB claims and RISK items, SQS, S3),
 * and a fake scorer injected through the job's dependencies: risk = failed payments ÷ 4.
 */

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-job-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
});

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Customers `<prefix>-<i>`: i % 5 failed payments, MRR 1000 + 100·i cents. */
function business(prefix: string, count: number): HistoryLike[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${String(i).padStart(2, '0')}`;
    const events = [event(id, 'subscription_started', '2026-01-05T00:00:00Z', { mrrCents: 1_000 + 100 * i })];
    for (let f = 0; f < i % 5; f++) events.push(event(id, 'payment_failed', `2026-05-0${f + 1}T00:00:00Z`));
    events.push(event(id, 'session_started', '2026-05-20T00:00:00Z'));
    return { customerId: id, events };
  });
}

function matrixOf(histories: HistoryLike[], asOf: string): FeatureMatrix {
  const mrr = histories.map((h) => (h.events[0]?.type === 'subscription_started' ? h.events[0].properties.mrrCents : Number.NaN));
  return tinyMatrix(
    histories.map((h) => h.customerId),
    histories.map((h) => h.events.filter((e) => e.type === 'payment_failed').length),
    mrr,
    asOf,
  );
}

const fakeModel = (): ScoringModel => ({
  version: 'm-fake',
  threshold: 0.3,
  score: (matrix) =>
    matrix.customerIds.map((customerId, row) => {
      const failed = matrix.numeric[row] as number;
      const risk = Math.min(1, failed / 4);
      return {
        customerId,
        risk,
        band: risk >= 0.5 ? ('high' as const) : risk >= 0.3 ? ('medium' as const) : ('low' as const),
        drivers:
          failed > 0
            ? [
                {
                  feature: 'payments.failed_90d',
                  family: 'payments' as const,
                  value: failed,
                  sentence: `${failed} failed payments in the last 90 days`,
                  contribution: failed / 2,
                },
              ]
            : [],
        modelVersion: 'm-fake',
        mrrCents: matrix.mrrCents[row] as number,
        tenureDays: 120,
      };
    }),
  dispose: () => {},
});

function dependencies(
  histories: HistoryLike[],
  overrides: Partial<JobDependencies> = {},
  config: Partial<JobDependencies['config']> = {},
): JobDependencies {
  const table = process.env.TABLE_NAME as string;
  const bucket = process.env.BUCKET_NAME as string;
  return {
    config: { ...DEFAULT_JOB_CONFIG, maxMessages: 10, controlShare: 0, ...config },
    now: () => new Date(),
    log: () => {},
    latestEventAt: async () =>
      histories
        .flatMap((h) => h.events.map((e) => e.occurredAt))
        .sort()
        .at(-1),
    fingerprint: () => 'f'.repeat(64),
    histories: async function* () {
      yield* histories;
    },
    buildDatasets: async () => {
      throw new Error('not used: these tests score only');
    },
    buildScoringMatrix: async (customers, asOf) => {
      const seen: HistoryLike[] = [];
      for await (const h of customers) seen.push(h);
      return matrixOf(seen, asOf);
    },
    train: async () => {
      throw new Error('not used');
    },
    registry: {
      register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
      loadChampion: async () => fakeModel(),
    },
    risks: new DynamoRiskStore(clients.documents, table),
    outreach: new DynamoOutreachLedger(clients.documents, table),
    queue: new SqsOutreachQueue(clients.sqs, process.env.OUTREACH_QUEUE_URL as string),
    runs: new S3RunStore(clients.s3, bucket),
    ...overrides,
  };
}

/** Takes every message off the outreach queue (receive + delete) and returns the parsed bodies. */
async function takeAll(): Promise<OutreachMessage[]> {
  const queueUrl = process.env.OUTREACH_QUEUE_URL as string;
  const taken: OutreachMessage[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages.map((m) => OutreachMessage.parse(JSON.parse(m.Body ?? ''))));
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

const ids = (messages: OutreachMessage[]) => messages.map((m) => m.customerId).sort();

describe('runJob (score) on the emulators', () => {
  const histories = business('full', 20);
  // Eligible (risk ≥ 0.3: 2–4 failures): i % 5 ∈ {2,3,4} → 12 customers; ranked by risk × MRR.
  const eligible = histories.filter((_, i) => i % 5 >= 2).map((h) => h.customerId);
  const expectedLoss = (i: number) => Math.min(1, (i % 5) / 4) * (1_000 + 100 * i);
  const topTen = histories
    .map((h, i) => ({ id: h.customerId, loss: expectedLoss(i) }))
    .filter((c) => eligible.includes(c.id))
    .sort((a, b) => b.loss - a.loss)
    .slice(0, 10)
    .map((c) => c.id)
    .sort();

  // The scenario runs once, in order, whichever of its checks is run (`-t`): each step's result is kept.
  const steps = {} as Record<'first' | 'resumed' | 'within' | 'within2' | 'after', { summary: RunSummary; messages: OutreachMessage[] }> & {
    firstKeys: { summaryKey: string; scoresKey?: string | undefined };
    /** Right after the first run: its stored summary and one customer's RISK item (later runs overwrite it). */
    firstStored: { summary: unknown; risk: Record<string, unknown> | undefined };
  };
  beforeAll(async () => {
    const step = async (asOf: string, config: Partial<JobDependencies['config']> = {}) => {
      const { summary, summaryKey, scoresKey } = await runJob({ mode: 'score', asOf }, dependencies(histories, {}, config));
      return { summary, summaryKey, scoresKey, messages: await takeAll() };
    };
    const first = await step('2026-06-01');
    steps.first = first;
    steps.firstKeys = { summaryKey: first.summaryKey, scoresKey: first.scoresKey };
    const risk = await clients.documents.send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { PK: customerPk('full-04'), SK: RISK_SK } }),
    );
    const summary = await new S3RunStore(clients.s3, process.env.BUCKET_NAME as string).getSummary('score-2026-06-01');
    steps.firstStored = { summary, risk: risk.Item };
    steps.resumed = await step('2026-06-01');
    steps.within = await step('2026-06-05');
    steps.within2 = await step('2026-06-10');
    steps.after = await step('2026-06-16', { maxMessages: 100 });
  });

  it('scores every customer, writes RISK items, snapshot and summary, and sends the best 10 within budget once', () => {
    const { summary, messages } = steps.first;
    const { summaryKey, scoresKey } = steps.firstKeys;
    // Assess
    expect(summary.runId).toBe('score-2026-06-01');
    expect(summaryKey).toBe('runs/score-2026-06-01/summary.json');
    expect(scoresKey).toBe('runs/score-2026-06-01/scores.ndjson');
    expect(ids(messages)).toEqual(topTen);
    expect(new Set(messages.map((m) => m.dedupId)).size).toBe(10);
    expect(messages.every((m) => m.playbook === 'payment_recovery' && m.runId === 'score-2026-06-01')).toBe(true);
    expect(summary.outreach).toEqual({
      selected: 10,
      sent: 10,
      skippedCooldown: 0,
      skippedBudget: 2,
      heldForDunning: 0,
      failed: 0,
      byPlaybook: { payment_recovery: 10 },
      control: 0,
      controlByPlaybook: {},
    });
    expect(summary.scoring.customersScored).toBe(20);
    const { summary: stored, risk } = steps.firstStored;
    expect(RunSummary.parse(stored)).toEqual(summary);
    expect(risk).toMatchObject({
      risk: 1,
      band: 'high',
      playbook: 'payment_recovery',
      modelVersion: 'm-fake',
      runId: 'score-2026-06-01',
    });
    expect(typeof risk?.scoredAt).toBe('string');
  });

  it('re-running the same runId resumes without sending anything twice', () => {
    const { summary, messages } = steps.resumed;
    expect(messages).toEqual([]);
    expect(summary.outreach.sent).toBe(10); // the run's messages, all queued by the first attempt
  });

  it('a later run within the cooldown contacts nobody again, only the customers the budget left out', () => {
    const { summary, messages } = steps.within;
    expect(ids(messages)).toEqual(eligible.filter((id) => !topTen.includes(id)).sort());
    expect(summary.outreach.skippedCooldown).toBe(10);
    expect(steps.within2.messages).toEqual([]);
    expect(steps.within2.summary.outreach.skippedCooldown).toBe(12);
  });

  it('contacts customers again once the cooldown has passed', () => {
    const { summary, messages } = steps.after;
    expect(ids(messages)).toEqual(topTen);
    expect(summary.outreach.skippedCooldown).toBe(2); // the two contacted on 06-05, still within 14 days
  });
});

describe('overlapping runs', () => {
  it('send exactly one message per customer when two runs claim at the same time', async () => {
    const histories = business('race', 15);
    const [a, b] = await Promise.all([
      runJob({ mode: 'score', asOf: '2026-07-01', runId: 'race-a' }, dependencies(histories, {}, { maxMessages: 100 })),
      runJob({ mode: 'score', asOf: '2026-07-01', runId: 'race-b' }, dependencies(histories, {}, { maxMessages: 100 })),
    ]);
    const messages = await takeAll();
    expect(messages).toHaveLength(9); // 15 customers, i % 5 ∈ {2,3,4}
    expect(new Set(messages.map((m) => m.customerId)).size).toBe(9);
    expect(a.summary.outreach.sent + b.summary.outreach.sent).toBe(9);
    expect(a.summary.outreach.skippedCooldown + b.summary.outreach.skippedCooldown).toBe(9);
  });
});

describe('a message over 256 KiB', () => {
  it('fails that customer only, releases their claim, and sends the others', async () => {
    const histories = business('big', 5); // big-02, big-03, big-04 are eligible
    const model = fakeModel();
    const huge: ScoringModel = {
      ...model,
      score: (matrix) =>
        model
          .score(matrix)
          .map((c) => (c.customerId === 'big-04' ? { ...c, drivers: [{ ...c.drivers[0]!, sentence: 'x'.repeat(300 * 1024) }] } : c)),
    };
    const deps = dependencies(histories, {
      registry: {
        register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
        loadChampion: async () => huge,
      },
    });
    const { summary } = await runJob({ mode: 'score', asOf: '2026-08-01', runId: 'big-run' }, deps);
    expect(ids(await takeAll())).toEqual(['big-02', 'big-03']);
    expect(summary.outreach).toMatchObject({ sent: 2, failed: 1 });
    // released: the customer can be claimed by the next run, their failed claim left no OUT# item
    expect(await deps.outreach.list('big-04')).toEqual([]);
    expect(
      await deps.outreach.claim({
        customerId: 'big-04',
        runId: 'next',
        dedupId: 'next:big-04',
        claimAt: '2026-08-02T00:00:00.000Z',
        cooldownDays: 14,
        playbook: 'offer',
        risk: 1,
        modelVersion: 'm',
      }),
    ).toBe('claimed');
  });
});

describe('job input', () => {
  it('rejects a bad mode, a bad runId and a segment worker without its segment, naming the field', async () => {
    const deps = dependencies([]);
    await expect(runJob({ mode: 'fly' } as never, deps)).rejects.toThrow(/mode/);
    await expect(runJob({ mode: 'score', runId: 'a b' }, deps)).rejects.toThrow(/runId/);
    await expect(runJob({ mode: 'score-segment' }, deps)).rejects.toThrow(/segment: score-segment needs segment and totalSegments/);
    await expect(runJob({ mode: 'score-segment', segment: 4, totalSegments: 4 }, deps)).rejects.toThrow(/segment must be below/);
  });

  it('runs a score-segment worker over its segment only, without outreach', async () => {
    const seen: Array<{ totalSegments: number; segments?: number[] }> = [];
    const histories = business('seg', 5);
    const deps = dependencies(histories, {
      histories: (scan) => {
        seen.push(scan);
        return (async function* () {
          yield* histories;
        })();
      },
    });
    const { summary, summaryKey, scoresKey } = await runJob(
      { mode: 'score-segment', asOf: '2026-09-01', segment: 1, totalSegments: 4 },
      deps,
    );
    expect(seen).toEqual([{ totalSegments: 4, segments: [1] }]);
    expect(summaryKey).toBe('runs/score-2026-09-01/segment-1-of-4/summary.json');
    expect(scoresKey).toBe('runs/score-2026-09-01/scores-segment-1-of-4.ndjson');
    expect(summary.outreach.sent).toBe(0);
    expect(await takeAll()).toEqual([]);
  });
});

describe('the champion’s churn definition', () => {
  const INACTIVE_60 = { kind: 'inactive' as const, days: 60 };
  const ownModel = (): ScoringModel => ({ ...fakeModel(), metadata: { trainingWindow: { horizonDays: 60, churn: INACTIVE_60 } } });

  it('decides who a score run scores, whatever the configured default', async () => {
    const questions: unknown[] = [];
    const histories = business('own', 3);
    const deps = dependencies(histories, {
      registry: {
        register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
        loadChampion: async () => ownModel(),
      },
      buildScoringMatrix: async (customers, asOf, question) => {
        questions.push(question);
        for await (const _ of customers);
        return matrixOf(histories, asOf);
      },
    });
    const { summary } = await runJob({ mode: 'score', asOf: '2026-09-02', runId: 'own-definition' }, deps);
    expect(questions).toEqual([{ horizonDays: 60, churn: INACTIVE_60 }]);
    expect(summary.scoring.customersScored).toBe(3);
    await takeAll();
  });

  it('refuses a run whose explicit --churn conflicts with it, naming the model’s definition', async () => {
    const deps = dependencies(
      business('own', 3),
      {
        registry: {
          register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
          loadChampion: async () => ownModel(),
        },
      },
      { requested: { churn: { kind: 'cancelled' } } },
    );
    await expect(runJob({ mode: 'score', asOf: '2026-09-03' }, deps)).rejects.toThrow(
      'model m-fake predicts churn inactive:60d within 60 days (--churn inactive:60d --horizon 60d); --churn cancelled conflicts with it',
    );
  });
});

/** Validation metrics an injected trainer reports: fixed figures, with the row counts of its data. */
const trainerMetrics = (counts: { recallAtThreshold: number; rows: number; positives: number }) => ({
  rocAuc: 0.8,
  prAuc: 0.5,
  logLoss: 0.4,
  brier: 0.1,
  ece: 0.02,
  topDecileLift: 3,
  topDecileRecall: 0.3,
  threshold: 0.3,
  precisionAtThreshold: 0.5,
  ...counts,
});

describe('runJob (train-and-score) with an injected trainer', () => {
  const metrics = trainerMetrics({ recallAtThreshold: 0.6, rows: 10, positives: 3 });

  function trainingDeps(histories: HistoryLike[], counters: { trained: number; registered: number }) {
    return dependencies(histories, {
      buildDatasets: async (customers, asOf) => {
        const seen: HistoryLike[] = [];
        for await (const h of customers) seen.push(h);
        // Training data all without failures; scoring data as is: a drifted payments feature.
        const train = tinyMatrix(
          seen.map((h) => h.customerId),
          seen.map(() => 0),
          seen.map(() => 1_000),
          '2026-09-01T00:00:00.000Z',
        );
        return {
          train,
          validation: train,
          scoring: matrixOf(seen, asOf),
          cutoffs: {
            training: ['2026-08-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
            validation: '2026-09-01T00:00:00.000Z',
            scoring: asOf,
          },
        };
      },
      train: async () => {
        counters.trained++;
        return {
          model: fakeModel(),
          metrics,
          baselineMetrics: { ...metrics, rocAuc: 0.7 },
          gains: [{ populationShare: 0.1, churnersFound: 0.3 }],
          calibration: [{ predicted: 0.2, observed: 0.25, count: 10 }],
          backend: 'cpu',
          trainingMs: 5,
        };
      },
      registry: {
        register: async (_result, context) => {
          counters.registered++;
          expect(context.trainingWindow).toEqual({
            from: '2026-07-01T00:00:00.000Z',
            to: '2026-09-01T00:00:00.000Z',
            cutoffs: ['2026-07-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z'],
            horizonDays: 30,
            churn: { kind: 'cancelled' },
          });
          return { version: 'm-fake', promoted: true, reason: 'beats the baseline', kind: 'mlp' as const };
        },
        loadChampion: async () => fakeModel(),
      },
    });
  }

  // The scenario runs once, in order, whichever of its checks is run (`-t`): each step's result is kept.
  const steps = {} as {
    trained: { summary: RunSummary; counters: { trained: number; registered: number } };
    resumed: { summary: RunSummary; counters: { trained: number; registered: number }; messages: OutreachMessage[] };
    withBaseline: RunSummary;
    without: RunSummary;
  };
  beforeAll(async () => {
    const trainedCounters = { trained: 0, registered: 0 };
    const trained = await runJob(
      { mode: 'train-and-score', asOf: '2026-10-01', runId: 'train-1' },
      trainingDeps(business('tr', 10), trainedCounters),
    );
    steps.trained = { summary: trained.summary, counters: trainedCounters };
    await takeAll();
    const resumedCounters = { trained: 0, registered: 0 };
    const resumed = await runJob(
      { mode: 'train-and-score', asOf: '2026-10-01', runId: 'train-1' },
      trainingDeps(business('tr', 10), resumedCounters),
    );
    steps.resumed = { summary: resumed.summary, counters: resumedCounters, messages: await takeAll() };
    steps.withBaseline = (
      await runJob({ mode: 'score', asOf: '2026-10-02', runId: 'score-drift' }, dependencies(business('tr', 10)))
    ).summary;
    const unknownModel = { ...fakeModel(), version: 'm-without-distribution' };
    steps.without = (
      await runJob(
        { mode: 'score', asOf: '2026-10-02', runId: 'score-nodrift' },
        dependencies(business('tr', 10), {
          registry: {
            register: async () => ({ version: '', promoted: false, reason: '', kind: 'mlp' as const }),
            loadChampion: async () => unknownModel,
          },
        }),
      )
    ).summary;
    await takeAll();
  });

  it('trains, registers, records the decision and churn analytics, measures drift against the training matrix', () => {
    const { summary, counters } = steps.trained;
    expect(counters).toEqual({ trained: 1, registered: 1 });
    expect(summary.training).toMatchObject({
      candidateVersion: 'm-fake',
      promoted: true,
      backend: 'cpu',
      model: { rocAuc: 0.8 },
      baseline: { rocAuc: 0.7 },
    });
    expect(summary.modelVersion).toBe('m-fake');
    expect(summary.drift).toEqual([{ feature: 'payments.failed_90d', psi: expect.any(Number), flagged: true }]);
    expect(summary.churnByMonth.map((m) => m.month)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
    ]);
    expect(summary.churnByMonth.find((m) => m.month === '2026-07')).toMatchObject({ customersAtStart: 0, passive: 0 }); // all gone passively by then
    expect(summary.churnByMonth.find((m) => m.month === '2026-06')).toMatchObject({ customersAtStart: 10, passive: 2, involuntary: 8 }); // 8 left with unrecovered failed payments
    expect(summary.outreach.sent).toBe(6);
  });

  it('does not train again when the same run is resumed', () => {
    const { summary, counters, messages } = steps.resumed;
    expect(counters).toEqual({ trained: 0, registered: 0 });
    expect(summary.training?.candidateVersion).toBe('m-fake');
    expect(messages).toEqual([]);
  });

  it('in score mode measures drift against the champion’s stored training distribution, and skips it when there is none', () => {
    expect(steps.withBaseline.training).toBeNull();
    expect(steps.withBaseline.drift).toHaveLength(1);
    expect(steps.without.drift).toEqual([]);
  });
});

describe('DynamoOutreachStore claims', () => {
  const claim = (store: DynamoOutreachStore, runId: string, claimAt: string) =>
    store.claim({
      customerId: 'lock-1',
      runId,
      dedupId: `${runId}:lock-1`,
      claimAt,
      cooldownDays: 14,
      playbook: 'offer',
      risk: 0.5,
      modelVersion: 'm',
    });

  it('restores the previous claim time on release, so a failed send neither blocks nor frees the customer wrongly', async () => {
    const store = new DynamoOutreachStore(clients.documents, process.env.TABLE_NAME as string);
    expect(await claim(store, 'day-0', '2026-01-01T00:00:00.000Z')).toBe('claimed');
    await store.markQueued('lock-1', 'day-0', 'msg-0');
    expect(await claim(store, 'day-5', '2026-01-06T00:00:00.000Z')).toBe('cooldown');
    expect(await claim(store, 'day-20', '2026-01-21T00:00:00.000Z')).toBe('claimed');
    await store.release('lock-1', 'day-20'); // its message could not be queued
    // Back to the day-0 contact: still in cooldown on day 10, free on day 16.
    expect(await claim(store, 'day-10', '2026-01-11T00:00:00.000Z')).toBe('cooldown');
    expect(await claim(store, 'day-16', '2026-01-17T00:00:00.000Z')).toBe('claimed');
    expect(await claim(store, 'day-16', '2026-01-17T00:00:00.000Z')).toBe('resumed');
    await store.markQueued('lock-1', 'day-16', 'msg-16');
    expect(await claim(store, 'day-16', '2026-01-17T00:00:00.000Z')).toBe('already-sent');
    expect((await store.list('lock-1')).map((r) => [r.runId, r.status])).toEqual([
      ['day-0', 'queued'],
      ['day-16', 'queued'],
    ]);
  });
  it('keeps a control customer out of every other run until its horizon ends, past the cooldown; a contacted one only for the cooldown', async () => {
    const store = new DynamoOutreachStore(clients.documents, process.env.TABLE_NAME as string);
    const request = (customerId: string, runId: string, claimAt: string) => ({
      customerId,
      runId,
      dedupId: `${runId}:${customerId}`,
      claimAt,
      cooldownDays: 14,
      playbook: 'offer',
      risk: 0.5,
      modelVersion: 'm',
    });
    expect(
      await store.claim({ ...request('held', 'c-0', '2026-02-01T00:00:00.000Z'), arm: 'control', holdUntil: '2026-03-03T00:00:00.000Z' }),
    ).toBe('claimed');
    expect(await store.claim(request('contacted', 'c-0', '2026-02-01T00:00:00.000Z'))).toBe('claimed');
    // Day 20: the cooldown is over for both, the horizon (30 days) only for nobody.
    expect(await store.claim(request('held', 'c-20', '2026-02-21T00:00:00.000Z'))).toBe('cooldown');
    expect(await store.claim(request('contacted', 'c-20', '2026-02-21T00:00:00.000Z'))).toBe('claimed');
    // Day 30: the held-out customer's horizon has ended.
    expect(await store.claim(request('held', 'c-30', '2026-03-03T00:00:00.000Z'))).toBe('claimed');
    expect((await store.list('held')).map((r) => [r.runId, r.status])).toEqual([
      ['c-0', 'control'],
      ['c-30', 'claimed'],
    ]);
  });
});

describe('the daily budget', () => {
  it('is shared by every run of the same day, and a failed send gives its unit back', async () => {
    // Prepare: 15 customers, 9 eligible; a day budget of 5
    const histories = business('daily', 15);
    const deps = dependencies(histories, {}, { maxMessages: 5 });
    // Act: two different runs on the same day
    const morning = await runJob({ mode: 'score', asOf: '2026-11-01T06:00:00Z', runId: 'daily-morning' }, deps);
    const evening = await runJob({ mode: 'score', asOf: '2026-11-01T18:00:00Z', runId: 'daily-evening' }, deps);
    const nextDay = await runJob({ mode: 'score', asOf: '2026-11-02T06:00:00Z', runId: 'daily-next' }, deps);
    // Assess
    expect(morning.summary.outreach).toMatchObject({ sent: 5, skippedBudget: 4 });
    expect(evening.summary.outreach).toMatchObject({ sent: 0, skippedCooldown: 5, skippedBudget: 4 });
    expect(nextDay.summary.outreach).toMatchObject({ sent: 4, skippedCooldown: 5 });
    const messages = await takeAll();
    expect(new Set(messages.map((m) => m.customerId)).size).toBe(9);
    const store = deps.outreach as DynamoOutreachLedger;
    expect(await store.budgetUsed('2026-11-01')).toBe(5);
    expect(await store.budgetUsed('2026-11-02')).toBe(4);
    // Releasing a claim (its message could not be queued) gives its unit back.
    const nextDayCustomer = messages.find((m) => m.runId === 'daily-next')!.customerId;
    await store.release(nextDayCustomer, 'daily-next');
    expect(await store.budgetUsed('2026-11-02')).toBe(3);
  });
});

describe('the control group', () => {
  it('holds out a share of the selected customers: recorded as control, never sent, no budget, and in cooldown like the contacted', async () => {
    // Prepare: 50 customers, 30 eligible (all payment_recovery); a budget of 12 and a 25% hold-out
    const histories = business('ctl', 50);
    const deps = dependencies(histories, {}, { maxMessages: 12, controlShare: 0.25 });
    // Act
    const first = await runJob({ mode: 'score', asOf: '2027-01-01', runId: 'ctl-first' }, deps);
    const sent = await takeAll();
    const resumed = await runJob({ mode: 'score', asOf: '2027-01-01', runId: 'ctl-first' }, deps);
    const resent = await takeAll();
    const later = await runJob({ mode: 'score', asOf: '2027-01-05', runId: 'ctl-later' }, deps);
    await takeAll();
    // Assess: the budget counts only the contacted; the control customers are recorded with the same fields
    const { control = 0 } = first.summary.outreach;
    expect(first.summary.outreach).toMatchObject({ sent: 12, selected: 12 });
    expect(control).toBeGreaterThanOrEqual(3);
    expect(first.summary.outreach.controlByPlaybook).toEqual({ payment_recovery: control });
    const ledger = deps.outreach as DynamoOutreachLedger;
    const records = await ledger.records({ runId: 'ctl-first' });
    const held = records.filter((r) => r.status === 'control');
    expect(held).toHaveLength(control);
    expect(new Set(held.map((r) => r.customerId)).size).toBe(control);
    expect(held.some((r) => sent.some((m) => m.customerId === r.customerId))).toBe(false);
    for (const record of held) {
      expect(record).toMatchObject({ playbook: 'payment_recovery', modelVersion: 'm-fake', claimAt: '2027-01-01T00:00:00.000Z' });
      expect(OutreachMessage.parse(JSON.parse(record.body as string)).customerId).toBe(record.customerId);
    }
    expect(await ledger.budgetUsed('2027-01-01')).toBe(12);
    expect((await ledger.openOutreach()).filter((o) => o.runId === 'ctl-first' && held.some((r) => r.customerId === o.customerId))).toEqual(
      [],
    );
    // A resumed run holds out the same customers and sends nobody again
    expect(resent).toEqual([]);
    expect(resumed.summary.outreach.control).toBe(control);
    // Within the cooldown neither group is selected again
    const laterIds = (await ledger.records({ runId: 'ctl-later' })).map((r) => r.customerId);
    expect(laterIds.filter((id) => records.some((r) => r.customerId === id))).toEqual([]);
    expect(later.summary.outreach.skippedCooldown).toBe(12 + control);
    // The later run's summary counts the first run's selections, still within their horizon
    expect(later.summary.outreachEffect?.overall).toMatchObject({
      shown: false,
      treated: { pending: 12, resolved: 0 },
      control: { pending: control, resolved: 0 },
    });
  });

  it('holds out nobody with a share of 0', async () => {
    const deps = dependencies(business('noctl', 20), {}, { maxMessages: 100, controlShare: 0 });
    const { summary } = await runJob({ mode: 'score', asOf: '2027-02-01', runId: 'noctl' }, deps);
    await takeAll();
    expect(summary.outreach).toMatchObject({ sent: 12, control: 0 });
  });
});

describe('scale-out: score-segment workers, then one send step', () => {
  // Prepare: 20 customers over 2 Scan segments (even / odd index); 12 eligible, a budget of 10.
  const histories = business('fan', 20);
  const asOf = '2026-12-01';
  const runId = 'score-2026-12-01';
  const inSegments = (scan: { totalSegments: number; segments?: number[] }) =>
    histories.filter((_, i) => scan.segments === undefined || scan.segments.includes(i % scan.totalSegments));
  const logged: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const fanOutDeps = () =>
    dependencies(histories, {
      histories: (scan) =>
        (async function* () {
          yield* inSegments(scan);
        })(),
      log: (message, fields) => logged.push({ message, ...(fields ? { fields } : {}) }),
    });
  const expectedLoss = (i: number) => Math.min(1, (i % 5) / 4) * (1_000 + 100 * i);
  const bestTen = histories
    .map((h, i) => ({ id: h.customerId, risk: Math.min(1, (i % 5) / 4), loss: expectedLoss(i) }))
    .filter((c) => c.risk >= 0.3)
    .sort((a, b) => b.loss - a.loss)
    .slice(0, 10)
    .map((c) => c.id)
    .sort();

  // The scenario runs once, in order, whichever of its checks is run (`-t`): each step's result is kept.
  const steps = {} as {
    workers: { customersScored: number[]; messages: OutreachMessage[]; risk: Record<string, unknown> | undefined };
    send: { summary: RunSummary; summaryKey: string; scoresKey?: string | undefined; messages: OutreachMessage[]; stored: unknown };
    logged: typeof logged;
    resend: { summary: RunSummary; messages: OutreachMessage[] };
    defaultRunId: { summary: RunSummary; messages: OutreachMessage[] };
  };
  beforeAll(async () => {
    const results = await Promise.all(
      [0, 1].map((segment) => runJob({ mode: 'score-segment', asOf, runId, segment, totalSegments: 2 }, fanOutDeps())),
    );
    const messages = await takeAll();
    const risk = await clients.documents.send(
      new GetCommand({ TableName: process.env.TABLE_NAME, Key: { PK: customerPk('fan-04'), SK: RISK_SK } }),
    );
    steps.workers = { customersScored: results.map((r) => r.summary.scoring.customersScored), messages, risk: risk.Item };
    // A RISK item of this run without its model threshold (written by something else)
    await clients.documents.send(
      new PutCommand({
        TableName: process.env.TABLE_NAME,
        Item: { PK: customerPk('fan-bad'), SK: RISK_SK, customerId: 'fan-bad', risk: 1, band: 'high', runId },
      }),
    );
    logged.length = 0;
    const sent = await runJob({ mode: 'send', runId, asOf }, fanOutDeps());
    steps.send = {
      ...sent,
      messages: await takeAll(),
      stored: await new S3RunStore(clients.s3, process.env.BUCKET_NAME as string).getSummary(runId),
    };
    steps.logged = [...logged];
    const resend = await runJob({ mode: 'send', runId, asOf }, fanOutDeps());
    steps.resend = { summary: resend.summary, messages: await takeAll() };
    const byDefault = await runJob({ mode: 'send', asOf }, fanOutDeps());
    steps.defaultRunId = { summary: byDefault.summary, messages: await takeAll() };
  });

  it('the workers write RISK items with the run and the model threshold, and send nothing', () => {
    const { customersScored, messages, risk } = steps.workers;
    expect(customersScored).toEqual([10, 10]);
    expect(messages).toEqual([]);
    expect(risk).toMatchObject({ runId, threshold: 0.3, modelVersion: 'm-fake', playbook: 'payment_recovery' });
  });

  it('send selects by value across all segments and sends each selected customer once; a bad RISK item is skipped', () => {
    const { summary, summaryKey, scoresKey, messages, stored } = steps.send;
    // Assess
    expect(ids(messages)).toEqual(bestTen);
    expect(new Set(messages.map((m) => m.dedupId)).size).toBe(10);
    expect(messages.every((m) => m.runId === runId && m.modelVersion === 'm-fake')).toBe(true);
    expect(summaryKey).toBe(`runs/${runId}/summary.json`);
    expect(scoresKey).toBeUndefined();
    expect(summary).toMatchObject({ mode: 'send', runId, modelVersion: 'm-fake', training: null, churnByMonth: [], drift: [] });
    // Scoring counts come from this run's 20 RISK items only (the table holds other runs' too).
    expect(summary.scoring.customersScored).toBe(20);
    // 12 above the threshold (risk 0.5, 0.75, 1); each of the 2 workers bands the 5 its share of the budget of 10 reaches high.
    expect(summary.scoring.bands).toEqual({ high: 10, medium: 2, low: 8 });
    expect(summary.outreach).toEqual({
      selected: 10,
      sent: 10,
      skippedCooldown: 0,
      skippedBudget: 2,
      heldForDunning: 0,
      failed: 0,
      byPlaybook: { payment_recovery: 10 },
      control: 0,
      controlByPlaybook: {},
    });
    // Every eligible customer, best expected loss first: the ten sent, then the two over budget.
    expect(summary.topAtRisk).toHaveLength(12);
    expect(
      summary.topAtRisk
        .slice(0, 10)
        .map((c) => c.customerId)
        .sort(),
    ).toEqual(bestTen);
    expect(stored).toEqual(summary);
    expect(steps.logged.find((entry) => entry.message.startsWith('RISK item skipped'))?.fields).toMatchObject({
      pk: customerPk('fan-bad'),
      error: expect.stringMatching(/drivers|playbook|threshold|modelVersion/),
    });
  });

  it('re-running send sends nothing again', () => {
    const { summary, messages } = steps.resend;
    expect(messages).toEqual([]);
    expect(summary.outreach).toMatchObject({ selected: 10, sent: 10, failed: 0 }); // the run's messages, all queued by the first attempt
  });

  it('the default runId of send is the fan-out’s, score-<day>', () => {
    const { summary, messages } = steps.defaultRunId;
    expect(summary.runId).toBe(runId);
    expect(messages).toEqual([]);
  });
});

describe('runJob (score) on a fresh stack, with no champion yet', () => {
  const metrics = trainerMetrics({ recallAtThreshold: 0.5, rows: 20, positives: 4 });

  /** A registry that starts empty and holds whatever is registered; training returns the fake scorer. */
  function freshStackDependencies(histories: HistoryLike[], logged: string[]): JobDependencies {
    let champion: ScoringModel | undefined;
    return dependencies(histories, {
      log: (message) => logged.push(message),
      buildDatasets: async (customers, asOf) => {
        const seen: HistoryLike[] = [];
        for await (const h of customers) seen.push(h);
        const matrix = matrixOf(seen, asOf);
        return { train: matrix, validation: matrix, scoring: matrix, cutoffs: { training: [asOf], validation: asOf, scoring: asOf } };
      },
      train: async () => ({
        model: fakeModel(),
        metrics,
        baselineMetrics: metrics,
        gains: [],
        calibration: [],
        backend: 'cpu',
        trainingMs: 1,
      }),
      registry: {
        register: async (result) => {
          champion = result.model;
          return { version: 'm-fake', promoted: true, reason: 'no champion yet', kind: 'mlp' as const };
        },
        loadChampion: async () => champion,
      },
    });
  }

  it('trains the first model before scoring, and says why in the summary and the log', async () => {
    const histories = business('fresh', 20);
    const logged: string[] = [];
    // Act: the daily schedule's input, as the first run after a deploy gets it.
    const { summary } = await runJob({ mode: 'score', asOf: '2026-09-01' }, freshStackDependencies(histories, logged));
    // Assess
    expect(summary.mode).toBe('score');
    expect(summary.training).toMatchObject({ candidateVersion: 'm-fake', promoted: true, trainedBecause: 'no-champion' });
    expect(summary.modelVersion).toBe('m-fake');
    expect(summary.scoring.customersScored).toBe(20);
    expect(summary.outreach.sent).toBeGreaterThan(0);
    expect(logged).toContain('no champion model: training one first, then scoring (the first run after a deploy)');
    await takeAll();
  });
});
