import { assignControl, DEFAULT_CONTROL_SHARE, playbookBandStratum } from '../model/outreach/controlGroup.ts';
import { holdDuringDunning } from '../model/outreach/dunning.ts';
import { buildOutreachMessage, MAX_MESSAGE_BYTES, type OutreachMessage, outreachDedupId } from '../model/outreach/message.ts';
import { allocateOutreach, type RankedCandidate } from '../model/outreach/selection.ts';
import type { RunSummary } from '../model/runSummary.ts';
import type { JobDependencies } from './ports.ts';
import type { Scored } from './scoreCustomers.ts';

/** The run a send belongs to. */
export interface SendingRun {
  runId: string;
  asOf: string;
}

export const emptyOutreach = (): RunSummary['outreach'] => ({
  selected: 0,
  sent: 0,
  skippedCooldown: 0,
  skippedBudget: 0,
  failed: 0,
  byPlaybook: {},
});

/**
 * Claims the best candidates within the budget and queues their messages. A message that cannot
 * be queued releases its claim (the customer stays eligible) and counts as failed. Re-running the
 * same run sends nobody twice: a claim that is already queued counts as sent.
 */
export async function selectAndSend(
  ranked: RankedCandidate<Scored>[],
  run: SendingRun,
  deps: JobDependencies,
): Promise<RunSummary['outreach']> {
  const { runId, asOf } = run;
  const createdAt = deps.now().toISOString();
  const messages = new Map<string, OutreachMessage>();
  // Before any claim: a held customer starts no cooldown and stays eligible once the dunning ends.
  const { eligible, held } = holdDuringDunning(ranked, asOf, deps.config.paymentRecoveryDelayHours);
  if (held.length > 0) deps.log('payment_recovery held while the payment processor retries', { runId, count: held.length, first: held[0] });
  // The control group: a seeded share of the ranking, per playbook × band, recorded but never sent.
  // Seeded by the run, so a resumed run holds out the same customers.
  const control = assignControl(eligible, {
    share: deps.config.controlShare ?? DEFAULT_CONTROL_SHARE,
    seed: `${deps.config.seed}:${runId}`,
    stratum: ({ customer }) => playbookBandStratum(customer),
    id: ({ customer }) => customer.customerId,
  });
  const isControl = ({ customer }: RankedCandidate<Scored>) => control.has(customer.customerId);
  const allocation = await allocateOutreach(
    eligible,
    { maxMessages: deps.config.maxMessages },
    ({ customer }, arm) => {
      const message = buildOutreachMessage({ customer, playbook: customer.playbook, runId, createdAt });
      messages.set(customer.customerId, message);
      const body = JSON.stringify(message);
      return deps.outreach.claim({
        customerId: customer.customerId,
        runId,
        dedupId: outreachDedupId(runId, customer.customerId),
        claimAt: asOf,
        cooldownDays: deps.config.cooldownDays,
        playbook: customer.playbook,
        risk: customer.risk,
        modelVersion: customer.modelVersion,
        dailyBudget: deps.config.maxMessages,
        arm,
        ...(arm === 'control' ? { holdUntil: controlHoldUntil(asOf, deps.config.horizonDays) } : {}),
        // The ledger keeps the body, so reconcile can re-send the very same message (an oversized one fails to queue anyway).
        ...(Buffer.byteLength(body, 'utf8') <= MAX_MESSAGE_BYTES ? { body } : {}),
      });
    },
    isControl,
  );
  const { queued, failed } = await queueClaimed(
    allocation.toSend.map((c) => messages.get(c.customer.customerId) as OutreachMessage),
    allocation.toSend.map((c) => c.customer),
    runId,
    deps,
  );
  if (allocation.alreadySent.length)
    deps.log('resumed run: messages already queued were not sent again', { runId, count: allocation.alreadySent.length });
  const sentCustomers = [...queued, ...allocation.alreadySent.map((c) => c.customer)];
  const byPlaybook: Record<string, number> = {};
  for (const { playbook } of sentCustomers) byPlaybook[playbook] = (byPlaybook[playbook] ?? 0) + 1;
  const controlByPlaybook: Record<string, number> = {};
  for (const { customer } of allocation.control) controlByPlaybook[customer.playbook] = (controlByPlaybook[customer.playbook] ?? 0) + 1;
  return {
    selected: allocation.toSend.length + allocation.alreadySent.length,
    sent: sentCustomers.length,
    skippedCooldown: allocation.skippedCooldown,
    skippedBudget: allocation.skippedBudget,
    heldForDunning: held.length,
    failed,
    byPlaybook,
    control: allocation.control.length,
    controlByPlaybook,
  };
}

/** Sends the claimed customers' messages; marks each queued, or releases the claim of one that failed. */
/** Sends the claimed customers' messages; marks each queued, or releases its claim when SQS refused it. */
export async function queueClaimed<C extends { customerId: string }>(
  messages: OutreachMessage[],
  customers: C[],
  runId: string,
  deps: Pick<JobDependencies, 'queue' | 'outreach' | 'log'>,
): Promise<{ queued: C[]; failed: number }> {
  const outcomes = messages.length ? await deps.queue.send(messages) : [];
  const queued: C[] = [];
  let failed = 0;
  for (const [i, outcome] of outcomes.entries()) {
    const customer = customers[i] as C;
    if (outcome.ok) {
      await deps.outreach.markQueued(customer.customerId, runId, outcome.messageId);
      queued.push(customer);
    } else {
      failed++;
      deps.log('outreach message not queued', { runId, customerId: customer.customerId, error: outcome.error });
      await deps.outreach.release(customer.customerId, runId);
    }
  }
  return { queued, failed };
}

/** The end of a held-out customer's horizon: no run contacts them before it (the effect counts them as untreated until then). */
export const controlHoldUntil = (asOf: string, horizonDays: number): string =>
  new Date(Date.parse(asOf) + horizonDays * 86_400_000).toISOString();
