import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_CONFIG } from '../../app/jobConfig.ts';
import { scoringQuestion } from '../../app/modelDefinition.ts';
import type { JobDependencies, ScoringModel } from '../../app/ports.ts';
import { scoreCustomers } from '../../app/scoreCustomers.ts';
import type { ChurnDefinition } from '../../model/features/churnDefinition.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { tinyMatrix } from './outreachFactories.ts';

const INACTIVE_90: ChurnDefinition = { kind: 'inactive', days: 90 };

const model = (trainingWindow?: { horizonDays?: number; churn?: ChurnDefinition }): ScoringModel & { disposed: number } => {
  const m = {
    version: 'm-20251001T000000Z-abcdef',
    threshold: 0.3,
    disposed: 0,
    ...(trainingWindow ? { metadata: { trainingWindow } } : {}),
    score: () => [],
    dispose: () => {
      m.disposed++;
    },
  };
  return m;
};

describe('the model owns its churn definition and horizon', () => {
  it('scores with the model’s own definition when none is requested, whatever the configured default', () => {
    const question = scoringQuestion(model({ horizonDays: 90, churn: INACTIVE_90 }), DEFAULT_JOB_CONFIG);
    expect(question).toEqual({ horizonDays: 90, churn: INACTIVE_90 });
  });

  it('accepts a request that agrees with the model', () => {
    const config = { ...DEFAULT_JOB_CONFIG, requested: { churn: INACTIVE_90, horizonDays: 90 } };
    expect(scoringQuestion(model({ horizonDays: 90, churn: INACTIVE_90 }), config)).toEqual({ horizonDays: 90, churn: INACTIVE_90 });
  });

  it('refuses a conflicting flag, naming the model’s definition', () => {
    const config = { ...DEFAULT_JOB_CONFIG, requested: { churn: { kind: 'cancelled' as const } } };
    expect(() => scoringQuestion(model({ horizonDays: 90, churn: INACTIVE_90 }), config)).toThrow(
      'model m-20251001T000000Z-abcdef predicts churn inactive:90d within 90 days (--churn inactive:90d --horizon 90d); --churn cancelled conflicts with it',
    );
    const horizon = { ...DEFAULT_JOB_CONFIG, requested: { horizonDays: 30 } };
    expect(() => scoringQuestion(model({ horizonDays: 90, churn: INACTIVE_90 }), horizon)).toThrow('--horizon 30d conflicts with it');
  });

  it('falls back on the configured definition for an older model that does not record one', () => {
    const config = { ...DEFAULT_JOB_CONFIG, horizonDays: 45, requested: { horizonDays: 45 } };
    expect(scoringQuestion(model(), config)).toEqual({ horizonDays: 45, churn: { kind: 'cancelled' } });
  });
});

describe('churnguard score', () => {
  const deps = (champion: ScoringModel, config = DEFAULT_JOB_CONFIG, seen: unknown[] = [], matrix?: FeatureMatrix) =>
    ({
      config,
      log: () => {},
      latestEventAt: async () => '2025-09-30T00:00:00.000Z',
      histories: async function* () {},
      buildScoringMatrix: async (_customers: unknown, asOf: string, question: unknown) => {
        seen.push(question);
        return matrix ?? tinyMatrix([], [], [], asOf);
      },
      registry: { loadChampion: async () => champion },
    }) as unknown as JobDependencies;

  /** A model whose risk is the row's value: customers k0..k9 with risk 0.05, 0.15, … 0.95. */
  const byValue = (): ScoringModel => ({
    ...model({ horizonDays: 90, churn: INACTIVE_90 }),
    score: (m) =>
      m.customerIds.map((customerId, r) => ({
        customerId,
        risk: m.numeric[r] as number,
        band: 'low' as const,
        drivers: [],
        modelVersion: 'm-20251001T000000Z-abcdef',
        mrrCents: null,
        tenureDays: null,
      })),
  });
  const ten = (labels: number[]): FeatureMatrix => ({
    ...tinyMatrix(
      Array.from({ length: 10 }, (_, i) => `k${i}`),
      Array.from({ length: 10 }, (_, i) => 0.05 + i / 10),
    ),
    labels: Int8Array.from(labels),
  });

  it('bands by the threshold and the budget, says why, and compares with what happened when the outcomes are known', async () => {
    const config = { ...DEFAULT_JOB_CONFIG, maxMessages: 3 };
    // Churners: the four riskiest, and k2.
    const result = await scoreCustomers({ asOf: '2025-10-01' }, deps(byValue(), config, [], ten([0, 0, 1, 0, 0, 0, 1, 1, 1, 1])));
    expect(result.bands.map((b) => [b.band, b.customers])).toEqual([
      ['high', 3],
      ['medium', 4],
      ['low', 3],
    ]);
    expect(result.customers[0]?.bandReason).toBe(
      "risk 95.0% ≥ the cost threshold 30.0%, and rank 1 by expected loss is within the budget's reach of 3",
    );
    expect(result.outcomes).toMatchObject({ customers: 10, churners: 5, rocAuc: 22 / 25 });
    expect(result.outcomes?.bands.map((b) => [b.band, b.churned, b.customers])).toEqual([
      ['high', 3, 3],
      ['medium', 1, 4],
      ['low', 1, 3],
    ]);
    expect(result.outcomes?.bands[0]?.lift).toBe(2);
  });

  it('reports no outcomes while they are unknown', async () => {
    const result = await scoreCustomers({ asOf: '2025-10-01' }, deps(byValue(), DEFAULT_JOB_CONFIG, [], ten(Array(10).fill(-1))));
    expect(result.outcomes).toBeUndefined();
  });

  it('builds the matrix of active customers by the champion’s definition, and says which', async () => {
    const seen: unknown[] = [];
    const result = await scoreCustomers(
      { asOf: '2025-10-01' },
      deps(model({ horizonDays: 90, churn: INACTIVE_90 }), DEFAULT_JOB_CONFIG, seen),
    );
    expect(seen).toEqual([{ horizonDays: 90, churn: INACTIVE_90 }]);
    expect(result.question).toEqual({ horizonDays: 90, churn: INACTIVE_90 });
  });

  it('fails on a conflicting --churn before reading any customer, and frees the model', async () => {
    const seen: unknown[] = [];
    const champion = model({ horizonDays: 90, churn: INACTIVE_90 });
    const config = { ...DEFAULT_JOB_CONFIG, requested: { churn: { kind: 'cancelled' as const } } };
    await expect(scoreCustomers({ asOf: '2025-10-01' }, deps(champion, config, seen))).rejects.toThrow(/predicts churn inactive:90d/);
    expect(seen).toEqual([]);
    expect(champion.disposed).toBe(1);
  });
});
