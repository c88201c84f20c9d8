import { z } from 'zod';
import { ChurnDefinition } from '../features/churnDefinition.ts';
import { PlattCalibration } from './calibration.ts';
import { CalibrationBin, GainsPoint, ModelMetrics } from './metricSchemas.ts';
import { Architecture } from './network.ts';
import { Preprocessing } from './preprocessing.ts';

export const METADATA_FORMAT_VERSION = 1;

/**
 * Model versions sort by creation time: `m-<yyyymmddThhmmssZ>-<6 hex of the data fingerprint>`;
 * the logistic-regression baseline trained in the same run adds `-lr`.
 */
export const MODEL_VERSION_PATTERN = /^m-\d{8}T\d{6}Z-[0-9a-f]{6}(-lr)?$/;
/** Suffix of a baseline's version, after the version of the MLP it was trained with. */
export const BASELINE_VERSION_SUFFIX = '-lr';

/** The period of data a model learned from (cutoffs of the training and validation matrices by default). */
export const TrainingWindow = z.object({
  from: z.string(),
  to: z.string(),
  cutoffs: z.array(z.string()).optional(),
  horizonDays: z.number().optional(),
  /** The churn definition the labels followed (older models lack it). */
  churn: ChurnDefinition.optional(),
  /**
   * The newest cutoff whose labels the weights learnt from: `to` after a final fit on every
   * labelled cutoff, else the newest training cutoff (older models lack it).
   */
  fittedThrough: z.string().optional(),
});
export type TrainingWindow = z.output<typeof TrainingWindow>;

const ColumnSpec = z.object({ name: z.string(), family: z.string(), description: z.string() });

/**
 * Everything needed to load, trust and explain a model, stored as `models/<version>/metadata.json`.
 * Add fields; never change the meaning of one.
 */
export const ModelMetadata = z.object({
  formatVersion: z.literal(METADATA_FORMAT_VERSION),
  version: z.string().regex(MODEL_VERSION_PATTERN),
  createdAt: z.iso.datetime(),
  /** TF.js backend the model was trained on. */
  backend: z.string(),
  /** `architecture.kind` records what the model is: 'mlp' (the churn network) or 'logistic' (the baseline). */
  architecture: Architecture,
  /** The feature columns the model expects (matched by name). */
  featureSpec: z.object({
    numeric: z.array(ColumnSpec),
    categorical: z.array(ColumnSpec.extend({ categories: z.array(z.string()) })),
  }),
  preprocessing: Preprocessing,
  calibration: PlattCalibration,
  /** Cost-optimal risk threshold chosen on validation: outreach at or above it pays off. */
  threshold: z.number().min(0).max(1),
  costs: z.object({ costLostCustomer: z.number(), costIntervention: z.number() }),
  /** Validation metrics of THIS model (for a logistic model, the same as baselineMetrics). */
  metrics: ModelMetrics,
  /** Validation metrics of the logistic baseline trained in the same run. */
  baselineMetrics: ModelMetrics,
  gains: z.array(GainsPoint),
  calibrationBins: z.array(CalibrationBin),
  training: z.object({
    seed: z.number().int(),
    trainRows: z.number().int(),
    trainPositives: z.number().int(),
    earlyStoppingRows: z.number().int(),
    validationRows: z.number().int(),
    /** Rows of held-out customers the final fit was calibrated on (absent: no final fit). */
    calibrationRows: z.number().int().optional(),
    /** Share of the logistic baseline blended into the network as one more tower (absent: none; blend.ts). */
    baselineShare: z.number().min(0).max(1).optional(),
    epochsRun: z.number().int(),
    bestEpoch: z.number().int(),
    trainingMs: z.number(),
  }),
  trainingWindow: TrainingWindow,
  dataFingerprint: z.string(),
  /** sha256 (hex) of weights.bin; set when the model is serialised. */
  weightsSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type ModelMetadata = z.output<typeof ModelMetadata>;

/** Metadata as stored beside saved weights: the checksum is mandatory there. */
export const StoredModelMetadata = ModelMetadata.extend({ weightsSha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type StoredModelMetadata = z.output<typeof StoredModelMetadata>;
