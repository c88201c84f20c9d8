import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChurnEvent } from '../../model/events/schemas.ts';
import { buildDatasets, buildFeatureMatrix } from '../../model/features/datasets.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { DAY_MS } from '../../model/features/time.ts';
import { histories, T, T_MS } from './featuresFixtures.ts';

const MINUTE = 60_000;
const name = fc.constantFrom('reports', 'export', 'api', 'Contract', 'seats');
const attrValue = fc.oneof(
  fc.constantFrom('Month-to-month', 'One year', 'x'),
  fc.integer({ min: 0, max: 100 }),
  fc.boolean(),
  fc.constant(null),
);
const properties = fc.oneof(
  fc.record({ type: fc.constant('session_started'), properties: fc.constant({}) }),
  fc.record({ type: fc.constant('feature_used'), properties: fc.record({ feature: name, quantity: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ type: fc.constant('payment_succeeded'), properties: fc.record({ amountCents: fc.integer({ min: 0, max: 10_000 }) }) }),
  fc.record({
    type: fc.constant('payment_failed'),
    properties: fc.record({ amountCents: fc.integer({ min: 0, max: 10_000 }), reason: fc.constant('card_declined') }),
  }),
  fc.record({
    type: fc.constant('card_expiring'),
    properties: fc.record({ expiresOn: fc.constantFrom('2026-05-20', '2026-06-15', '2026-09-30') }),
  }),
  fc.record({
    type: fc.constant('support_ticket_opened'),
    properties: fc.record({ ticketId: fc.constantFrom('A', 'B', 'C'), priority: fc.constant('high') }),
  }),
  fc.record({ type: fc.constant('support_ticket_resolved'), properties: fc.record({ ticketId: fc.constantFrom('A', 'B', 'C') }) }),
  fc.record({ type: fc.constant('survey_response'), properties: fc.record({ score: fc.integer({ min: 0, max: 10 }) }) }),
  fc.record({
    type: fc.constant('subscription_started'),
    properties: fc.record({ plan: fc.constant('pro'), mrrCents: fc.integer({ min: 0, max: 9000 }) }),
  }),
  fc.record({
    type: fc.constant('plan_changed'),
    properties: fc.record({ fromPlan: fc.constant('a'), toPlan: fc.constant('b'), mrrCents: fc.integer({ min: 0, max: 9000 }) }),
  }),
  fc.record({ type: fc.constant('subscription_cancelled'), properties: fc.constant({}) }),
  fc.record({ type: fc.constant('subscription_reactivated'), properties: fc.constant({}) }),
  fc.record({
    type: fc.constant('customer_profile'),
    properties: fc.record({ attributes: fc.dictionary(name, attrValue, { maxKeys: 3 }) }),
  }),
  fc.record({ type: fc.constant('custom'), properties: fc.record({ name, quantity: fc.integer({ min: 0, max: 5 }) }) }),
);

/** Random events of customers c1..c4 (and c5, c6 only in the extra events), minutes from `fromMs`. */
const events = (fromMs: number, spanMinutes: number, customers: string[], prefix: string) =>
  fc
    .array(fc.tuple(properties, fc.integer({ min: 0, max: spanMinutes }), fc.constantFrom(...customers)), { maxLength: 40 })
    .map((list) =>
      list.map(([p, minute, customerId], i) =>
        ChurnEvent.parse({ eventId: `${prefix}${i}`, customerId, occurredAt: new Date(fromMs + minute * MINUTE).toISOString(), ...p }),
      ),
    );

const BEFORE = events(T_MS - 150 * DAY_MS, 150 * 24 * 60 - 1, ['c1', 'c2', 'c3', 'c4'], 'b');
/** At or after T: minute 0 is exactly T. */
const AFTER = events(T_MS, 90 * 24 * 60, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'], 'a');

/** Every feature of every row, by customer and column name, categories decoded. */
function decoded(m: FeatureMatrix): Record<string, Record<string, number | string | null>> {
  const out: Record<string, Record<string, number | string | null>> = {};
  m.customerIds.forEach((id, r) => {
    const row: Record<string, number | string | null> = {};
    for (const [i, c] of m.numericColumns.entries()) row[c.name] = m.numeric[r * m.numericColumns.length + i] as number;
    m.categoricalColumns.forEach((c, i) => {
      const code = m.categorical[r * m.categoricalColumns.length + i] as number;
      row[c.name] = code < 0 ? null : (c.categories[code] ?? null);
    });
    row.mrrCents = m.mrrCents[r] as number;
    out[id] = row;
  });
  return out;
}

describe('features are point in time', () => {
  it('adding any events at or after the cutoff changes no feature value, row or column at the cutoff', async () => {
    await fc.assert(
      fc.asyncProperty(BEFORE, AFTER, async (before, after) => {
        // Prepare / Act
        const without = await buildFeatureMatrix(histories(before), T, { horizonDays: 30, observedUntil: '2027-01-01' });
        const withLater = await buildFeatureMatrix(histories([...before, ...after]), T, { horizonDays: 30, observedUntil: '2027-01-01' });
        // Assess
        expect(withLater.numericColumns).toEqual(without.numericColumns);
        expect(withLater.categoricalColumns.map((c) => c.name)).toEqual(without.categoricalColumns.map((c) => c.name));
        expect(decoded(withLater)).toEqual(decoded(without));
      }),
      { numRuns: 150 },
    );
  });

  it('adding events after asOf changes nothing in the training, validation and scoring sets', async () => {
    const asOf = T;
    await fc.assert(
      fc.asyncProperty(BEFORE, AFTER, async (before, after) => {
        const later = after.filter((e) => e.occurredAt > asOf);
        const options = { asOf, horizonDays: 30, churn: { kind: 'cancelled' as const }, trainingCutoffs: 2 };
        const without = await buildDatasets(histories(before), options);
        const withLater = await buildDatasets(histories([...before, ...later]), options);
        for (const set of ['train', 'validation', 'scoring'] as const) {
          expect(decoded(withLater[set])).toEqual(decoded(without[set]));
          expect([...withLater[set].labels]).toEqual([...without[set].labels]);
        }
      }),
      { numRuns: 100 },
    );
  });
});
