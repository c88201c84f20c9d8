import type { HistoryLike } from '../model/analytics/churnByMonth.ts';
import type { EventWriter } from '../model/events/ingest.ts';
import type { ChurnEvent } from '../model/events/schemas.ts';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import type { FeatureDistribution } from '../model/monitoring/drift.ts';
import type { ChurnModel } from '../model/nn/churnModel.ts';
import type { TrainingWindow } from '../model/nn/metadata.ts';
import type { ModelMetrics } from '../model/nn/metricSchemas.ts';
import type { TrainResult } from '../model/nn/trainChurnModel.ts';
import type { OutreachMessage } from '../model/outreach/message.ts';
import type { Playbook } from '../model/outreach/playbooks.ts';
import type { ClaimOutcome } from '../model/outreach/selection.ts';
import type { ModelKind } from '../model/registry/promotion.ts';
import type { RunSummary } from '../model/runSummary.ts';
import type { ScoredCustomer } from '../model/scoring.ts';
import type { JobConfig } from './jobConfig.ts';
import type { ChurnQuestion } from './modelDefinition.ts';

/**
 * The ports of the use cases: what app/ needs from storage, queues and sinks, and nothing of how.
 * adapters/aws/ implements them on DynamoDB, S3 and SQS (the same code runs against the local
 * emulators); adapters/webhook/ implements the sink; tests pass fakes.
 */

export type { ModelKind };

// ---------------------------------------------------------------- events

/** Events of customers, as ingest writes them and features read them. */
export interface EventStore extends EventWriter {
  /** Every stored event of one customer, oldest first (all pages). */
  listCustomerEvents(customerId: string, options?: { limit?: number }): Promise<ChurnEvent[]>;
}

// ---------------------------------------------------------------- model registry

/** What the caller knows about the data a model was trained on (the fingerprint is the model's own). */
export interface RegistrationContext {
  trainingWindow: TrainingWindow;
}

export interface PromotionDecision {
  /** The model this decision is about: the MLP, or its baseline (`<mlp version>-lr`) when the baseline was promoted instead. */
  version: string;
  promoted: boolean;
  /** Why, in a sentence with the figures compared. */
  reason: string;
  kind: ModelKind;
  /** When the baseline was promoted: the MLP of the same run, stored as a rejected challenger. */
  challengerVersion?: string;
}

export interface ModelListing {
  version: string;
  kind: ModelKind;
  createdAt: string;
  promoted: boolean;
  champion: boolean;
  metrics: ModelMetrics;
  reason: string;
}

/** Versioned churn models with one champion: the model that scores customers. */
export interface ModelRegistry {
  register(result: TrainResult, context: RegistrationContext): Promise<PromotionDecision>;
  loadChampion(): Promise<ChurnModel | undefined>;
  load(version: string): Promise<ChurnModel>;
  list(): Promise<ModelListing[]>;
}

/** The newest event time the store has seen: the default as-of of every command and run. */
export interface EventWatermark {
  /** ISO instant of the latest stored event's occurredAt, or undefined when nothing is stored. */
  latestEventAt(): Promise<string | undefined>;
}

/** Customer histories, streamed by a parallel Scan (optionally only some segments: a fan-out worker). */
export type HistorySource = (scan: { totalSegments: number; segments?: number[] }) => AsyncIterable<HistoryLike>;

// ---------------------------------------------------------------- scores and runs

/** The latest verdict on a customer, as the retention team's tools read it (PK C#id, SK RISK). */
export interface RiskRecord {
  customer: ScoredCustomer;
  playbook: Playbook;
  /** The run that wrote the item: the scale-out send step reads back its own run's items by it. */
  runId: string;
  scoredAt: string;
  /** The cost threshold of the model that scored the customer, so a later step selects as the scoring run would. */
  threshold: number;
}

/** A stored item that is not a valid RISK item of the run: skipped, and reported. */
export interface InvalidRiskItem {
  pk: string;
  message: string;
}

export interface RunRiskScan {
  /** Parallel Scan segments (DynamoDB TotalSegments). */
  totalSegments: number;
  /** Segments scanned at once; default all of them, up to 8. */
  concurrency?: number;
  onInvalidItem?: (item: InvalidRiskItem) => void;
}

export interface RiskStore {
  /** Overwrites each customer's RISK item; safe to repeat (same key, same content). */
  putRisks(records: readonly RiskRecord[]): Promise<void>;
  /**
   * Visits every RISK item written by `runId` (a parallel Scan, filtered server side), in no
   * particular order. Returns how many were visited and how many were skipped as invalid.
   */
  forEachRunRisk(runId: string, scan: RunRiskScan, visit: (record: RiskRecord) => void): Promise<{ read: number; invalid: number }>;
}

/** Artifacts of one run on S3: `runs/<runId>/summary.json`, `runs/<runId>/scores.ndjson`, and each model's training distribution. */
export interface RunStore {
  putSummary(summary: RunSummary, part?: string): Promise<string>;
  getSummary(runId: string): Promise<RunSummary | undefined>;
  /** One JSON object per line; returns the key written. */
  putScores(runId: string, rows: readonly object[], part?: string): Promise<string>;
  putTrainingDistribution(modelVersion: string, distribution: FeatureDistribution): Promise<void>;
  getTrainingDistribution(modelVersion: string): Promise<FeatureDistribution | undefined>;
  /** The run whose summary was written last (part summaries of fan-out workers are not runs), if any. */
  latestRunId(): Promise<string | undefined>;
  /** The rows of a scores snapshot that `putScores` wrote. */
  getScores(key: string): Promise<ScoreRow[]>;
}

/** One line of `runs/<runId>/scores.ndjson`: the fields readers rely on. */
export interface ScoreRow {
  customerId: string;
  risk: number;
  band: 'high' | 'medium' | 'low';
  playbook: string;
}

// ---------------------------------------------------------------- outreach

export interface ClaimRequest {
  customerId: string;
  runId: string;
  dedupId: string;
  /** The run's point in time (asOf): the cooldown is measured in the data's time, so simulations work. */
  claimAt: string;
  cooldownDays: number;
  playbook: string;
  risk: number;
  modelVersion: string;
  /**
   * Messages allowed per UTC day of `claimAt`, across every run of that day (the daily budget).
   * Undefined: no daily ledger (the caller caps the run itself).
   */
  dailyBudget?: number;
  /** The message's raw JSON body, kept on the ledger record so that reconcile re-sends the same bytes. */
  body?: string;
  /**
   * `control`: held out of the outreach (the control group). Recorded with the same fields and the
   * same cooldown, settled at once (status `control`), never sent, and no unit of the daily budget.
   */
  arm?: 'treated' | 'control';
  /**
   * Control only: no other run may claim the customer before this instant (the end of the
   * selection's horizon), whatever the cooldown. A held-out customer contacted inside their own
   * horizon would count as untreated and pull the measured effect towards zero.
   */
  holdUntil?: string;
}

/**
 * Where one outreach stands in the delivery ledger (the OUT# item): claimed by a run → queued (sent
 * to SQS, `sends` times) → delivered (a 2xx from the webhook, or the dry-run log) or failed (given up,
 * with the reason). Only the consumer writes `delivered`; only reconcile writes `failed`. A customer
 * held out as the control group is recorded as `control`: settled from the start, never sent.
 */
export const OUTREACH_STATES = ['claimed', 'queued', 'delivered', 'failed', 'control'] as const;
export type OutreachState = (typeof OUTREACH_STATES)[number];

export interface OutreachRecord {
  customerId: string;
  runId: string;
  dedupId: string;
  status: OutreachState;
  claimAt: string;
  claimedAt?: string;
  playbook?: string;
  messageId?: string;
  /** When the message was first queued, and when it was last sent (reconcile re-sends it). */
  queuedAt?: string;
  sentAt?: string;
  /** How many times the message was sent to the queue (the first send and reconcile's re-sends). */
  sends?: number;
  /** Delivery attempts the consumer made, and the last one's error and HTTP status. */
  attempts?: number;
  lastAttemptAt?: string;
  lastError?: string;
  lastHttpStatus?: number;
  deliveredAt?: string;
  /** The webhook's answer to the delivery that counted (absent for a dry run). */
  httpStatus?: number;
  failedAt?: string;
  failureReason?: string;
  /** The raw message body (see ClaimRequest.body). */
  body?: string;
}

/** What one delivery attempt came to, as the consumer records it. */
export type DeliveryAttempt = { ok: true; at: string; httpStatus?: number } | { ok: false; at: string; error: string; httpStatus?: number };

/** An outreach that is not settled yet (claimed or queued): reconcile's work list. */
export interface OpenOutreach {
  customerId: string;
  runId: string;
  /** When the claim opened it (wall clock). */
  openedAt: string;
}

export interface OutreachStore {
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /** claimed → queued (first send). A record the consumer already settled stays as it is. */
  markQueued(customerId: string, runId: string, messageId: string): Promise<void>;
  /** Gives back a claim whose message could not be queued (and its unit of the daily budget), so the customer is not blocked for a whole cooldown. */
  release(customerId: string, runId: string): Promise<void>;
  /** One delivery attempt: a success settles the record as delivered (the first one counts); a failure keeps it open. */
  recordAttempt(customerId: string, runId: string, attempt: DeliveryAttempt): Promise<void>;
  get(customerId: string, runId: string): Promise<OutreachRecord | undefined>;
  list(customerId: string): Promise<OutreachRecord[]>;
}

/** The ledger as reconcile and `outreach status` use it. */
export interface OutreachLedger extends OutreachStore {
  /** Every open (claimed or queued) outreach, oldest run first. */
  openOutreach(): Promise<OpenOutreach[]>;
  /**
   * Takes the right to send a record again: claimed/queued with exactly `sends` sends so far → queued
   * with `sends + 1` and `sentAt`. False when another reconcile took it first, or it was settled.
   */
  leaseResend(customerId: string, runId: string, sends: number, at: string): Promise<boolean>;
  /** Notes the SQS id of a re-sent message. */
  noteMessageId(customerId: string, runId: string, messageId: string): Promise<void>;
  /** claimed/queued → failed, with the reason; false when the record was settled meanwhile. */
  markFailed(customerId: string, runId: string, reason: string, at: string): Promise<boolean>;
  /** Drops a settled record from the open list. */
  closeOpen(customerId: string, runId: string): Promise<void>;
  /** Undoes a claim that never got its OUT# record (a run that crashed mid-claim): lock and open entry. */
  abandonClaim(customerId: string, runId: string): Promise<void>;
  /** Every OUT# record (of one run): `outreach status`. Reads the whole table: an operator's command. */
  records(filter?: { runId?: string }): Promise<OutreachRecord[]>;
}

/** A message in the outreach dead-letter queue, as `outreach dlq` shows it. */
export interface DeadLetter {
  messageId: string;
  receiveCount: number;
  /** From the body when it parses as an outreach message. */
  dedupId?: string;
  customerId?: string;
  runId?: string;
  body: string;
}

/** The outreach queue's dead-letter queue: look at it, and send its messages back (SQS's message-move API). */
export interface DeadLetterQueue {
  /** Messages in the DLQ (SQS's approximate count, visible and in flight). */
  depth(): Promise<number>;
  /** Up to `limit` messages, without consuming them (each look counts as one receive). */
  peek(limit?: number): Promise<DeadLetter[]>;
  /** Moves every DLQ message back to the outreach queue and waits (up to `maxWaitMs`) until the move task ends. */
  redrive(options?: { maxWaitMs?: number }): Promise<{ status: string; moved: number; toMove: number }>;
}

/** The result of sending one message: its SQS id, or why it could not be queued. */
export type SendOutcome = { dedupId: string; ok: true; messageId: string } | { dedupId: string; ok: false; error: string };

export interface OutreachQueue {
  /** Sends every message; one message's failure never fails the others. Outcomes in input order. */
  send(messages: readonly OutreachMessage[]): Promise<SendOutcome[]>;
}

/** Where outreach messages go: a CRM webhook, an EventBridge bus, or a log for a dry run. Throwing means "retry later". */
export interface OutreachSink {
  readonly kind: 'webhook' | 'eventbridge' | 'dry-run';
  deliver(message: OutreachMessage, rawBody: string): Promise<{ status?: number }>;
}

// ---------------------------------------------------------------- the job's dependencies

/** A model that can score: structurally `ChurnModel` (tests pass a look-alike). */
export interface ScoringModel {
  readonly version: string;
  threshold: number;
  /** What the model was trained on: its churn definition and horizon (older models lack them). */
  readonly metadata?: { trainingWindow?: Pick<TrainingWindow, 'horizonDays' | 'churn'> };
  score(matrix: FeatureMatrix): ScoredCustomer[];
  dispose(): void;
}

/** What training returns: structurally `TrainResult` (tests pass a look-alike). */
export interface TrainOutcome {
  model: ScoringModel & {
    readonly metadata?: { dataFingerprint?: string; trainingWindow?: Pick<TrainingWindow, 'horizonDays' | 'churn' | 'fittedThrough'> };
  };
  metrics: ModelMetrics;
  baselineMetrics: ModelMetrics;
  gains: TrainResult['gains'];
  calibration: TrainResult['calibration'];
  backend: string;
  trainingMs: number;
  /** Where training's time went (a look-alike in tests may leave it out). */
  timings?: { preprocessingMs: number; fitMs: number; calibrationMs: number };
  /** The labelled rows the registry compares the model and the champion on. */
  validation?: FeatureMatrix;
}

/** The matrices of a training run (see `buildDatasets`). */
export interface Datasets {
  train: FeatureMatrix;
  validation: FeatureMatrix;
  scoring: FeatureMatrix;
  /** The validation rows with every column the data offers: a champion trained on other columns is compared on them. */
  comparison?: FeatureMatrix;
  cutoffs: { training: string[]; validation: string; scoring: string };
}

/** Options the use cases pass to training. */
export interface TrainingRequest {
  seed: number;
  costLostCustomer: number;
  costIntervention: number;
  /** The run's as-of: the model version's time stamp. */
  asOf: string;
}

/**
 * Every part a job run uses, injected so that tests swap any of them; adapters/aws/jobDependencies.ts
 * wires the real ones (the Lambda handler and the CLI alike).
 */
export interface JobDependencies extends EventWatermark {
  config: JobConfig;
  now(): Date;
  log(message: string, fields?: Record<string, unknown>): void;
  /** A fresh stream of customer histories (the events table), optionally only some Scan segments. */
  histories: HistorySource;
  buildDatasets(customers: AsyncIterable<HistoryLike>, asOf: string): Promise<Datasets>;
  /** The active customers at `asOf` (with labels when known), by `question`'s churn definition and horizon (default: the configured ones). */
  buildScoringMatrix(customers: AsyncIterable<HistoryLike>, asOf: string, question?: ChurnQuestion): Promise<FeatureMatrix>;
  /** The fingerprint training will give these matrices (app/ uses it to recognise a model it already trained). */
  fingerprint(train: FeatureMatrix, validation: FeatureMatrix, request: TrainingRequest): string;
  train(train: FeatureMatrix, validation: FeatureMatrix, request: TrainingRequest): Promise<TrainOutcome>;
  registry: {
    register(result: TrainOutcome, context: RegistrationContext): Promise<PromotionDecision>;
    loadChampion(): Promise<ScoringModel | undefined>;
  };
  risks: RiskStore;
  outreach: OutreachLedger;
  queue: OutreachQueue;
  /** The outreach DLQ, when the job can see it: reconcile reports its depth and redrives it on request. */
  deadLetters?: DeadLetterQueue;
  runs: RunStore;
}
