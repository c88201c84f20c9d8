import { z } from 'zod';
import { type HistoryLike, MonthlyChurnAccumulator, tapHistories } from '../model/analytics/churnByMonth.ts';
import { summariseScores } from '../model/analytics/scoringSummary.ts';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { Instant } from '../model/features/time.ts';
import { type FeatureDistribution, featureDistribution, featureDrift } from '../model/monitoring/drift.ts';
import { assignBands, type BandGuide, bandReason } from '../model/outreach/bands.ts';
import { type RankedCandidate, rankForOutreach } from '../model/outreach/selection.ts';
import { DEFAULT_AFTER_EXIT_CONFIG } from '../model/outreach/winBack.ts';
import { type RunSummary, SUMMARY_VERSION } from '../model/runSummary.ts';
import { parseOptions } from '../model/validation.ts';
import { AfterExitCollector, runAfterExit } from './afterExit.ts';
import { resolveAsOf } from './asOf.ts';
import { ExitAnalytics } from './exitAnalytics.ts';
import { type ChurnQuestion, describeQuestion, sameQuestion, scoringQuestion } from './modelDefinition.ts';
import { SelectionOutcomes } from './outreachEffect.ts';
import type { JobDependencies, ScoringModel } from './ports.ts';
import { reconcileOutreach } from './reconcile.ts';
import { type Scored, scoreWithPlaybooks } from './scoreCustomers.ts';
import { emptyOutreach, selectAndSend } from './selectAndSend.ts';
import { sendFromStoredRisks } from './sendStoredRisks.ts';
import { timedStream } from './timings.ts';
import { type Training, trainAndRegister } from './trainModel.ts';

/**
 * - `train`, `score`, `train-and-score`: a whole-table run (EventBridge Scheduler, CLI).
 * - `score-segment`: one worker of the Step Functions fan-out: scores its Scan segment, writes RISK items, sends nothing.
 * - `send`: the fan-out's last step: selects from the RISK items its workers wrote for the runId, and sends.
 * - `after-exit`: exit surveys and win-back for customers who cancelled (app/afterExit.ts).
 */
export const JOB_MODES = ['train', 'score', 'train-and-score', 'score-segment', 'send', 'after-exit'] as const;
export type JobMode = (typeof JOB_MODES)[number];

const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/** The job's input (EventBridge Scheduler, Step Functions, CLI), validated at the boundary. */
export const JobInput = z
  .object({
    mode: z.enum(JOB_MODES).default('train-and-score'),
    /** The point in time to run at: ISO instant or YYYY-MM-DD (midnight UTC). Default: just after the latest stored event. */
    asOf: Instant('asOf').optional(),
    runId: z.string().regex(RUN_ID_PATTERN, 'runId may contain only letters, digits and . _ : - (at most 100)').optional(),
    /** score-segment: which Scan segment this worker reads, of totalSegments (send: Scan segments read in parallel). */
    segment: z.number().int().nonnegative().optional(),
    totalSegments: z.number().int().positive().max(1_000_000).optional(),
    /** Before the run, move the outreach dead-letter queue back to the queue (runs that send only). */
    redrive: z.boolean().optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.mode !== 'score-segment') {
      if (input.segment !== undefined)
        ctx.addIssue({ code: 'custom', path: ['segment'], message: `segment is only for mode score-segment, not ${input.mode}` });
      return;
    }
    if (input.segment === undefined || input.totalSegments === undefined) {
      ctx.addIssue({ code: 'custom', path: ['segment'], message: 'score-segment needs segment and totalSegments' });
    } else if (input.segment >= input.totalSegments) {
      ctx.addIssue({ code: 'custom', path: ['segment'], message: `segment must be below totalSegments (${input.totalSegments})` });
    }
  });
export type JobInput = z.input<typeof JobInput>;

export interface JobResult {
  summary: RunSummary;
  summaryKey: string;
  scoresKey?: string;
}

/** A validated run: its input, point in time, id, and where its artifacts go. */
export interface Run {
  input: z.output<typeof JobInput>;
  asOf: string;
  runId: string;
  startedAt: string;
  totalSegments: number;
  /** Sub-path of a segment worker's artifacts; undefined for a whole-table run. */
  part?: string;
}

/**
 * Deterministic run id from mode and asOf day (`score-2026-11-23`): a retried scheduled run
 * gets the same id, so it resumes instead of sending twice. Segment workers share the id of
 * their fan-out, and so does its send step.
 */
export const defaultRunId = (mode: JobMode, asOf: string): string =>
  `${mode === 'score-segment' || mode === 'send' ? 'score' : mode}-${asOf.slice(0, 10)}`;

/**
 * The train-and-score job: features → (train, register/promote) → score every active customer
 * with the champion → RISK items, scores snapshot and run summary → select by expected loss
 * → claim (cooldown, exactly once) → send. Re-running the same runId resumes: training on the
 * same data is not repeated, RISK items are overwritten with the same content, and no customer is
 * sent twice. `churnguard train`, `churnguard run` and the Lambda handler all call this.
 *
 * @example
 * const { summary } = await runJob({ mode: 'score', asOf: '2026-11-23' }, createJobDependencies(awsClients(), resources, config, log));
 */
export async function runJob(rawInput: JobInput, deps: JobDependencies): Promise<JobResult> {
  const run = await resolveRun(rawInput, deps);
  deps.log('run started', { runId: run.runId, mode: run.input.mode, asOf: run.asOf });
  const sendsOutreach =
    run.input.mode === 'train-and-score' || run.input.mode === 'score' || run.input.mode === 'send' || run.input.mode === 'after-exit';
  // The ledger first: what earlier runs left open is re-sent or marked failed before anyone new is selected.
  if (sendsOutreach) {
    const { resendAfterMs, maxSends } = deps.config;
    await reconcileOutreach(deps, { resendAfterMs, maxSends, redrive: run.input.redrive ?? false });
  }
  if (run.input.mode === 'send') return sendFromStoredRisks(run, deps);
  if (run.input.mode === 'after-exit') return runAfterExit(run, deps);
  // Scoring without training: the champion's churn definition and horizon decide who is scored.
  const scoresOnly = run.input.mode === 'score' || run.input.mode === 'score-segment';
  let champion = scoresOnly ? await deps.registry.loadChampion() : undefined;
  // A fresh stack has no model until its first training: its daily score run trains one first, rather
  // than scoring nobody until the weekly training (the summary, the log and a metric say so).
  const trainsFirstModel = run.input.mode === 'score' && champion === undefined;
  if (trainsFirstModel) deps.log(FIRST_MODEL_MESSAGE, { runId: run.runId });
  let features: Features;
  let scoringMatrix: FeatureMatrix;
  let churn: MonthlyChurnAccumulator;
  let exitAnalytics: ExitAnalytics;
  let afterExit: AfterExitCollector | undefined;
  let outcomes: SelectionOutcomes | undefined;
  try {
    const question = champion && scoringQuestion(champion, deps.config);
    // Non-contractual churn: the analytics' passive churn follows the model's N days.
    const inactivityDays = question?.churn.kind === 'inactive' ? question.churn.days : deps.config.passiveInactivityDays;
    churn = new MonthlyChurnAccumulator({ asOf: run.asOf, inactivityDays });
    exitAnalytics = new ExitAnalytics(run.asOf, inactivityDays, deps.config.afterExit);
    // A run that sends at-risk outreach also runs the after-exit step, on the same scan.
    if (sendsOutreach) afterExit = new AfterExitCollector(run.asOf, deps.config.afterExit ?? DEFAULT_AFTER_EXIT_CONFIG, { inactivityDays });
    // Earlier runs' selections, resolved from the same Scan: the outreach effect of the run summary.
    const horizonDays = question?.horizonDays ?? deps.config.horizonDays;
    outcomes = sendsOutreach
      ? new SelectionOutcomes(await deps.outreach.records(), { asOf: run.asOf, horizonDays, rules: { inactivityDays } })
      : undefined;
    const effect = outcomes;
    const observe = (history: HistoryLike) => {
      churn.add(history);
      exitAnalytics.add(history);
      afterExit?.add(history);
      effect?.add(history);
    };
    features = await buildFeatures(run, deps, observe, question, trainsFirstModel);
    if (run.input.mode === 'train-and-score' || trainsFirstModel) champion = await deps.registry.loadChampion();
    scoringMatrix = await matrixForChampion(champion, features.scoringMatrix, run, deps, trainsFirstModel);
  } catch (error) {
    champion?.dispose();
    throw error;
  }
  if (run.input.mode !== 'train' && !champion) deps.log('no champion model: nothing scored; train one first', { runId: run.runId });
  const driftBaseline = features.trainingDistribution ?? (await championDistribution(champion, run, deps));
  const reach = outreachReach(run, deps);
  const { scored, scoresKey, bandGuide } = await scoreAndStore(champion, scoringMatrix, run, deps, reach);
  const ranked = champion
    ? rankForOutreach(scored, { threshold: champion.threshold, unknownMrrValueCents: deps.config.unknownMrrValueCents }).ranked
    : [];
  const outreach = sendsOutreach ? await selectAndSend(ranked, run, deps) : emptyOutreach();
  // After the at-risk selection: customers still here have first call on the day's budget.
  const afterExitSent = afterExit ? await afterExit.send(run, deps) : undefined;
  const summary: RunSummary = {
    summaryVersion: SUMMARY_VERSION,
    runId: run.runId,
    mode: run.input.mode,
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: deps.now().toISOString(),
    modelVersion: champion?.version ?? null,
    training: features.training,
    scoring: { ...summariseScores(scored), ...(bandGuide ? { bandGuide } : {}) },
    outreach,
    churnByMonth: churn.result(),
    ...exitAnalytics.result(),
    ...(afterExitSent ? { afterExit: afterExitSent.afterExit } : {}),
    drift: driftBaseline ? featureDrift(driftBaseline, scoringMatrix) : [],
    ...(outcomes ? { outreachEffect: outcomes.report() } : {}),
    topAtRisk: ranked.slice(0, deps.config.topAtRisk).map((candidate, i) => ({
      ...atRiskEntry(candidate),
      bandReason: bandReason(candidate.customer.band, candidate.customer.risk, champion?.threshold ?? 0, i + 1, reach),
    })),
  };
  const summaryKey = await deps.runs.putSummary(summary, run.part);
  deps.log('run finished', { runId: run.runId, scored: scored.length, sent: outreach.sent, summaryKey });
  return { summary, summaryKey, ...(scoresKey ? { scoresKey } : {}) };
}

async function resolveRun(rawInput: JobInput, deps: JobDependencies): Promise<Run> {
  const input = parseOptions(JobInput, rawInput, 'job input');
  const startedAt = deps.now().toISOString();
  const { asOf, defaulted } = await resolveAsOf(input.asOf, deps, (message) => deps.log(message));
  if (defaulted) deps.log(`as-of not given: ${asOf}, just after the latest stored event`);
  const totalSegments = input.totalSegments ?? deps.config.totalSegments;
  return {
    input,
    asOf,
    runId: input.runId ?? defaultRunId(input.mode, asOf),
    startedAt,
    totalSegments,
    ...(input.mode === 'score-segment' ? { part: `segment-${input.segment}-of-${totalSegments}` } : {}),
  };
}

/** What the features step produced. */
interface Features {
  scoringMatrix: FeatureMatrix;
  training: Training | null;
  /** This run's training distribution (train modes) for drift; undefined otherwise. */
  trainingDistribution?: FeatureDistribution;
}

/** What a score run logs when it trains the first model of a fresh stack. */
export const FIRST_MODEL_MESSAGE = 'no champion model: training one first, then scoring (the first run after a deploy)';

/**
 * After training, the champion may be an older model with another churn definition or horizon
 * than this run trained with: it scores the customers active by its own definition.
 */
async function matrixForChampion(
  champion: ScoringModel | undefined,
  matrix: FeatureMatrix,
  run: Run,
  deps: JobDependencies,
  trainedFirstModel = false,
): Promise<FeatureMatrix> {
  if (!champion || (run.input.mode !== 'train-and-score' && !trainedFirstModel)) return matrix;
  const own = scoringQuestion(champion, { ...deps.config, requested: undefined });
  if (sameQuestion(own, deps.config)) return matrix;
  deps.log(`the champion ${champion.version} predicts ${describeQuestion(own)}: scoring by its definition`, { runId: run.runId });
  return deps.buildScoringMatrix(deps.histories({ totalSegments: run.totalSegments }), run.asOf, own);
}

/** One scan feeds the features and (through `observe`) the churn analytics. */
async function buildFeatures(
  run: Run,
  deps: JobDependencies,
  observe: (history: HistoryLike) => void,
  question: ChurnQuestion | undefined,
  trainsFirstModel: boolean,
): Promise<Features> {
  const segments = run.input.mode === 'score-segment' ? [run.input.segment as number] : undefined;
  const scanWait = { ms: 0 };
  const histories = tapHistories(
    timedStream(deps.histories({ totalSegments: run.totalSegments, ...(segments ? { segments } : {}) }), scanWait),
    observe,
  );
  if (run.input.mode === 'train' || run.input.mode === 'train-and-score' || trainsFirstModel) {
    const started = performance.now();
    const datasets = await deps.buildDatasets(histories, run.asOf);
    const featuresPass = { scanMs: scanWait.ms, featuresMs: performance.now() - started - scanWait.ms };
    const trained = await trainAndRegister(datasets, run.runId, deps, featuresPass);
    const training: Training = { ...trained, trainedBecause: trainsFirstModel ? 'no-champion' : 'requested' };
    return { scoringMatrix: datasets.scoring, training, trainingDistribution: featureDistribution(datasets.train) };
  }
  return { scoringMatrix: await deps.buildScoringMatrix(histories, run.asOf, question), training: null };
}

/** The champion's stored training distribution, for drift in a run that did not train. */
async function championDistribution(
  champion: ScoringModel | undefined,
  run: Run,
  deps: JobDependencies,
): Promise<FeatureDistribution | undefined> {
  if (!champion) return undefined;
  const distribution = await deps.runs.getTrainingDistribution(champion.version);
  if (!distribution) deps.log(`no stored training distribution for ${champion.version}: drift skipped`, { runId: run.runId });
  return distribution;
}

/**
 * How many customers the outreach budget reaches: the day's budget; a segment worker of a fan-out
 * sees only its share of the customers, so its share of the budget.
 */
const outreachReach = (run: Run, deps: JobDependencies): number =>
  run.part ? Math.ceil(deps.config.maxMessages / run.totalSegments) : deps.config.maxMessages;

/** Scores with the champion, chooses playbooks, bands by threshold and budget, writes RISK items and the scores snapshot. */
async function scoreAndStore(
  champion: ScoringModel | undefined,
  matrix: FeatureMatrix,
  run: Run,
  deps: JobDependencies,
  reach: number,
): Promise<{ scored: Scored[]; scoresKey?: string; bandGuide?: BandGuide[] }> {
  if (!champion) return { scored: [] };
  let scored: Scored[];
  try {
    scored = scoreWithPlaybooks(champion, matrix);
  } finally {
    champion.dispose();
  }
  const banded = assignBands(scored, { threshold: champion.threshold, reach, unknownMrrValueCents: deps.config.unknownMrrValueCents });
  scored = banded.customers;
  const scoredAt = deps.now().toISOString();
  await deps.risks.putRisks(
    scored.map((customer) => ({ customer, playbook: customer.playbook, runId: run.runId, scoredAt, threshold: champion.threshold })),
  );
  const scoresKey = await deps.runs.putScores(run.runId, scored.map(scoreRow), run.part);
  return { scored, scoresKey, bandGuide: banded.guide };
}

/** A customer as the summary's top-at-risk list shows them. */
export const atRiskEntry = ({ customer }: RankedCandidate<Scored>): RunSummary['topAtRisk'][number] => ({
  customerId: customer.customerId,
  risk: customer.risk,
  band: customer.band,
  mrrAtRisk: customer.mrrCents === null || !Number.isFinite(customer.mrrCents) ? 0 : customer.risk * customer.mrrCents,
  drivers: customer.drivers.map((d) => d.sentence),
  playbook: customer.playbook,
});

const scoreRow = (c: Scored) => ({
  customerId: c.customerId,
  risk: c.risk,
  band: c.band,
  playbook: c.playbook,
  modelVersion: c.modelVersion,
  mrrCents: c.mrrCents,
  tenureDays: c.tenureDays,
  drivers: c.drivers.map((d) => ({ feature: d.feature, family: d.family, sentence: d.sentence, contribution: d.contribution })),
});
