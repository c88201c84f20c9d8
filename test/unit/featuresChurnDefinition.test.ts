import { describe, expect, it } from 'vitest';
import {
  ChurnDefinition,
  DEFAULT_CHURN,
  formatChurnDefinition,
  parseChurnOption,
  parseDuration,
} from '../../model/features/churnDefinition.ts';

const notADuration = (s: string) => `"${s}" is not a duration: use a whole number of days or weeks such as 30d or 4w`;

describe('parseDuration reads whole, positive days or weeks', () => {
  it.each([
    ['30d', 30],
    ['30 days', 30],
    ['1 day', 1],
    ['4w', 28],
    ['1 week', 7],
    ['3weeks', 21],
    ['2 WEEKS', 14],
    ['  5D  ', 5],
    ['90   d', 90],
  ])('%s is %d days', (text, days) => {
    expect(parseDuration(text)).toBe(days);
  });

  it.each(['0d', '0w', '-3d', '1.5d', '30', 'd', '30 months', '30dd', 'x30d', '30d x', '99999999999999999999d', ''])(
    'rejects %j, quoting it and the accepted forms',
    (text) => {
      expect(() => parseDuration(text)).toThrow(notADuration(text));
    },
  );
});

describe('parseChurnOption reads --churn', () => {
  it.each(['cancelled', 'canceled', ' Cancelled ', 'CANCELED'])('%j is the cancelled definition', (text) => {
    expect(parseChurnOption(text)).toEqual({ kind: 'cancelled' });
  });

  it('reads inactive:<duration>, in any case and with spaces around', () => {
    expect(parseChurnOption('inactive:30d')).toEqual({ kind: 'inactive', days: 30 });
    expect(parseChurnOption(' Inactive:4W ')).toEqual({ kind: 'inactive', days: 28 });
    expect(parseChurnOption('INACTIVE:2 weeks')).toEqual({ kind: 'inactive', days: 14 });
  });

  it('names the option and the duration when the duration is wrong', () => {
    expect(() => parseChurnOption('inactive:0d')).toThrow(`churn "inactive:0d": ${notADuration('0d')}`);
    expect(() => parseChurnOption('inactive:')).toThrow(`churn "inactive:": ${notADuration('')}`);
  });

  it.each(['churned', 'inactive', 'inactive30d', 'cancelled:30d', ''])('rejects %j, listing the definitions', (text) => {
    expect(() => parseChurnOption(text)).toThrow(
      `churn "${text}" is not a churn definition: use "cancelled" or "inactive:<days>d" such as inactive:30d`,
    );
  });
});

describe('the churn definition', () => {
  it('is written back as the option reads it', () => {
    expect(formatChurnDefinition({ kind: 'cancelled' })).toBe('cancelled');
    expect(formatChurnDefinition({ kind: 'inactive', days: 45 })).toBe('inactive:45d');
    expect(parseChurnOption(formatChurnDefinition({ kind: 'inactive', days: 45 }))).toEqual({ kind: 'inactive', days: 45 });
  });

  it('defaults to cancelled', () => {
    expect(DEFAULT_CHURN).toEqual({ kind: 'cancelled' });
  });

  it('accepts only cancelled, or inactive with a whole, positive number of days', () => {
    expect(ChurnDefinition.parse({ kind: 'cancelled' })).toEqual({ kind: 'cancelled' });
    expect(ChurnDefinition.parse({ kind: 'inactive', days: 1 })).toEqual({ kind: 'inactive', days: 1 });
    for (const bad of [{ kind: 'inactive', days: 0 }, { kind: 'inactive', days: 1.5 }, { kind: 'inactive' }, { kind: 'lapsed' }]) {
      expect(ChurnDefinition.safeParse(bad).success).toBe(false);
    }
  });
});
