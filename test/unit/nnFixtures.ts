import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { seededRandom } from '../../model/nn/random.ts';

/**
 * A synthetic customer base with known churn drivers: failed payments and a "basic" plan raise
 * risk, failed payments matter more for short-tenure customers (an interaction), and far fewer
 * or far more sessions than usual raise risk (not linear: an MLP beats logistic regression
 * here). About 10% of session counts are missing.
 */
export function syntheticMatrix(rows: number, seed: number, options: { cutoff?: string; idPrefix?: string } = {}): FeatureMatrix {
  const random = seededRandom(seed);
  const plans = ['basic', 'pro', 'enterprise', 'legacy'];
  const numeric = new Float64Array(rows * 3);
  const categorical = new Int32Array(rows);
  const labels = new Int8Array(rows);
  const mrrCents = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const failed = Math.floor(-Math.log(1 - random()) * 0.8); // heavy-tailed count
    const sessions = Math.floor(random() * 40);
    const tenure = Math.floor(random() * 720);
    const planRoll = random();
    const plan = planRoll < 0.45 ? 0 : planRoll < 0.8 ? 1 : planRoll < 0.98 ? 2 : 3;
    const unusualUse = Math.abs(sessions - 20) > 13 ? 2.5 : 0; // far fewer or far more sessions than usual: not linear
    const logit = -2.2 + 1.2 * failed * (tenure < 180 ? 1.5 : 0.6) + unusualUse + (plan === 0 ? 1.0 : plan === 2 ? -1.0 : 0);
    labels[r] = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    numeric[r * 3] = failed;
    numeric[r * 3 + 1] = random() < 0.1 ? Number.NaN : sessions;
    numeric[r * 3 + 2] = tenure;
    categorical[r] = random() < 0.03 ? -1 : plan;
    mrrCents[r] = [1900, 4900, 19900, 900][plan] as number;
  }
  return {
    cutoff: options.cutoff ?? '2026-06-01T00:00:00.000Z',
    customerIds: Array.from({ length: rows }, (_, r) => `${options.idPrefix ?? 'c'}${r}`),
    numericColumns: [
      { kind: 'numeric', name: 'payments_failed_30d', family: 'payments', description: 'failed payments in the last 30 days' },
      { kind: 'numeric', name: 'sessions_30d', family: 'activity', description: 'sessions in the last 30 days' },
      { kind: 'numeric', name: 'tenure_days', family: 'tenure', description: 'days since the subscription started' },
    ],
    categoricalColumns: [{ kind: 'categorical', name: 'plan', family: 'plan', description: 'current plan', categories: plans }],
    numeric,
    categorical,
    labels,
    mrrCents,
  };
}
