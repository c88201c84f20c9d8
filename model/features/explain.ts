import { CUSTOM_SENTENCE, featureDefinition, PROFILE_SENTENCE } from './definitions.ts';
import type { SentenceCase, SentenceTemplate } from './featureDefinition.ts';
import { generatedSentence } from './generated.ts';
import type { FeatureColumn } from './matrix.ts';

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const moneyFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A number as people read it: thousands separators, at most 2 decimals. */
export const formatNumber = (n: number): string => numberFormat.format(Object.is(n, -0) ? 0 : n);

/**
 * A length of time in days, rounded the way people say it: "less than a day", "1 day", "12 days",
 * "2 months", "3 years".
 */
export function formatDuration(days: number): string {
  const d = Math.abs(days);
  if (d < 1) return 'less than a day';
  if (d < 60) {
    const whole = Math.floor(d);
    return whole === 1 ? '1 day' : `${whole} days`;
  }
  if (d < 730) return `${Math.round(d / 30.44)} months`;
  return `${Math.floor(d / 365.25)} years`;
}

const matches = (when: SentenceCase, value: number | string | null): boolean => {
  const missing = value === null || (typeof value === 'number' && Number.isNaN(value));
  if (when === 'missing') return missing;
  if (missing) return false;
  if (when === 'any') return true;
  if (typeof value !== 'number') return false;
  switch (when) {
    case 'zero':
      return value === 0;
    case 'one':
      return value === 1;
    case 'negative':
      return value < 0;
    case 'steady':
      return Math.abs(value - 1) < 0.005;
    case 'below1':
      return value < 1;
    case 'above1':
      return value > 1;
    default:
      return false;
  }
};

/** The text of one placeholder (see `SentenceTemplate`) for `value`, or undefined for an unknown key. */
function placeholder(key: string, value: number | string | null, name: string): string | undefined {
  const n = typeof value === 'number' ? value : Number.NaN;
  switch (key) {
    case 'value':
      return typeof value === 'number' ? formatNumber(value) : String(value);
    case 'abs':
      return formatNumber(Math.abs(n));
    case 'duration':
      return formatDuration(n);
    case 'absDuration':
      return formatDuration(Math.abs(n));
    case 'money':
      return moneyFormat.format(n);
    case 'percentDown':
      return String(Math.round((1 - n) * 100));
    case 'percentUp':
      return String(Math.round((n - 1) * 100));
    case 'name':
      return name;
    default:
      return undefined;
  }
}

/** Fills a template's placeholders with `value` (see `SentenceTemplate`). */
function render(template: SentenceTemplate, value: number | string | null, name: string, description: string): string {
  const chosen = template.cases.find(([when]) => matches(when, value));
  const fallback = matches('missing', value) ? `${description || name}: unknown` : `${name} is {value}`;
  const text = chosen ? chosen[1] : fallback;
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => placeholder(key, value, name) ?? whole);
}

const templateOf = (column: FeatureColumn): { template: SentenceTemplate; name: string } => {
  const generated = column.kind === 'numeric' && column.generated ? generatedSentence(column.generated) : undefined;
  if (generated) return { template: generated, name: column.name };
  const fixed = featureDefinition(column.name);
  if (fixed) return { template: fixed.sentence, name: column.name };
  const custom = /^custom\.(.+)\.30d$/.exec(column.name);
  if (custom) return { template: CUSTOM_SENTENCE, name: custom[1] ?? column.name };
  if (column.name.startsWith('profile.')) return { template: PROFILE_SENTENCE, name: column.name.slice('profile.'.length) };
  return { template: PROFILE_SENTENCE, name: column.name };
};

/** Each column's template, resolved once: scoring describes the same few columns for thousands of customers. */
const templates = new WeakMap<FeatureColumn, { template: SentenceTemplate; name: string }>();

/**
 * A sentence a retention manager can read about one customer's value of one feature, e.g.
 * "usage fell 62% against the previous 3 weeks", "2 failed payments in the last 14 days",
 * "Contract is Month-to-month", "tenure is 2 months". Missing values (NaN, null) say so.
 *
 * @param value the feature's value: a number for numeric columns, the category (or null) for categorical ones
 */
export function describeFeature(column: FeatureColumn, value: number | string | null): string {
  let resolved = templates.get(column);
  if (!resolved) {
    resolved = templateOf(column);
    templates.set(column, resolved);
  }
  const { template, name } = resolved;
  return render(template, value, name, column.description);
}
