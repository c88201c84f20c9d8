import { describe, expect, it } from 'vitest';
import { customerExits } from '../../model/analytics/exits.ts';
import {
  AfterExitConfig,
  afterExitOf,
  DEFAULT_AFTER_EXIT_CONFIG,
  MIN_REASON_HISTORY,
  PRIOR_WEIGHT,
  parseAfterExitConfig,
  RETURN_PRIOR,
  ReturnModelTrainer,
  rankAfterExit,
} from '../../model/outreach/winBack.ts';
import { event } from './outreachFactories.ts';

const rules = { inactivityDays: 30 };
const DAY_MS = 86_400_000;
const leaver = (
  id: string,
  cancelOn: string,
  cancel: Record<string, unknown>,
  mrrCents = 5_000,
  extra: ReturnType<typeof event>[] = [],
) => [
  event(id, 'subscription_started', '2025-01-05T00:00:00Z', { plan: 'pro', mrrCents }),
  event(id, 'session_started', new Date(Date.parse(cancelOn) - DAY_MS).toISOString()),
  event(id, 'subscription_cancelled', cancelOn, cancel),
  ...extra,
];

describe('AfterExitConfig', () => {
  it('defaults to a 7–60 day window and a 60-day return horizon, and refuses a window that closes before it opens', () => {
    expect(DEFAULT_AFTER_EXIT_CONFIG).toMatchObject({ windowMinDays: 7, windowMaxDays: 60, returnHorizonDays: 60, exitReasons: {} });
    expect(() => AfterExitConfig.parse({ windowMinDays: 30, windowMaxDays: 10 })).toThrow(/windowMinDays must not exceed windowMaxDays/);
    expect(() => AfterExitConfig.parse({ windowDays: 3 })).toThrow(/windowDays/);
  });

  it("reads the CLI's JSON, naming the field that is wrong", () => {
    expect(parseAfterExitConfig('{"windowMaxDays":45,"exitReasons":{"other":"avoidable"}}')).toMatchObject({
      windowMinDays: 7,
      windowMaxDays: 45,
      exitReasons: { other: 'avoidable' },
    });
    expect(() => parseAfterExitConfig('{"exitReasons":{"boredom":"avoidable"}}')).toThrow(/exitReasons.*"boredom" is not an exit reason/);
    expect(() => parseAfterExitConfig('{windowMaxDays:45}')).toThrow(/not JSON/);
  });
});

describe('afterExitOf', () => {
  const asOf = '2026-05-20T00:00:00Z';
  const of = (events: ReturnType<typeof event>[], config = DEFAULT_AFTER_EXIT_CONFIG) =>
    afterExitOf('c', events, asOf, config, rules).candidate;

  it('offers a win-back with the fitting offer inside the window only', () => {
    expect(of(leaver('c', '2026-05-01T00:00:00Z', { reasonCode: 'support_experience' }))).toMatchObject({
      kind: 'win_back',
      reason: 'support_experience',
      offer: 'personal_contact',
      daysSinceCancel: 19,
      mrrCents: 5_000,
    });
    expect(of(leaver('c', '2026-05-15T00:00:00Z', { reasonCode: 'price' }))).toBeUndefined(); // 5 days: too early
    expect(of(leaver('c', '2026-03-15T00:00:00Z', { reasonCode: 'price' }))).toBeUndefined(); // 66 days: too late
    expect(
      of(leaver('c', '2026-05-15T00:00:00Z', { reasonCode: 'price' }), { ...DEFAULT_AFTER_EXIT_CONFIG, windowMinDays: 3 }),
    ).toMatchObject({
      kind: 'win_back',
    });
  });

  it('offers nothing for an unavoidable reason, unless the mapping makes it avoidable', () => {
    const events = leaver('c', '2026-05-01T00:00:00Z', { reasonCode: 'no_longer_needed' });
    expect(of(events)).toBeUndefined();
    expect(of(events, AfterExitConfig.parse({ exitReasons: { no_longer_needed: 'avoidable' } }))).toMatchObject({ kind: 'win_back' });
  });

  it('asks for the reason when the cancellation has none, and offers nothing once the customer came back', () => {
    expect(of(leaver('c', '2026-05-18T00:00:00Z', {}))).toMatchObject({ kind: 'exit_survey' });
    const back = leaver('c', '2026-05-01T00:00:00Z', { reasonCode: 'price' }, 5_000, [
      event('c', 'subscription_reactivated', '2026-05-10T00:00:00Z'),
    ]);
    expect(of(back)).toBeUndefined();
  });
});

describe('the P(return) model', () => {
  const asOfMs = Date.parse('2026-06-30T00:00:00Z');
  const exitsOf = (n: number, returned: number, cancelOn: string) =>
    Array.from({ length: n }, (_, i) =>
      customerExits(
        leaver(
          `p${i}`,
          cancelOn,
          { reasonCode: 'price' },
          5_000,
          i < returned ? [event(`p${i}`, 'subscription_reactivated', '2026-02-20T00:00:00Z')] : [],
        ),
        asOfMs,
        rules,
      ),
    ).flat();

  it(`uses the stated prior while a reason has fewer than ${MIN_REASON_HISTORY} labelled cancellations`, () => {
    const trainer = new ReturnModelTrainer(asOfMs, 60);
    for (const exit of exitsOf(MIN_REASON_HISTORY - 1, 20, '2026-02-01T00:00:00Z')) trainer.addExit(exit);
    expect(trainer.model().byReason.price).toEqual({
      pReturn: RETURN_PRIOR.price,
      labelled: MIN_REASON_HISTORY - 1,
      returned: 20,
      source: 'prior',
    });
  });

  it('then the observed return rate within the horizon, shrunk towards the prior', () => {
    const trainer = new ReturnModelTrainer(asOfMs, 60);
    for (const exit of exitsOf(40, 20, '2026-02-01T00:00:00Z')) trainer.addExit(exit);
    const price = trainer.model().byReason.price;
    expect(price).toMatchObject({ labelled: 40, returned: 20, source: 'history' });
    expect(price.pReturn).toBeCloseTo((20 + PRIOR_WEIGHT * RETURN_PRIOR.price) / (40 + PRIOR_WEIGHT));
  });

  it('is point in time: a cancellation less than the horizon before asOf has no label yet and is left out', () => {
    const trainer = new ReturnModelTrainer(asOfMs, 60);
    for (const exit of exitsOf(40, 0, '2026-06-01T00:00:00Z')) trainer.addExit(exit);
    expect(trainer.model().byReason.price).toMatchObject({ labelled: 0, source: 'prior' });
  });

  it('a return after the horizon is not a return', () => {
    const trainer = new ReturnModelTrainer(asOfMs, 10);
    for (const exit of exitsOf(40, 40, '2026-02-01T00:00:00Z')) trainer.addExit(exit); // back 19 days later
    expect(trainer.model().byReason.price.returned).toBe(0);
  });
});

describe('rankAfterExit', () => {
  it('ranks win-backs by P(return) × MRR before exit surveys', () => {
    const model = new ReturnModelTrainer(0, 60).model();
    const base = { cancelledAt: '2026-05-01T00:00:00.000Z', daysSinceCancel: 10, tenureDays: 100 };
    const ranked = rankAfterExit(
      [
        { ...base, customerId: 'survey', kind: 'exit_survey', mrrCents: 100_000 },
        { ...base, customerId: 'price-small', kind: 'win_back', reason: 'price', mrrCents: 2_000 },
        { ...base, customerId: 'payment-big', kind: 'win_back', reason: 'payment_failure', mrrCents: 9_000 },
        { ...base, customerId: 'competitor-big', kind: 'win_back', reason: 'competitor', mrrCents: 20_000 },
      ],
      model,
    );
    expect(ranked.map((c) => c.customerId)).toEqual(['payment-big', 'competitor-big', 'price-small', 'survey']);
    expect(ranked[0]?.expectedValueCents).toBeCloseTo(RETURN_PRIOR.payment_failure * 9_000);
  });
});
