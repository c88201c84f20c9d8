import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { MonthlyChurnAccumulator, tapHistories, type HistoryLike } from '../model/analytics/churnByMonth.ts';
import { ScoringSummaryAccumulator, summariseScores } from '../model/analytics/scoringSummary.ts';
import { featureDistribution, featureDrift, type FeatureDistribution } from '../model/monitoring/drift.ts';
import { buildOutreachMessage, outreachDedupId } from '../model/outreach/message.ts';
import { choosePlaybook, type Playbook } from '../model/outreach/playbooks.ts';
import { allocateOutreach, DEFAULT_COOLDOWN_DAYS, rankForOutreach, type RankedCandidate } from '../model/outreach/selection.ts';
import type { CalibrationBin, GainsPoint, ModelMetrics } from '../model/nn/metricSchemas.ts';
import type { RunSummary } from '../model/runSummary.ts';
import { SUMMARY_VERSION } from '../model/runSummary.ts';
import type { ScoredCustomer } from '../model/scoring.ts';
import type { OutreachQueue } from '../adapters/aws/outreachQueue.ts';
import type { OutreachStore } from '../adapters/aws/outreachStore.ts';
import type { RiskStore } from '../adapters/aws/riskStore.ts';
import type { RunStore } from '../adapters/aws/runStore.ts';

/**
 * - `train`, `score`, `train-and-score`: a whole-table run (EventBridge Scheduler, CLI).
 * - `score-segment`: one worker of the Step Functions fan-out: scores its Scan segment, writes RISK items, sends nothing.
 * - `send`: the fan-out's last step: selects from the RISK items its workers wrote for the runId, and sends.
 */
export const JOB_MODES = ['train', 'score', 'train-and-score', 'score-segment', 'send'] as const;
export type JobMode = (typeof JOB_MODES)[number];

const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/** The job's input (EventBridge Scheduler, Step Functions, CLI), validated at the boundary. */
export const JobInput = z
  .object({
    mode: z.enum(JOB_MODES).default('train-and-score'),
    /** The point in time to score at: ISO instant or YYYY-MM-DD (midnight UTC). Default: now. */
    asOf: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
    runId: z.string().regex(RUN_ID_PATTERN, 'runId may contain only letters, digits and . _ : - (at most 100)').optional(),
    /** score-segment: which Scan segment this worker reads, of totalSegments (send: Scan segments read in parallel). */
    segment: z.number().int().nonnegative().optional(),
    totalSegments: z.number().int().positive().max(1_000_000).optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.mode !== 'score-segment') return;
    if (input.segment === undefined || input.totalSegments === undefined) {
      ctx.addIssue({ code: 'custom', path: ['segment'], message: 'score-segment needs segment and totalSegments' });
    } else if (input.segment >= input.totalSegments) {
      ctx.addIssue({ code: 'custom', path: ['segment'], message: `segment must be below totalSegments (${input.totalSegments})` });
    }
  });
export type JobInput = z.input<typeof JobInput>;

/** A model that can score: structurally the model helper's ChurnModel. */
export interface ScoringModel {
  readonly version: string;
  threshold: number;
  score(matrix: FeatureMatrix): ScoredCustomer[];
  dispose(): void;
}

/** What training returns: structurally the model helper's TrainResult. */
export interface TrainOutcome {
  model: ScoringModel;
  metrics: ModelMetrics;
  baselineMetrics: ModelMetrics;
  gains: z.output<typeof GainsPoint>[];
  calibration: z.output<typeof CalibrationBin>[];
  backend: string;
  trainingMs: number;
}

export interface Datasets {
  train: FeatureMatrix;
  validation: FeatureMatrix;
  scoring: FeatureMatrix;
  cutoffs: { training: string[]; validation: string; scoring: string };
}

/** The knobs of a run (env in AWS, flags locally). */
export interface JobConfig {
  /** Outreach messages per day (UTC day of asOf), shared by every run of that day. */
  maxMessages: number;
  cooldownDays: number;
  costLostCustomer: number;
  costIntervention: number;
  /** Value of a customer with unknown MRR when ranking by expected loss (cents). */
  unknownMrrValueCents: number;
  /** Days without activity that count as passive churn in the analytics. */
  passiveInactivityDays: number;
  /** Scan segments read in parallel by a whole-table run. */
  totalSegments: number;
  /** How many at-risk customers the summary lists. */
  topAtRisk: number;
}

export const DEFAULT_JOB_CONFIG: JobConfig = {
  maxMessages: 100,
  cooldownDays: DEFAULT_COOLDOWN_DAYS,
  costLostCustomer: 500,
  costIntervention: 50,
  unknownMrrValueCents: 1,
  passiveInactivityDays: 30,
  totalSegments: 4,
  topAtRisk: 20,
};

/** Every part the job uses, injected so that tests swap any of them. */
export interface JobDependencies {
  config: JobConfig;
  now(): Date;
  log(message: string, fields?: Record<string, unknown>): void;
  /** A fresh stream of customer histories (the events table), optionally only some Scan segments. */
  histories(scan: { totalSegments: number; segments?: number[] }): AsyncIterable<HistoryLike>;
  buildDatasets(customers: AsyncIterable<HistoryLike>, asOf: string): Promise<Datasets>;
  buildScoringMatrix(customers: AsyncIterable<HistoryLike>, asOf: string): Promise<FeatureMatrix>;
  train(train: FeatureMatrix, validation: FeatureMatrix, options: { costLostCustomer: number; costIntervention: number }): Promise<TrainOutcome>;
  registry: {
    register(result: TrainOutcome, context: { trainingWindow: { from: string; to: string }; dataFingerprint: string }): Promise<{ version: string; promoted: boolean; reason: string }>;
    loadChampion(): Promise<ScoringModel | undefined>;
  };
  risks: RiskStore;
  outreach: OutreachStore;
  queue: OutreachQueue;
  runs: RunStore;
}

export interface JobResult {
  summary: RunSummary;
  summaryKey: string;
  scoresKey?: string;
}

type Training = NonNullable<RunSummary['training']>;
type Scored = ScoredCustomer & { playbook: Playbook };


/** `YYYY-MM-DD` means midnight UTC of that day. */
export const normaliseAsOf = (asOf: string): string => new Date(/^\d{4}-\d{2}-\d{2}$/.test(asOf) ? `${asOf}T00:00:00Z` : asOf).toISOString();

/**
 * Deterministic run id from mode and asOf day (`score-2026-11-23`): a retried scheduled run
 * gets the same id, so it resumes instead of sending twice. Segment workers share the id of
 * their fan-out, and so does its send step.
 */
export const defaultRunId = (mode: JobMode, asOf: string): string =>
  `${mode === 'score-segment' || mode === 'send' ? 'score' : mode}-${asOf.slice(0, 10)}`;

/** A short, stable fingerprint of the training data (ids, labels, features). */
export function dataFingerprint(matrix: FeatureMatrix): string {
  const hash = createHash('sha256');
  hash.update(matrix.customerIds.join('\n'));
  hash.update(Buffer.from(matrix.labels.buffer, matrix.labels.byteOffset, matrix.labels.byteLength));
  hash.update(Buffer.from(matrix.numeric.buffer, matrix.numeric.byteOffset, matrix.numeric.byteLength));
  hash.update(Buffer.from(matrix.categorical.buffer, matrix.categorical.byteOffset, matrix.categorical.byteLength));
  return hash.digest('hex').slice(0, 16);
}

/** A validated run: its input, point in time, id, and where its artifacts go. */
interface Run {
  input: z.output<typeof JobInput>;
  asOf: string;
  runId: string;
  startedAt: string;
  totalSegments: number;
  /** Sub-path of a segment worker's artifacts; undefined for a whole-table run. */
  part?: string;
}

/** What the features step produced. */
interface Features {
  scoringMatrix: FeatureMatrix;
  training: Training | null;
  /** This run's training distribution (train modes) for drift; undefined otherwise. */
  trainingDistribution?: FeatureDistribution;
}

/**
 * The train-and-score job: features → (train, register/promote) → score every active customer
 * with the champion → RISK items, scores snapshot and run summary → select by expected loss
 * → claim (cooldown, exactly once) → send. Re-running the same runId resumes: training is not
 * repeated, RISK items are overwritten with the same content, and no customer is sent twice.
 *
 * @example
 * const { summary } = await runJob({ mode: 'score', asOf: '2026-11-23' }, createJobDependencies(awsClients(), jobSettingsFromEnv(), log));
 */
export async function runJob(rawInput: JobInput, deps: JobDependencies): Promise<JobResult> {
  const run = resolveRun(rawInput, deps);
  deps.log('run started', { runId: run.runId, mode: run.input.mode, asOf: run.asOf });
  if (run.input.mode === 'send') return sendFromStoredRisks(run, deps);
  const churn = new MonthlyChurnAccumulator({ asOf: run.asOf, inactivityDays: deps.config.passiveInactivityDays });
  const features = await buildFeatures(run, deps, (history) => churn.add(history));
  const champion = run.input.mode === 'train' ? undefined : await deps.registry.loadChampion();
  if (run.input.mode !== 'train' && !champion) deps.log('no champion model: nothing scored; train one first', { runId: run.runId });
  const driftBaseline = features.trainingDistribution ?? (await championDistribution(champion, run, deps));
  const { scored, scoresKey } = await scoreAndStore(champion, features.scoringMatrix, run, deps);
  const ranked = champion ? rankForOutreach(scored, { threshold: champion.threshold, unknownMrrValueCents: deps.config.unknownMrrValueCents }).ranked : [];
  const sendsOutreach = run.input.mode === 'train-and-score' || run.input.mode === 'score';
  const outreach = sendsOutreach ? await sendOutreach(ranked, run, deps) : emptyOutreach();
  const summary: RunSummary = {
    summaryVersion: SUMMARY_VERSION,
    runId: run.runId,
    mode: run.input.mode,
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: deps.now().toISOString(),
    modelVersion: champion?.version ?? null,
    training: features.training,
    scoring: summariseScores(scored),
    outreach,
    churnByMonth: churn.result(),
    drift: driftBaseline ? featureDrift(driftBaseline, features.scoringMatrix) : [],
    topAtRisk: ranked.slice(0, deps.config.topAtRisk).map(atRiskEntry),
  };
  const summaryKey = await deps.runs.putSummary(summary, run.part);
  deps.log('run finished', { runId: run.runId, scored: scored.length, sent: outreach.sent, summaryKey });
  return { summary, summaryKey, ...(scoresKey ? { scoresKey } : {}) };
}

function resolveRun(rawInput: JobInput, deps: JobDependencies): Run {
  const parsed = JobInput.safeParse(rawInput);
  if (!parsed.success) {
    throw new Error(`Invalid job input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  }
  const input = parsed.data;
  const startedAt = deps.now().toISOString();
  const asOf = normaliseAsOf(input.asOf ?? startedAt);
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

/** One scan feeds the features and (through `observe`) the churn analytics. */
async function buildFeatures(run: Run, deps: JobDependencies, observe: (history: HistoryLike) => void): Promise<Features> {
  const segments = run.input.mode === 'score-segment' ? [run.input.segment as number] : undefined;
  const histories = tapHistories(deps.histories({ totalSegments: run.totalSegments, ...(segments ? { segments } : {}) }), observe);
  if (run.input.mode === 'train' || run.input.mode === 'train-and-score') {
    const datasets = await deps.buildDatasets(histories, run.asOf);
    const training = await trainOnce(run.runId, datasets, deps);
    return { scoringMatrix: datasets.scoring, training, trainingDistribution: featureDistribution(datasets.train) };
  }
  return { scoringMatrix: await deps.buildScoringMatrix(histories, run.asOf), training: null };
}

/** The champion's stored training distribution, for drift in a run that did not train. */
async function championDistribution(champion: ScoringModel | undefined, run: Run, deps: JobDependencies): Promise<FeatureDistribution | undefined> {
  if (!champion) return undefined;
  const distribution = await deps.runs.getTrainingDistribution(champion.version);
  if (!distribution) deps.log(`no stored training distribution for ${champion.version}: drift skipped`, { runId: run.runId });
  return distribution;
}

/** Scores with the champion, chooses playbooks, writes RISK items and the scores snapshot. */
async function scoreAndStore(champion: ScoringModel | undefined, matrix: FeatureMatrix, run: Run, deps: JobDependencies): Promise<{ scored: Scored[]; scoresKey?: string }> {
  if (!champion) return { scored: [] };
  let scored: Scored[];
  try {
    scored = scoreWithPlaybooks(champion, matrix);
  } finally {
    champion.dispose();
  }
  const scoredAt = deps.now().toISOString();
  await deps.risks.putRisks(scored.map((customer) => ({ customer, playbook: customer.playbook, runId: run.runId, scoredAt, threshold: champion.threshold })));
  const scoresKey = await deps.runs.putScores(run.runId, scored.map(scoreRow), run.part);
  return { scored, scoresKey };
}

const atRiskEntry = ({ customer }: RankedCandidate<Scored>): RunSummary['topAtRisk'][number] => ({
  customerId: customer.customerId,
  risk: customer.risk,
  band: customer.band,
  mrrAtRisk: customer.mrrCents === null || !Number.isFinite(customer.mrrCents) ? 0 : customer.risk * customer.mrrCents,
  drivers: customer.drivers.map((d) => d.sentence),
  playbook: customer.playbook,
});

/**
 * The send step of a fan-out run (`mode: 'send'`, after every `score-segment` worker finished):
 * reads back the RISK items the workers wrote for this runId, ranks them with the same selection
 * (each against the threshold of the model that scored it), then claims and sends exactly as a
 * whole-table run does, so re-running it sends nothing twice. Its summary is the run's summary
 * (`runs/<runId>/summary.json`): scoring counts from the RISK items, outreach from this step.
 * churnByMonth and drift stay empty here: they need the histories and feature matrices, which only
 * the segment workers read; each worker's summary (`runs/<runId>/segment-<i>-of-<n>/summary.json`)
 * has them for its segment.
 *
 * A customer whose RISK item a later run overwrote before this step is not selected by this run
 * (the item no longer names it); the later run is responsible for them.
 */
async function sendFromStoredRisks(run: Run, deps: JobDependencies): Promise<JobResult> {
  const scoring = new ScoringSummaryAccumulator();
  const candidates: Array<Scored & { threshold: number }> = [];
  const models = new Map<string, number>();
  const { read, invalid } = await deps.risks.forEachRunRisk(
    run.runId,
    {
      totalSegments: run.totalSegments,
      onInvalidItem: (item) => deps.log('RISK item skipped: not a valid RISK item', { runId: run.runId, pk: item.pk, error: item.message }),
    },
    ({ customer, playbook, threshold }) => {
      scoring.add(customer);
      models.set(customer.modelVersion, (models.get(customer.modelVersion) ?? 0) + 1);
      // Only customers at or above their model's threshold can be selected: keep just those in memory.
      if (!(customer.risk >= threshold)) return;
      candidates.push({ ...customer, playbook, threshold });
    },
  );
  if (read === 0) deps.log('no RISK items for this run: did its score-segment workers run?', { runId: run.runId, invalid });
  if (models.size > 1) deps.log('RISK items of this run come from several models (a promotion during the fan-out)', { runId: run.runId, models: Object.fromEntries(models) });
  const ranked = rankForOutreach(candidates, { threshold: (c) => c.threshold, unknownMrrValueCents: deps.config.unknownMrrValueCents }).ranked;
  const outreach = await sendOutreach(ranked, run, deps);
  const summary: RunSummary = {
    summaryVersion: SUMMARY_VERSION,
    runId: run.runId,
    mode: 'send',
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: deps.now().toISOString(),
    // The model that scored most of the run's customers (normally the only one).
    modelVersion: [...models].sort(([, a], [, b]) => b - a)[0]?.[0] ?? null,
    training: null,
    scoring: scoring.result(),
    outreach,
    // Not available to this step: see the segment workers' summaries.
    churnByMonth: [],
    drift: [],
    topAtRisk: ranked.slice(0, deps.config.topAtRisk).map(atRiskEntry),
  };
  const summaryKey = await deps.runs.putSummary(summary);
  deps.log('run finished', { runId: run.runId, scored: read, sent: outreach.sent, summaryKey });
  return { summary, summaryKey };
}

/** Trains and registers, unless this run already did (a resumed run reuses its decision). */
async function trainOnce(runId: string, datasets: Datasets, deps: JobDependencies): Promise<Training> {
  const previous = await deps.runs.getSummary(runId);
  if (previous?.training) {
    deps.log('run already trained: reusing its model decision', { runId, candidateVersion: previous.training.candidateVersion });
    return previous.training;
  }
  const result = await deps.train(datasets.train, datasets.validation, { costLostCustomer: deps.config.costLostCustomer, costIntervention: deps.config.costIntervention });
  try {
    const trainingCutoffs = [...datasets.cutoffs.training].sort();
    const decision = await deps.registry.register(result, {
      trainingWindow: { from: trainingCutoffs[0] ?? datasets.cutoffs.validation, to: datasets.cutoffs.validation },
      dataFingerprint: dataFingerprint(datasets.train),
    });
    await deps.runs.putTrainingDistribution(decision.version, featureDistribution(datasets.train));
    deps.log('model registered', { runId, ...decision });
    return {
      candidateVersion: decision.version,
      promoted: decision.promoted,
      reason: decision.reason,
      backend: result.backend,
      model: result.metrics,
      baseline: result.baselineMetrics,
      gains: result.gains,
      calibration: result.calibration,
    };
  } finally {
    result.model.dispose();
  }
}

function scoreWithPlaybooks(model: ScoringModel, matrix: FeatureMatrix): Scored[] {
  if (matrix.customerIds.length === 0) return [];
  return model.score(matrix).map((customer) => ({ ...customer, playbook: choosePlaybook(customer) }));
}

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

const emptyOutreach = (): RunSummary['outreach'] => ({ selected: 0, sent: 0, skippedCooldown: 0, skippedBudget: 0, failed: 0, byPlaybook: {} });

/**
 * Claims the best candidates within the budget and queues their messages. A message that cannot
 * be queued releases its claim (the customer stays eligible) and counts as failed.
 */
async function sendOutreach(ranked: RankedCandidate<Scored>[], run: Pick<Run, 'runId' | 'asOf'>, deps: JobDependencies): Promise<RunSummary['outreach']> {
  const { runId, asOf } = run;
  const allocation = await allocateOutreach(ranked, { maxMessages: deps.config.maxMessages }, ({ customer }) =>
    deps.outreach.claim({
      customerId: customer.customerId,
      runId,
      dedupId: outreachDedupId(runId, customer.customerId),
      claimAt: asOf,
      cooldownDays: deps.config.cooldownDays,
      playbook: customer.playbook,
      risk: customer.risk,
      modelVersion: customer.modelVersion,
      dailyBudget: deps.config.maxMessages,
    }),
  );
  const { queued, failed } = await queueClaimed(allocation.toSend.map((c) => c.customer), runId, deps);
  if (allocation.alreadySent.length) deps.log('resumed run: messages already queued were not sent again', { runId, count: allocation.alreadySent.length });
  const sentCustomers = [...queued, ...allocation.alreadySent.map((c) => c.customer)];
  const byPlaybook: Record<string, number> = {};
  for (const { playbook } of sentCustomers) byPlaybook[playbook] = (byPlaybook[playbook] ?? 0) + 1;
  return {
    selected: allocation.toSend.length + allocation.alreadySent.length,
    sent: sentCustomers.length,
    skippedCooldown: allocation.skippedCooldown,
    skippedBudget: allocation.skippedBudget,
    failed,
    byPlaybook,
  };
}

/** Sends the claimed customers' messages; marks each queued, or releases the claim of one that failed. */
async function queueClaimed(customers: Scored[], runId: string, deps: JobDependencies): Promise<{ queued: Scored[]; failed: number }> {
  const createdAt = deps.now().toISOString();
  const messages = customers.map((customer) => buildOutreachMessage({ customer, playbook: customer.playbook, runId, createdAt }));
  const outcomes = messages.length ? await deps.queue.send(messages) : [];
  const queued: Scored[] = [];
  let failed = 0;
  for (const [i, outcome] of outcomes.entries()) {
    const customer = customers[i]!;
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

