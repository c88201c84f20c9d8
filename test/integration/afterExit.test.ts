import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { DynamoRiskStore } from '../../adapters/aws/riskStore.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import { runJob } from '../../app/job.ts';
import { DEFAULT_JOB_CONFIG } from '../../app/jobConfig.ts';
import type { JobDependencies } from '../../app/ports.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { OutreachMessage } from '../../model/outreach/message.ts';
import type { RunSummary } from '../../model/runSummary.ts';
import { useEmulatorStack } from '../helpers/emulatorStack.ts';
import { event, tinyMatrix } from '../unit/outreachFactories.ts';

/**
 * The after-exit step against the emulators with the real ledger (DynamoDB), queue (SQS) and run
 * store (S3): customers who cancelled on 2026-05-01 for a price reason, because the need ended,
 * without a reason, and one who cancelled long before; one still active. The step runs on
 * several days; between two runs the price customer comes back and the silent one answers the
 * exit survey.
 */

const emulators = useEmulatorStack('after-exit');

/** A customer whose events the scenario may add to between runs. */
interface History {
  customerId: string;
  events: ChurnEvent[];
}

const cancelled = (id: string, on: string, properties: Record<string, unknown>, mrrCents = 5_000): History => ({
  customerId: id,
  events: [
    event(id, 'subscription_started', '2026-01-05T00:00:00Z', { plan: 'pro', mrrCents }),
    event(id, 'session_started', new Date(Date.parse(on) - 2 * 86_400_000).toISOString()),
    event(id, 'subscription_cancelled', on, properties),
  ],
});

/** The scenarios specify who is contacted, so no control group unless a test asks for one. */
function dependencies(histories: History[], controlShare = 0): JobDependencies {
  const table = process.env.TABLE_NAME as string;
  return {
    config: { ...DEFAULT_JOB_CONFIG, maxMessages: 10, controlShare },
    now: () => new Date(),
    log: () => {},
    latestEventAt: async () => undefined,
    fingerprint: () => 'f'.repeat(64),
    histories: async function* () {
      // Each history's events sorted by time, as the store returns them.
      yield* histories.map((h) => ({ ...h, events: [...h.events].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1)) }));
    },
    buildDatasets: async () => {
      throw new Error('not used by the after-exit step');
    },
    buildScoringMatrix: async () => {
      throw new Error('not used by the after-exit step');
    },
    train: async () => {
      throw new Error('not used');
    },
    registry: {
      register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
      loadChampion: async () => undefined,
    },
    risks: new DynamoRiskStore(emulators.clients.documents, table),
    outreach: new DynamoOutreachLedger(emulators.clients.documents, table),
    queue: new SqsOutreachQueue(emulators.clients.sqs, process.env.OUTREACH_QUEUE_URL as string),
    runs: new S3RunStore(emulators.clients.s3, process.env.BUCKET_NAME as string),
  };
}

async function takeAll(): Promise<OutreachMessage[]> {
  const queueUrl = process.env.OUTREACH_QUEUE_URL as string;
  const taken: OutreachMessage[] = [];
  for (;;) {
    const { Messages = [] } = await emulators.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages.map((m) => OutreachMessage.parse(JSON.parse(m.Body ?? ''))));
    await emulators.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

const sent = (messages: OutreachMessage[]) => messages.map((m) => `${m.playbook}:${m.customerId}`).sort();

describe('the after-exit step (mode after-exit) on the emulators', () => {
  const histories: History[] = [
    cancelled('price', '2026-05-01T10:00:00Z', { reasonCode: 'price', comment: 'too dear for us' }),
    cancelled('need', '2026-05-01T10:00:00Z', { reasonCode: 'no_longer_needed' }),
    cancelled('silent', '2026-05-01T10:00:00Z', {}),
    cancelled('old', '2026-03-01T10:00:00Z', { reasonCode: 'price' }),
    {
      customerId: 'active',
      events: [event('active', 'subscription_started', '2026-01-05T00:00:00Z'), event('active', 'session_started', '2026-05-25T00:00:00Z')],
    },
  ];
  const steps = {} as Record<
    'early' | 'inWindow' | 'resumed' | 'later' | 'afterReturn',
    { summary: RunSummary; messages: OutreachMessage[] }
  >;

  beforeAll(async () => {
    const step = async (asOf: string) => {
      const { summary } = await runJob({ mode: 'after-exit', asOf }, dependencies(histories));
      return { summary, messages: await takeAll() };
    };
    await takeAll();
    steps.early = await step('2026-05-05');
    steps.inWindow = await step('2026-05-10');
    steps.resumed = await step('2026-05-10');
    // The silent customer answers the exit survey; the price customer comes back after the offer.
    histories[2]?.events.push(event('silent', 'survey_response', '2026-05-06T12:00:00Z', { score: 2, exitReasonCode: 'competitor' }));
    steps.later = await step('2026-05-20');
    histories[0]?.events.push(event('price', 'subscription_reactivated', '2026-05-15T09:00:00Z', { plan: 'pro', mrrCents: 5_000 }));
    steps.afterReturn = await step('2026-06-01');
  }, 60_000);

  it('asks the customer who gave no reason, once; offers nobody a win-back before the window opens (day 7)', () => {
    expect(sent(steps.early.messages)).toEqual(['exit_survey:silent']);
    expect(steps.early.summary.afterExit).toMatchObject({ exitSurveys: { candidates: 1, sent: 1 }, winBack: { candidates: 0, sent: 0 } });
    expect(steps.early.messages[0]?.afterExit).toEqual({ cancelledAt: '2026-05-01T10:00:00.000Z' });
  });

  it('sends exactly one win-back, with the offer that fits the reason, to the avoidable leaver inside the window', () => {
    expect(sent(steps.inWindow.messages)).toEqual(['win_back:price']);
    const message = steps.inWindow.messages[0];
    expect(message?.afterExit).toMatchObject({ reasonCode: 'price', offer: 'discount_or_cheaper_plan', pReturn: 0.15 });
    expect(message?.afterExit?.expectedValueCents).toBeCloseTo(0.15 * 5_000);
    // Re-running the same day sends nothing new (the claim is already queued), and no later run sends a second one.
    expect(steps.resumed.messages).toEqual([]);
    expect(steps.later.messages.filter((m) => m.customerId === 'price')).toEqual([]);
    expect(steps.later.summary.afterExit?.alreadyContacted).toBeGreaterThanOrEqual(1);
  });

  it('never contacts the customer whose need ended, nor one outside the window, nor an active customer', () => {
    const all = Object.values(steps).flatMap((s) => s.messages);
    expect(all.filter((m) => ['need', 'old', 'active'].includes(m.customerId))).toEqual([]);
  });

  it('offers a win-back once the exit survey gives an avoidable reason, and no second survey', () => {
    expect(sent(steps.later.messages)).toEqual(['win_back:silent']);
    expect(steps.later.messages[0]?.afterExit).toMatchObject({ reasonCode: 'competitor', offer: 'comparison' });
  });

  it('sends nothing after the customer came back, and counts them in the funnel as reactivated', () => {
    expect(steps.afterReturn.messages).toEqual([]);
    expect(steps.afterReturn.summary.afterExit?.funnel).toEqual({
      selected: 0,
      contacted: 2,
      reactivated: 1,
      heldOut: 0,
      control: 0,
      controlReactivated: 0,
    });
  });

  it('splits the churn of the run by reason and avoidability in its summary', () => {
    const may = steps.afterReturn.summary.churnByReason?.find((row) => row.month === '2026-05');
    expect(may).toMatchObject({ avoidable: 2, unavoidable: 1, unknown: 0 });
    expect(may?.byReason).toMatchObject({ price: 1, no_longer_needed: 1, competitor: 1 });
  });
});

describe('the after-exit step with a control group', () => {
  it('holds out its share of the win-back candidates as control: recorded, never sent, counted apart in the funnel with their returns', async () => {
    const leavers = Array.from({ length: 10 }, (_, i) =>
      cancelled(`ctl-${i}`, '2026-05-01T10:00:00Z', { reasonCode: 'price' }, 4_000 + 100 * i),
    );
    await takeAll();
    const first = await runJob({ mode: 'after-exit', asOf: '2026-05-10', runId: 'after-exit-control' }, dependencies(leavers, 0.5));
    const messages = await takeAll();
    const ledger = new DynamoOutreachLedger(emulators.clients.documents, process.env.TABLE_NAME as string);
    const records = (await Promise.all(leavers.map((h) => ledger.list(h.customerId)))).flat();
    const control = records.filter((r) => r.status === 'control').map((r) => r.customerId);
    // Half of one stratum (price) of 10: exactly 5 held out, the other 5 offered a win-back.
    expect(control).toHaveLength(5);
    expect(first.summary.afterExit?.winBack).toMatchObject({ candidates: 10, heldOut: 5, sent: 5 });
    expect(messages.map((m) => m.customerId).sort()).toEqual(
      leavers
        .map((h) => h.customerId)
        .filter((id) => !control.includes(id))
        .sort(),
    );
    // Two held-out and one contacted customer come back; a later run sends nothing more to anyone.
    const contacted = messages.map((m) => m.customerId);
    for (const id of [control[0], control[1], contacted[0]]) {
      leavers.find((h) => h.customerId === id)?.events.push(event(id as string, 'subscription_reactivated', '2026-05-15T09:00:00Z'));
    }
    const later = await runJob({ mode: 'after-exit', asOf: '2026-05-20', runId: 'after-exit-control-later' }, dependencies(leavers, 0.5));
    expect(await takeAll()).toEqual([]);
    expect(later.summary.afterExit?.funnel).toMatchObject({ contacted: 5, reactivated: 1, control: 5, controlReactivated: 2 });
  });
});

describe('a score run on the emulators', () => {
  it('runs the after-exit step after the at-risk selection, on the same scan, and reports it in its summary', async () => {
    const histories: History[] = [
      cancelled('score-price', '2026-05-01T10:00:00Z', { reasonCode: 'missing_feature' }, 9_900),
      cancelled('score-need', '2026-05-01T10:00:00Z', { reasonCode: 'no_longer_needed' }),
    ];
    const deps: JobDependencies = {
      ...dependencies(histories),
      buildScoringMatrix: async (customers, asOf) => {
        for await (const _ of customers);
        return tinyMatrix([], [], [], asOf);
      },
      registry: {
        register: async () => ({ version: 'x', promoted: false, reason: '', kind: 'mlp' as const }),
        loadChampion: async () => ({ version: 'm-none', threshold: 0.5, score: () => [], dispose: () => {} }),
      },
    };
    await takeAll();
    const { summary } = await runJob({ mode: 'score', asOf: '2026-05-12', runId: 'score-with-after-exit' }, deps);
    const messages = await takeAll();
    expect(sent(messages)).toEqual(['win_back:score-price']);
    expect(messages[0]?.afterExit).toMatchObject({ reasonCode: 'missing_feature', offer: 'feature_news' });
    expect(summary.afterExit?.winBack).toMatchObject({ candidates: 1, sent: 1, byReason: { missing_feature: 1 } });
    // The at-risk outreach counts stay the at-risk step's own.
    expect(summary.outreach.sent).toBe(0);
    expect(summary.churnByReason?.find((row) => row.month === '2026-05')).toMatchObject({ avoidable: 1, unavoidable: 1 });
  });
});
