/** Command-line overrides of the model's architecture and preprocessing, shared by the model benchmark and the tuning harness. */
import type { Architecture } from '../model/nn/network.ts';
import type { PreprocessingOptions } from '../model/nn/preprocessing.ts';

export const TUNING_FLAGS = {
  hidden: { type: 'string' },
  dropout: { type: 'string' },
  l2: { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  patience: { type: 'string' },
  ensemble: { type: 'string' },
  refit: { type: 'string' },
  minCategoryShare: { type: 'string' },
  segments: { type: 'string' },
  minChurnersPerSegment: { type: 'string' },
  segmentation: { type: 'string' },
  steps: { type: 'string' },
  schedule: { type: 'string' },
  epochs: { type: 'string' },
  maxSteps: { type: 'string' },
  baselineLr: { type: 'string' },
  baselineBatch: { type: 'string' },
  baselineRefit: { type: 'string' },
  baselinePatience: { type: 'string' },
  baselineSchedule: { type: 'string' },
  baselineEpochs: { type: 'string' },
} as const;

type Flags = Partial<Record<keyof typeof TUNING_FLAGS, string>>;

export function architectureOptions(options: Flags): Partial<Architecture> {
  return {
    ...(options.hidden !== undefined ? { hidden: options.hidden === '' ? [] : options.hidden.split(',').map(Number) } : {}),
    ...(options.dropout !== undefined ? { dropout: Number(options.dropout) } : {}),
    ...(options.l2 !== undefined ? { l2: Number(options.l2) } : {}),
    ...(options.lr !== undefined ? { learningRate: Number(options.lr) } : {}),
    ...(options.batch !== undefined ? { batchSize: Number(options.batch) } : {}),
    ...(options.patience !== undefined ? { patience: Number(options.patience) } : {}),
    ...(options.ensemble !== undefined ? { ensemble: Number(options.ensemble) } : {}),
    ...(options.refit !== undefined ? { refit: options.refit === 'true' } : {}),
    ...(options.schedule === 'one-cycle' || options.schedule === 'early-stopping' ? { schedule: options.schedule } : {}),
    ...(options.epochs !== undefined ? { maxEpochs: Number(options.epochs) } : {}),
    ...(options.maxSteps !== undefined ? { maxSteps: Number(options.maxSteps) } : {}),
  };
}

export function baselineArchitectureOptions(options: Flags): Partial<Architecture> {
  return {
    ...(options.baselineLr !== undefined ? { learningRate: Number(options.baselineLr) } : {}),
    ...(options.baselineBatch !== undefined ? { batchSize: Number(options.baselineBatch) } : {}),
    ...(options.baselineRefit !== undefined ? { refit: options.baselineRefit === 'true' } : {}),
    ...(options.baselinePatience !== undefined ? { patience: Number(options.baselinePatience) } : {}),
    ...(options.baselineSchedule === 'one-cycle' || options.baselineSchedule === 'early-stopping'
      ? { schedule: options.baselineSchedule }
      : {}),
    ...(options.baselineEpochs !== undefined ? { maxEpochs: Number(options.baselineEpochs) } : {}),
  };
}

export function preprocessingOptions(options: Flags): PreprocessingOptions {
  return {
    ...(options.minCategoryShare !== undefined ? { minCategoryShare: Number(options.minCategoryShare) } : {}),
    ...(options.segments !== undefined ? { numericSegments: Number(options.segments) } : {}),
    ...(options.segmentation === 'quantile' || options.segmentation === 'supervised' || options.segmentation === 'both'
      ? { segmentation: options.segmentation }
      : {}),
    ...(options.steps !== undefined ? { thresholdSteps: options.steps === 'true' } : {}),
    ...(options.minChurnersPerSegment !== undefined ? { minChurnersPerSegment: Number(options.minChurnersPerSegment) } : {}),
  };
}
