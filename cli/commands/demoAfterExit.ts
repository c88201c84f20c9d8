import type { JobResult } from '../../app/job.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { ingestEvents } from '../../model/events/ingest.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { AfterExitSummary } from '../../model/outreach/afterExitSummary.ts';
import { type OutreachMessage, OutreachMessage as OutreachMessageSchema } from '../../model/outreach/message.ts';
import { type CustomerTruth, simulateAfterExitResponse } from '../../model/simulate/index.ts';
import type { ReceivedDelivery } from '../report/webhookReceiver.ts';
import { runLocalJob } from './run.ts';

/**
 * The demo's after-exit part: the job at the window's end ran the after-exit step (exit surveys,
 * win-back); here the simulated customers' answers and returns are fed back into the event store,
 * and the step runs again alone (`mode: 'after-exit'`) `FOLLOW_UP_DAYS` later, which sees the returns (the win-back funnel), sends nothing to a
 * customer who came back, and offers a win-back to customers whose survey answer gave an
 * avoidable reason.
 */
export const FOLLOW_UP_DAYS = 21;

export interface AfterExitDemo {
  /** The step at the window's end (part of the job's run). */
  first: AfterExitSummary;
  /** The step FOLLOW_UP_DAYS later: its funnel counts the returns. */
  followUp: AfterExitSummary;
  followUpAsOf: string;
  /** What the simulated customers did with the messages delivered at the window's end. */
  responses: { exitSurveysDelivered: number; exitSurveyAnswers: number; winBacksDelivered: number; reactivations: number };
  /** The win-back messages delivered at the window's end, with the customers' true reasons (for checks against the truth). */
  winBacks: Array<{
    customerId: string;
    reasonCode?: string | undefined;
    offer?: string | undefined;
    trueReason: string | null;
    returned: boolean;
  }>;
  /** The messages the follow-up step delivered. */
  followUpMessages: Array<{ customerId: string; playbook: string; reasonCode?: string | undefined }>;
}

/** The after-exit step at `asOf`, on the local stack, with the demo's budget. */
export const afterExitStep = (dataDir: string, asOf: string, budget: number | undefined): Promise<JobResult> =>
  runLocalJob(dataDir, { mode: 'after-exit', asOf }, budget === undefined ? {} : { maxMessages: budget });

/** The after-exit messages among the deliveries (each parsed against the contract once). */
export function afterExitMessages(deliveries: readonly ReceivedDelivery[]): OutreachMessage[] {
  const seen = new Set<string>();
  const messages: OutreachMessage[] = [];
  for (const delivery of deliveries) {
    const parsed = OutreachMessageSchema.safeParse(delivery.body);
    if (!parsed.success || (parsed.data.playbook !== 'exit_survey' && parsed.data.playbook !== 'win_back')) continue;
    if (seen.has(parsed.data.dedupId)) continue;
    seen.add(parsed.data.dedupId);
    messages.push(parsed.data);
  }
  return messages;
}

/**
 * Feeds the simulated answers to the delivered after-exit messages back through ingest, then runs
 * the follow-up step. Deterministic: the same seed and messages give the same events (same ids,
 * so a second demo run stores nothing new).
 */
export async function feedBackAndFollowUp(input: {
  dataDir: string;
  seed: number;
  sentAt: string;
  truth: readonly CustomerTruth[];
  delivered: readonly OutreachMessage[];
  first: AfterExitSummary;
  budget: number | undefined;
  /** Delivers what the follow-up step queued (the demo's delivery step). */
  deliver: (expected: number) => Promise<{ messages: ReceivedDelivery[] }>;
}): Promise<{ demo: AfterExitDemo; followUp: JobResult }> {
  const truthOf = new Map(input.truth.map((t) => [t.customerId, t]));
  const events: ChurnEvent[] = [];
  const responses = { exitSurveysDelivered: 0, exitSurveyAnswers: 0, winBacksDelivered: 0, reactivations: 0 };
  const winBacks: AfterExitDemo['winBacks'] = [];
  for (const message of input.delivered) {
    const truth = truthOf.get(message.customerId);
    if (!truth) continue;
    const kind = message.playbook as 'exit_survey' | 'win_back';
    const offer = message.afterExit?.offer as Parameters<typeof simulateAfterExitResponse>[2]['offer'];
    const answer = simulateAfterExitResponse(
      input.seed,
      { customerId: truth.customerId, exitReason: truth.exitReason, plan: truth.plan, mrrCents: truth.mrrCents },
      { kind, sentAt: input.sentAt, ...(offer ? { offer } : {}) },
    );
    events.push(...answer);
    if (kind === 'exit_survey') {
      responses.exitSurveysDelivered++;
      responses.exitSurveyAnswers += answer.length;
    } else {
      responses.winBacksDelivered++;
      responses.reactivations += answer.length;
      winBacks.push({
        customerId: message.customerId,
        reasonCode: message.afterExit?.reasonCode,
        offer: message.afterExit?.offer,
        trueReason: truth.exitReason,
        returned: answer.length > 0,
      });
    }
  }
  if (events.length > 0) {
    const outcome = await ingestEvents(eventStoreFromEnv(), events);
    if (outcome.rejected.length > 0 || outcome.unstored.length > 0)
      throw new Error(
        `the simulated after-exit answers were not all stored: ${outcome.rejected.length} rejected, ${outcome.unstored.length} unstored`,
      );
  }
  const followUpAsOf = new Date(Date.parse(input.sentAt) + FOLLOW_UP_DAYS * 86_400_000).toISOString();
  const followUp = await afterExitStep(input.dataDir, followUpAsOf, input.budget);
  const summary = followUp.summary.afterExit;
  if (!summary) throw new Error('the after-exit step wrote no afterExit summary');
  const followUpDelivered =
    followUp.summary.outreach.sent > 0 ? afterExitMessages((await input.deliver(followUp.summary.outreach.sent)).messages) : [];
  const followUpMessages = followUpDelivered.map((m) => ({
    customerId: m.customerId,
    playbook: m.playbook,
    reasonCode: m.afterExit?.reasonCode,
  }));
  return { demo: { first: input.first, followUp: summary, followUpAsOf, responses, winBacks, followUpMessages }, followUp };
}
