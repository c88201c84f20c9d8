import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { DynamoRiskStore } from '../../adapters/aws/riskStore.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import { runJob } from '../../app/job.ts';
import { DEFAULT_JOB_CONFIG } from '../../app/jobConfig.ts';
import type { JobDependencies, ScoringModel } from '../../app/ports.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import type { CustomerHistory } from '../../model/features/history.ts';
import { OutreachMessage } from '../../model/outreach/message.ts';
import { dunningOfRow } from '../../model/scoring.ts';
import { useEmulatorStack } from '../helpers/emulatorStack.ts';
import { ev } from '../unit/featuresFixtures.ts';

/**
 * The payment_recovery hold through the job on the emulators: the real feature matrix carries each
 * customer's dunning (from `payment_failed.nextRetryAt`), a scorer passes it on as ChurnModel.score
 * does, and the run neither claims nor sends to a customer Stripe is still retrying; the fan-out's
 * send step reads the same from the RISK items.
 */

const emulators = useEmulatorStack('dunning');

/** `<prefix>-retrying`: a failure on May 30 with a retry announced for June 3; `-final`: the last attempt failed May 20; `-recovered`: failed, then paid. */
function customers(prefix: string): CustomerHistory[] {
  const failed = (id: string, at: string, nextRetryAt?: string): ChurnEvent =>
    ev('payment_failed', at, { amountCents: 4900, reason: 'card_declined', ...(nextRetryAt ? { nextRetryAt } : {}) }, id);
  const history = (suffix: string, events: (id: string) => ChurnEvent[]) => {
    const id = `${prefix}-${suffix}`;
    return {
      customerId: id,
      events: [ev('subscription_started', '2026-01-05T00:00:00Z', { plan: 'pro', mrrCents: 4900 }, id), ...events(id)],
    };
  };
  return [
    history('retrying', (id) => [failed(id, '2026-05-30T00:00:00Z', '2026-06-03T00:00:00Z')]),
    history('final', (id) => [failed(id, '2026-05-20T00:00:00Z')]),
    history('recovered', (id) => [
      failed(id, '2026-05-28T00:00:00Z', '2026-06-03T00:00:00Z'),
      ev('payment_succeeded', '2026-05-31T00:00:00Z', { amountCents: 4900 }, id),
    ]),
  ];
}

/** Everyone at risk for failed payments (payment_recovery), with the dunning the matrix carries. */
const scorer = (): ScoringModel => ({
  version: 'm-dunning',
  threshold: 0.3,
  score: (matrix) =>
    matrix.customerIds.map((customerId, row) => {
      const dunning = dunningOfRow(matrix.paymentDunning, row);
      return {
        customerId,
        risk: 0.9,
        band: 'high' as const,
        drivers: [{ feature: 'payments.failed_90d', family: 'payments' as const, value: 1, sentence: '1 failed payment', contribution: 1 }],
        modelVersion: 'm-dunning',
        mrrCents: matrix.mrrCents[row] as number,
        tenureDays: 140,
        ...(dunning ? { dunning } : {}),
      };
    }),
  dispose: () => {},
});

function dependencies(histories: CustomerHistory[], config: Partial<JobDependencies['config']> = {}): JobDependencies {
  const table = process.env.TABLE_NAME as string;
  return {
    config: { ...DEFAULT_JOB_CONFIG, ...config },
    now: () => new Date(),
    log: () => {},
    latestEventAt: async () => '2026-05-31T00:00:00.000Z',
    fingerprint: () => 'f'.repeat(64),
    histories: async function* () {
      yield* histories;
    },
    buildDatasets: async () => {
      throw new Error('not used: scoring only');
    },
    buildScoringMatrix: async (all, asOf) => buildFeatureMatrix(all as AsyncIterable<CustomerHistory>, asOf),
    train: async () => {
      throw new Error('not used');
    },
    registry: {
      register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
      loadChampion: async () => scorer(),
    },
    risks: new DynamoRiskStore(emulators.clients.documents, table),
    outreach: new DynamoOutreachLedger(emulators.clients.documents, table),
    queue: new SqsOutreachQueue(emulators.clients.sqs, process.env.OUTREACH_QUEUE_URL as string),
    runs: new S3RunStore(emulators.clients.s3, process.env.BUCKET_NAME as string),
  };
}

async function queuedCustomers(): Promise<string[]> {
  const queueUrl = process.env.OUTREACH_QUEUE_URL as string;
  const taken: string[] = [];
  for (;;) {
    const { Messages = [] } = await emulators.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return taken.sort();
    taken.push(...Messages.map((m) => OutreachMessage.parse(JSON.parse(m.Body ?? '')).customerId));
    await emulators.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

describe('payment_recovery while Stripe still retries', () => {
  it('holds the customer whose retry lies ahead, contacts them once the retry has passed', async () => {
    const histories = customers('whole');
    const first = await runJob({ mode: 'score', asOf: '2026-06-01' }, dependencies(histories));
    const firstSent = await queuedCustomers();
    const later = await runJob({ mode: 'score', asOf: '2026-06-04' }, dependencies(histories));
    const laterSent = await queuedCustomers();
    expect(firstSent).toEqual(['whole-final', 'whole-recovered']);
    expect(first.summary.outreach).toMatchObject({ sent: 2, heldForDunning: 1 });
    // The held customer started no cooldown; the two contacted are in theirs.
    expect(laterSent).toEqual(['whole-retrying']);
    expect(later.summary.outreach).toMatchObject({ sent: 1, heldForDunning: 0, skippedCooldown: 2 });
  });

  it('with PAYMENT_RECOVERY_DELAY_HOURS, also holds a failure without an announced retry for that long', async () => {
    const run = await runJob(
      { mode: 'score', asOf: '2026-06-01' },
      dependencies(customers('delay'), { paymentRecoveryDelayHours: 14 * 24 }),
    );
    expect(await queuedCustomers()).toEqual(['delay-recovered']);
    expect(run.summary.outreach.heldForDunning).toBe(2);
  });

  it('the fan-out’s send step holds by the dunning its workers stored on the RISK items', async () => {
    const deps = dependencies(customers('fan'));
    const runId = 'score-fan-dunning';
    await runJob({ mode: 'score-segment', asOf: '2026-06-01', runId, segment: 0, totalSegments: 1 }, deps);
    const sent = await runJob({ mode: 'send', asOf: '2026-06-01', runId }, deps);
    expect(await queuedCustomers()).toEqual(['fan-final', 'fan-recovered']);
    expect(sent.summary.outreach.heldForDunning).toBe(1);
  });
});
