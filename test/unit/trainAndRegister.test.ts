import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_CONFIG } from '../../app/jobConfig.ts';
import type { JobDependencies, TrainOutcome } from '../../app/ports.ts';
import { trainAndRegister } from '../../app/trainModel.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { selectRows } from '../../model/nn/rows.ts';
import { tinyMatrix } from './outreachFactories.ts';

const metrics = {
  rocAuc: 0.8,
  prAuc: 0.5,
  logLoss: 0.4,
  brier: 0.1,
  ece: 0.01,
  topDecileLift: 2,
  topDecileRecall: 0.3,
  threshold: 0.2,
  precisionAtThreshold: 0.4,
  recallAtThreshold: 0.5,
  rows: 4,
  positives: 2,
};

describe('trainAndRegister', () => {
  it('hands the registry the comparison rows with every column the data offers, so a champion trained on other columns can be scored', async () => {
    // The run kept one column; the data also offered a generated one a champion may have been trained on.
    const validation: FeatureMatrix = { ...tinyMatrix(['a', 'b', 'c', 'd'], [0, 1, 2, 3]), labels: Int8Array.from([0, 1, 0, 1]) };
    const comparison: FeatureMatrix = {
      ...validation,
      numericColumns: [
        ...validation.numericColumns,
        { kind: 'numeric', name: 'value.payment_succeeded.count', family: 'value', description: 'payments' },
      ],
      numeric: Float64Array.from([0, 5, 1, 6, 2, 7, 3, 8]),
    };
    const heldOut = selectRows(validation, [1, 3]);
    const registered: TrainOutcome[] = [];
    const deps = {
      config: DEFAULT_JOB_CONFIG,
      log: () => {},
      fingerprint: () => 'f'.repeat(64),
      train: async () => ({
        model: { version: 'm-x', threshold: 0.2, score: () => [], dispose: () => {} },
        metrics,
        baselineMetrics: metrics,
        gains: [],
        calibration: [],
        backend: 'wasm',
        trainingMs: 1,
        validation: heldOut,
      }),
      registry: {
        register: async (result: TrainOutcome) => {
          registered.push(result);
          return { version: 'm-x', promoted: true, reason: 'first model', kind: 'mlp' as const };
        },
      },
      runs: { getSummary: async () => undefined, putTrainingDistribution: async () => {} },
    } as unknown as JobDependencies;
    const datasets = {
      train: validation,
      validation,
      scoring: validation,
      comparison,
      cutoffs: { training: [], validation: validation.cutoff, scoring: validation.cutoff },
    };
    await trainAndRegister(datasets, 'train-x', deps);
    const compared = registered[0]?.validation;
    expect(compared?.customerIds).toEqual(['b', 'd']);
    expect(compared?.numericColumns.map((c) => c.name)).toEqual(['payments.failed_90d', 'value.payment_succeeded.count']);
    expect([...(compared?.numeric ?? [])]).toEqual([1, 6, 3, 8]);
  });
});
