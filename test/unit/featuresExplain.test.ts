import { describe, expect, it } from 'vitest';
import { parseChurnOption, parseDuration } from '../../model/features/churnDefinition.ts';
import { FEATURE_DEFINITIONS } from '../../model/features/definitions.ts';
import { describeFeature, formatDuration } from '../../model/features/explain.ts';
import type { CategoricalColumn, FeatureColumn, NumericColumn } from '../../model/features/matrix.ts';
import { parseInstant } from '../../model/features/time.ts';

const numeric = (name: string): NumericColumn => ({ kind: 'numeric', name, family: 'activity', description: '' });
const say = (name: string, value: number | string | null) => describeFeature(numeric(name), value);

describe('describeFeature', () => {
  it('says a usage trend as a percent change against the previous 3 weeks', () => {
    expect(say('activity.usage_trend_3w', 0.38)).toBe('usage fell 62% against the previous 3 weeks');
    expect(say('activity.usage_trend_3w', 1.5)).toBe('usage rose 50% against the previous 3 weeks');
    expect(say('activity.usage_trend_3w', 1)).toBe('usage was steady against the previous 3 weeks');
    expect(say('activity.usage_trend_3w', 0)).toBe('usage stopped in the last 3 weeks');
    expect(say('activity.usage_trend_3w', Number.NaN)).toBe('no activity in the previous 3 weeks to compare with');
  });

  it('counts with the right number for 0, 1 and many', () => {
    expect(say('payments.failed_14d', 0)).toBe('no failed payments in the last 14 days');
    expect(say('payments.failed_14d', 1)).toBe('1 failed payment in the last 14 days');
    expect(say('payments.failed_14d', 2)).toBe('2 failed payments in the last 14 days');
    expect(say('support.open_tickets', 1)).toBe('1 support ticket still open');
  });

  it('says durations the way people do', () => {
    expect(say('tenure.days', 61)).toBe('tenure is 2 months');
    expect(say('tenure.days', 1)).toBe('tenure is 1 day');
    expect(say('tenure.days', 900)).toBe('tenure is 2 years');
    expect(say('activity.days_since_last_activity', 0.4)).toBe('last active less than a day ago');
    expect(say('payments.days_until_card_expiry', -3)).toBe('card expired 3 days ago');
    expect(formatDuration(12.9)).toBe('12 days');
  });

  it('says a categorical profile attribute as "<attribute> is <value>", and unknown when missing', () => {
    const contract: CategoricalColumn = {
      kind: 'categorical',
      name: 'profile.Contract',
      family: 'profile',
      description: '',
      categories: ['Month-to-month'],
    };
    expect(describeFeature(contract, 'Month-to-month')).toBe('Contract is Month-to-month');
    expect(describeFeature(contract, null)).toBe('Contract is unknown');
    expect(describeFeature({ ...numeric('profile.TotalCharges'), family: 'profile' }, 1889.5)).toBe('TotalCharges is 1,889.5');
  });

  it('names the custom event in its sentence', () => {
    expect(say('custom.invoice_sent.30d', 3)).toBe('3 invoice_sent events in the last 30 days');
  });

  it('has a sentence without placeholders for every fixed feature at 0, 1, many and missing', () => {
    for (const definition of FEATURE_DEFINITIONS) {
      const column: FeatureColumn = {
        kind: 'numeric',
        name: definition.name,
        family: definition.family,
        description: definition.description,
      };
      for (const value of [0, 1, 7, 250, Number.NaN]) {
        const sentence = describeFeature(column, value);
        expect(sentence, `${definition.name} = ${value}`).not.toMatch(/[{}]|NaN|undefined/);
        expect(sentence.length).toBeGreaterThan(5);
      }
    }
  });

  it('says money with two decimals', () => {
    expect(say('value.mrr', 29.85)).toBe('pays 29.85 per month');
    expect(say('value.mrr', Number.NaN)).toBe('monthly revenue unknown');
  });
});

describe('parseDuration and parseChurnOption', () => {
  it('read days and weeks', () => {
    expect(parseDuration('30d')).toBe(30);
    expect(parseDuration('4w')).toBe(28);
    expect(parseDuration(' 7 days ')).toBe(7);
  });

  it('reject anything else with the value quoted', () => {
    expect(() => parseDuration('30')).toThrow('"30" is not a duration');
    expect(() => parseDuration('0d')).toThrow(/not a duration/);
    expect(() => parseDuration('1.5d')).toThrow(/not a duration/);
  });

  it('read the churn definitions', () => {
    expect(parseChurnOption('cancelled')).toEqual({ kind: 'cancelled' });
    expect(parseChurnOption('inactive:30d')).toEqual({ kind: 'inactive', days: 30 });
    expect(() => parseChurnOption('inactive')).toThrow(/use "cancelled" or "inactive:<days>d"/);
    expect(() => parseChurnOption('inactive:x')).toThrow(/churn "inactive:x": "x" is not a duration/);
  });
});

describe('parseInstant', () => {
  it('reads dates as midnight UTC and timestamps with a zone as UTC', () => {
    expect(parseInstant('2026-03-01', '--as-of')).toBe('2026-03-01T00:00:00.000Z');
    expect(parseInstant('2026-03-01T02:00:00+02:00', '--as-of')).toBe('2026-03-01T00:00:00.000Z');
  });

  it('rejects dates that do not exist and times without a zone, naming the option', () => {
    expect(() => parseInstant('2026-02-31', '--as-of')).toThrow(
      '--as-of must be a date YYYY-MM-DD or an ISO 8601 timestamp with a time zone',
    );
    expect(() => parseInstant('2026-03-01T00:00:00', '--as-of')).toThrow(/got "2026-03-01T00:00:00"/);
  });
});
