import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { FeatureFamily, FeatureMatrix } from '../../model/features/matrix.ts';
import type { RiskBand, RiskDriver, ScoredCustomer } from '../../model/scoring.ts';

/** Test factories of the outreach area: scored customers, events, histories, matrices. */

export function driver(family: FeatureFamily, contribution: number, feature = `${family}.signal`): RiskDriver {
  return { feature, family, value: 1, sentence: `${feature} is high`, contribution };
}

export function scoredCustomer(overrides: Partial<ScoredCustomer> & { customerId: string }): ScoredCustomer {
  const risk = overrides.risk ?? 0.5;
  const band: RiskBand = overrides.band ?? (risk >= 0.5 ? 'high' : risk >= 0.2 ? 'medium' : 'low');
  return {
    risk,
    band,
    drivers: [driver('payments', 0.7)],
    modelVersion: 'm-test',
    mrrCents: 5_000,
    tenureDays: 200,
    ...overrides,
  };
}

let eventCounter = 0;

/** One event of `type` at `occurredAt` with minimal valid properties. */
export function event(
  customerId: string,
  type: ChurnEvent['type'],
  occurredAt: string,
  properties: Record<string, unknown> = {},
): ChurnEvent {
  const defaults: Partial<Record<ChurnEvent['type'], Record<string, unknown>>> = {
    feature_used: { feature: 'reports', quantity: 1 },
    payment_succeeded: { amountCents: 5_000 },
    payment_failed: { amountCents: 5_000, reason: 'card_declined' },
    subscription_started: { plan: 'pro', mrrCents: 5_000 },
    custom: { name: 'export', quantity: 1 },
  };
  return {
    eventId: `e${++eventCounter}`,
    customerId,
    type,
    occurredAt: new Date(occurredAt).toISOString(),
    properties: { ...(defaults[type] ?? {}), ...properties },
  } as ChurnEvent;
}

/** A one-column matrix (failed payments) for tests that inject a fake scorer. */
export function tinyMatrix(
  customerIds: string[],
  values: number[],
  mrr: number[] = customerIds.map(() => 5_000),
  cutoff = '2026-06-01T00:00:00.000Z',
): FeatureMatrix {
  return {
    cutoff,
    customerIds,
    numericColumns: [{ kind: 'numeric', name: 'payments.failed_90d', family: 'payments', description: 'failed payments in 90 days' }],
    categoricalColumns: [],
    numeric: Float64Array.from(values),
    categorical: new Int32Array(0),
    labels: new Int8Array(customerIds.length).fill(-1),
    mrrCents: Float64Array.from(mrr),
  };
}
