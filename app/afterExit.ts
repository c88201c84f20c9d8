import { type ChurnKindRules, type HistoryLike, MonthlyChurnAccumulator } from '../model/analytics/churnByMonth.ts';
import { avoidableReasons, type ExitReasonCode } from '../model/events/exitReasons.ts';
import type { AfterExitSummary } from '../model/outreach/afterExitSummary.ts';
import { assignControl, DEFAULT_CONTROL_SHARE } from '../model/outreach/controlGroup.ts';
import { buildOutreachMessage, MAX_MESSAGE_BYTES, type OutreachMessage, outreachDedupId } from '../model/outreach/message.ts';
import { allocateOutreach, type RankedCandidate } from '../model/outreach/selection.ts';
import {
  type AfterExitCandidate,
  type AfterExitConfig,
  afterExitOf,
  type CustomerAfterExit,
  DEFAULT_AFTER_EXIT_CONFIG,
  ReturnModelTrainer,
  rankAfterExit,
} from '../model/outreach/winBack.ts';
import { type RunSummary, SUMMARY_VERSION } from '../model/runSummary.ts';
import type { ScoredCustomer } from '../model/scoring.ts';
import { ExitAnalytics } from './exitAnalytics.ts';
import type { JobResult, Run } from './job.ts';
import type { JobDependencies, OutreachRecord } from './ports.ts';
import { controlHoldUntil, queueClaimed, type SendingRun } from './selectAndSend.ts';

const DAY_MS = 86_400_000;

/** Ledger Queries in flight while the after-exit step reads its leavers' records. */
const LEDGER_READ_CONCURRENCY = 16;
/** A candidate as allocateOutreach sees it (it ranks ScoredCustomers). */
type Claimable = ScoredCustomer & { candidate: AfterExitCandidate };

/**
 * The after-exit step: from one scan of the histories, the customers who cancelled recently, the
 * P(return) model (point in time: only cancellations whose label is known at asOf) and the funnel;
 * then, through the same ledger, daily budget and cooldown as the at-risk outreach:
 * - a cancellation without a known reason gets one `exit_survey` message, once per cancellation;
 * - a cancellation for an avoidable reason gets one `win_back` message inside its window
 *   (default 7–60 days), ranked by P(return) × MRR, with the offer that fits the reason;
 * - a customer who came back, or left for an unavoidable reason, gets nothing.
 * Every run that sends at-risk outreach (score, train-and-score) runs it after the at-risk
 * selection, on the same scan, with what is left of the day's budget; `mode: 'after-exit'` runs it
 * alone. Re-running the same run id sends nobody twice (the claim says already-sent).
 */
export class AfterExitCollector {
  readonly #asOf: string;
  readonly #asOfMs: number;
  readonly #config: AfterExitConfig;
  readonly #rules: ChurnKindRules;
  readonly #avoidable: ReadonlySet<ExitReasonCode>;
  readonly #trainer: ReturnModelTrainer;
  readonly #candidates: NonNullable<CustomerAfterExit['candidate']>[] = [];
  /** Customers whose latest exit is recent enough to have had a win-back within the funnel's span. */
  readonly #recent: Array<{ customerId: string; returnedAtMs?: number }> = [];
  readonly #recentFromMs: number;

  constructor(asOf: string, config: AfterExitConfig, rules: ChurnKindRules) {
    this.#asOf = asOf;
    this.#asOfMs = Date.parse(asOf);
    this.#config = config;
    this.#rules = rules;
    this.#avoidable = avoidableReasons(config.exitReasons);
    this.#trainer = new ReturnModelTrainer(this.#asOfMs, config.returnHorizonDays);
    this.#recentFromMs = this.#asOfMs - (config.windowMaxDays + config.returnHorizonDays) * DAY_MS;
  }

  add(history: HistoryLike): void {
    const { exits, candidate } = afterExitOf(history.customerId, history.events, this.#asOf, this.#config, this.#rules, this.#avoidable);
    for (const exit of exits) this.#trainer.addExit(exit);
    if (candidate) this.#candidates.push(candidate);
    const latest = exits.at(-1);
    if (latest?.cancelled && latest.endedAtMs >= this.#recentFromMs)
      this.#recent.push({
        customerId: history.customerId,
        ...(latest.returnedAtMs === undefined ? {} : { returnedAtMs: latest.returnedAtMs }),
      });
  }

  /** Ranks, claims and queues; the `afterExit` part of the run summary and its outreach counts. */
  async send(run: SendingRun, deps: JobDependencies): Promise<{ afterExit: AfterExitSummary; outreach: RunSummary['outreach'] }> {
    const config = this.#config;
    const model = this.#trainer.model();
    const ranked = rankAfterExit(this.#candidates, model, deps.config.unknownMrrValueCents);
    const ledger = new Map<string, OutreachRecord[]>();
    // One Query per recent leaver: a few at a time, not one after another (thousands at scale).
    const pending = this.#recent.map(({ customerId }) => customerId);
    const worker = async () => {
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) ledger.set(id, await deps.outreach.list(id));
    };
    await Promise.all(Array.from({ length: LEDGER_READ_CONCURRENCY }, worker));
    const sent = await sendAfterExit(ranked, run, deps, ledger, config.returnHorizonDays);
    const funnel = winBackFunnel(this.#recent, ledger, this.#asOfMs, config.returnHorizonDays, sent.selected);
    const afterExit: AfterExitSummary = {
      windowMinDays: config.windowMinDays,
      windowMaxDays: config.windowMaxDays,
      returnHorizonDays: config.returnHorizonDays,
      ...sent.counts,
      funnel: { ...funnel, heldOut: sent.counts.winBack.heldOut },
      returnModel: model.byReason,
    };
    deps.log('after-exit outreach', { runId: run.runId, exitSurveys: afterExit.exitSurveys.sent, winBack: afterExit.winBack.sent });
    return { afterExit, outreach: sent.outreach };
  }
}

/** `mode: 'after-exit'`: the after-exit step alone, with the run's churn analytics; its own summary. */
export async function runAfterExit(run: Run, deps: JobDependencies): Promise<JobResult> {
  const config: AfterExitConfig = deps.config.afterExit ?? DEFAULT_AFTER_EXIT_CONFIG;
  const rules = { inactivityDays: deps.config.passiveInactivityDays };
  const churn = new MonthlyChurnAccumulator({ asOf: run.asOf, ...rules });
  const analytics = new ExitAnalytics(run.asOf, rules.inactivityDays, config);
  const collector = new AfterExitCollector(run.asOf, config, rules);
  for await (const history of deps.histories({ totalSegments: run.totalSegments })) {
    churn.add(history);
    analytics.add(history);
    collector.add(history);
  }
  const { afterExit, outreach } = await collector.send(run, deps);
  const summary: RunSummary = {
    summaryVersion: SUMMARY_VERSION,
    runId: run.runId,
    mode: 'after-exit',
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: deps.now().toISOString(),
    modelVersion: null,
    training: null,
    scoring: { customersScored: 0, bands: { high: 0, medium: 0, low: 0 }, expectedMrrAtRiskCents: 0, riskHistogram: [] },
    outreach,
    churnByMonth: churn.result(),
    drift: [],
    topAtRisk: [],
    ...analytics.result(),
    afterExit,
  };
  const summaryKey = await deps.runs.putSummary(summary);
  deps.log('after-exit run finished', { runId: run.runId, exitSurveys: afterExit.exitSurveys.sent, winBack: afterExit.winBack.sent });
  return { summary, summaryKey };
}

/** Already asked / offered for this cancellation by another run (a failed outreach never reached them: it does not count). */
const alreadyContacted = (records: readonly OutreachRecord[], candidate: AfterExitCandidate, runId: string): boolean =>
  records.some((r) => r.playbook === candidate.kind && r.runId !== runId && r.status !== 'failed' && r.claimAt >= candidate.cancelledAt);

async function sendAfterExit(
  ranked: AfterExitCandidate[],
  run: SendingRun,
  deps: JobDependencies,
  ledger: ReadonlyMap<string, OutreachRecord[]>,
  returnHorizonDays: number,
) {
  let already = 0;
  let exitSurveyCandidates = 0;
  let winBackCandidates = 0;
  const eligible: RankedCandidate<Claimable>[] = [];
  for (const candidate of ranked) {
    if (alreadyContacted(ledger.get(candidate.customerId) ?? [], candidate, run.runId)) {
      already++;
      continue;
    }
    if (candidate.kind === 'exit_survey') exitSurveyCandidates++;
    else winBackCandidates++;
    const customer: Claimable = {
      customerId: candidate.customerId,
      risk: 1,
      band: 'high',
      drivers: [],
      modelVersion: candidate.kind === 'win_back' && candidate.reason ? `return-model/${candidate.reason}` : 'exit-survey',
      mrrCents: candidate.mrrCents,
      tenureDays: candidate.tenureDays,
      candidate,
    };
    eligible.push({ customer, expectedLossCents: candidate.expectedValueCents });
  }
  // The at-risk outreach's control group, per exit reason: held-out win-backs are recorded as
  // control (cooldown, no budget, never sent), so the funnel can set returns after contact beside returns without.
  const control = assignControl(
    eligible.filter(({ customer }) => customer.candidate.kind === 'win_back'),
    {
      share: deps.config.controlShare ?? DEFAULT_CONTROL_SHARE,
      seed: `${deps.config.seed}:${run.runId}`,
      stratum: ({ customer }) => `win_back|${customer.candidate.reason ?? 'unknown'}`,
      id: ({ customer }) => customer.customerId,
    },
  );
  const createdAt = deps.now().toISOString();
  const messages = new Map<string, OutreachMessage>();
  const allocation = await allocateOutreach(
    eligible,
    { maxMessages: deps.config.maxMessages },
    ({ customer }, arm) => {
      const message = afterExitMessage(customer, run.runId, createdAt);
      messages.set(customer.customerId, message);
      const body = JSON.stringify(message);
      return deps.outreach.claim({
        customerId: customer.customerId,
        runId: run.runId,
        dedupId: message.dedupId,
        claimAt: run.asOf,
        cooldownDays: deps.config.cooldownDays,
        playbook: customer.candidate.kind,
        risk: customer.risk,
        modelVersion: customer.modelVersion,
        dailyBudget: deps.config.maxMessages,
        arm,
        ...(arm === 'control' ? { holdUntil: controlHoldUntil(run.asOf, returnHorizonDays) } : {}),
        ...(Buffer.byteLength(body, 'utf8') <= MAX_MESSAGE_BYTES ? { body } : {}),
      });
    },
    ({ customer }) => control.has(customer.customerId),
  );
  const toQueue = allocation.toSend.map((c) => c.customer);
  const { queued, failed } = await queueClaimed(
    toQueue.map((c) => messages.get(c.customerId) as OutreachMessage),
    toQueue,
    run.runId,
    deps,
  );
  const delivered: Claimable[] = [...allocation.alreadySent.map((c) => c.customer), ...queued];
  const byPlaybook: Record<string, number> = {};
  const winBackByReason: Record<string, number> = {};
  for (const { candidate } of delivered) {
    byPlaybook[candidate.kind] = (byPlaybook[candidate.kind] ?? 0) + 1;
    if (candidate.kind === 'win_back' && candidate.reason) winBackByReason[candidate.reason] = (winBackByReason[candidate.reason] ?? 0) + 1;
  }
  const selected = allocation.toSend.length + allocation.alreadySent.length;
  const counts = {
    exitSurveys: { candidates: exitSurveyCandidates, sent: byPlaybook.exit_survey ?? 0 },
    winBack: {
      candidates: winBackCandidates,
      heldOut: allocation.control.length,
      selected: [...allocation.toSend, ...allocation.alreadySent].filter((c) => c.customer.candidate.kind === 'win_back').length,
      sent: byPlaybook.win_back ?? 0,
      byReason: winBackByReason,
    },
    alreadyContacted: already,
    skippedCooldown: allocation.skippedCooldown,
    skippedBudget: allocation.skippedBudget,
    failed,
  };
  const outreach: RunSummary['outreach'] = {
    selected,
    sent: delivered.length,
    skippedCooldown: allocation.skippedCooldown,
    skippedBudget: allocation.skippedBudget,
    failed,
    byPlaybook,
  };
  return { counts, outreach, selected: counts.winBack.selected };
}

function afterExitMessage(customer: Claimable, runId: string, createdAt: string): OutreachMessage {
  const { candidate } = customer;
  const message = buildOutreachMessage({ customer, playbook: 're_engagement', runId, createdAt });
  return {
    ...message,
    playbook: candidate.kind,
    afterExit: {
      cancelledAt: candidate.cancelledAt,
      ...(candidate.reason ? { reasonCode: candidate.reason } : {}),
      ...(candidate.offer ? { offer: candidate.offer, offerText: candidate.offerText } : {}),
      ...(candidate.pReturn === undefined ? {} : { pReturn: candidate.pReturn, expectedValueCents: candidate.expectedValueCents }),
    },
    dedupId: outreachDedupId(runId, customer.customerId),
  };
}

/**
 * The win-back funnel over the last `horizonDays`: win-back messages claimed in that span by any
 * run (contacted) and, of those customers, who came back after the claim (reactivated).
 */
function winBackFunnel(
  recent: ReadonlyArray<{ customerId: string; returnedAtMs?: number }>,
  ledger: ReadonlyMap<string, OutreachRecord[]>,
  asOfMs: number,
  horizonDays: number,
  selected: number,
): { selected: number; contacted: number; reactivated: number; control: number; controlReactivated: number } {
  const fromMs = asOfMs - horizonDays * DAY_MS;
  const funnel = { selected, contacted: 0, reactivated: 0, control: 0, controlReactivated: 0 };
  for (const { customerId, returnedAtMs } of recent) {
    const claim = (ledger.get(customerId) ?? []).find(
      (r) => r.playbook === 'win_back' && r.status !== 'failed' && Date.parse(r.claimAt) >= fromMs && Date.parse(r.claimAt) < asOfMs,
    );
    if (!claim) continue;
    const returned = returnedAtMs !== undefined && returnedAtMs >= Date.parse(claim.claimAt);
    if (claim.status === 'control') {
      funnel.control++;
      if (returned) funnel.controlReactivated++;
    } else {
      funnel.contacted++;
      if (returned) funnel.reactivated++;
    }
  }
  return funnel;
}
