import type { Aggregation, SentenceTemplate } from './featureDefinition.ts';
import type { FeatureFamily } from './matrix.ts';
import { GENERATED_WINDOWS, type MeasureAggregate, type MeasureKind, type StreamAggregate, TREND_WINDOWS } from './streams.ts';
import { DAY_MS } from './time.ts';

/**
 * Feature families generated from the data: for every event stream (an event type, or a custom
 * event's name) and every number its events carry, the same families of frequency, value and
 * rhythm. They are data, like the fixed features (definitions.ts): a stat, how it aggregates,
 * its window, a description and a sentence template, with the stream's and the measure's names
 * filled in. `{noun}` / `{nouns}` name the stream's events, `{measure}` the number.
 *
 * Families:
 * - counts over the lifetime and over the windows the history supports (7, 30, 90, 365 days),
 *   and the distinct days with an event;
 * - recency: days since the stream's latest event;
 * - rhythm: the mean gap between days with an event, the latest gap, and the time since the
 *   latest event against the mean gap (the "overdue" signal of buy-till-you-die models);
 * - trend: events in the last 30 / 90 days against the 30 / 90 days before;
 * - per number: lifetime sum and mean, and sums over the supported windows (levels such as a
 *   survey score or a price only get the mean).
 */

/** Which generated feature a column is: enough to compute it and to say it in words. */
export interface GeneratedSource {
  /** The stream: an event type, or `custom:<name>`. */
  stream: string;
  /** The number of the stream's events it aggregates, for measure stats. */
  measure?: string;
  measureKind?: MeasureKind;
  /** The stat's id, e.g. `count_30d`, `overdue_ratio`, `sum`. */
  stat: string;
}

/** One generated stat: a column per stream (or per stream and number). */
export interface GeneratedStat {
  stat: string;
  scope: 'stream' | 'measure';
  aggregation: Aggregation;
  windowDays: number | null;
  /** Days of history before the cutoff the stat needs to mean anything. */
  needsHistoryDays: number;
  /** For measure stats: whether levels (scores, prices) get it, or only amounts. */
  forLevels?: boolean;
  description: string;
  sentence: SentenceTemplate;
  value(stream: StreamAggregate | undefined, cutoffMs: number, measure: MeasureAggregate | undefined): number;
}

const countCases = (tail: string): SentenceTemplate => ({
  cases: [
    ['zero', `no {nouns} ${tail}`],
    ['one', `1 {noun} ${tail}`],
    ['any', `{value} {nouns} ${tail}`],
  ],
});

const windowIndex = (w: number) => GENERATED_WINDOWS.indexOf(w as (typeof GENERATED_WINDOWS)[number]);
const meanGapDays = (s: StreamAggregate | undefined) => (s && s.days >= 2 ? (s.lastMs - s.firstMs) / DAY_MS / (s.days - 1) : Number.NaN);

/** The generated stats, in column order. */
export const GENERATED_STATS: readonly GeneratedStat[] = [
  {
    stat: 'count',
    scope: 'stream',
    aggregation: 'count',
    windowDays: null,
    needsHistoryDays: 0,
    description: '{Nouns} over the whole history',
    sentence: countCases('in all'),
    value: (s) => s?.count ?? 0,
  },
  ...GENERATED_WINDOWS.map(
    (w): GeneratedStat => ({
      stat: `count_${w}d`,
      scope: 'stream',
      aggregation: 'count',
      windowDays: w,
      needsHistoryDays: w,
      description: `{Nouns} in the last ${w} days`,
      sentence: countCases(`in the last ${w} days`),
      value: (s) => s?.windowCounts[windowIndex(w)] ?? 0,
    }),
  ),
  {
    stat: 'active_days',
    scope: 'stream',
    aggregation: 'distinct_count',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Distinct days (UTC) with {nouns}, over the whole history',
    sentence: {
      cases: [
        ['zero', 'no {nouns} on record'],
        ['one', '{nouns} on 1 day only'],
        ['any', '{nouns} on {value} different days'],
      ],
    },
    value: (s) => s?.days ?? 0,
  },
  {
    stat: 'days_since_last',
    scope: 'stream',
    aggregation: 'days_since',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Days since the latest of the {nouns} (missing: none yet)',
    sentence: {
      cases: [
        ['missing', 'no {nouns} on record'],
        ['any', 'last {noun} {duration} ago'],
      ],
    },
    value: (s, cutoffMs) => (s ? (cutoffMs - s.lastMs) / DAY_MS : Number.NaN),
  },
  {
    stat: 'mean_gap_days',
    scope: 'stream',
    aggregation: 'mean',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Mean days between the days with {nouns} (missing: fewer than two such days)',
    sentence: {
      cases: [
        ['missing', 'fewer than two days with {nouns}: no usual gap yet'],
        ['any', 'usually {duration} between {nouns}'],
      ],
    },
    value: (s) => meanGapDays(s),
  },
  {
    stat: 'last_gap_days',
    scope: 'stream',
    aggregation: 'days_since',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Days between the latest two days with {nouns} (missing: fewer than two such days)',
    sentence: {
      cases: [
        ['missing', 'fewer than two days with {nouns}: no gap yet'],
        ['any', 'the last two {nouns} were {duration} apart'],
      ],
    },
    value: (s) => (s && s.days >= 2 ? s.lastGapMs / DAY_MS : Number.NaN),
  },
  {
    stat: 'overdue_ratio',
    scope: 'stream',
    aggregation: 'ratio',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Days since the latest of the {nouns} ÷ the mean gap between them (above 1: overdue; missing: no gap yet)',
    sentence: {
      cases: [
        ['missing', 'no usual gap between {nouns} yet'],
        ['steady', 'the next {noun} is due about now'],
        ['below1', 'the next {noun} is not yet due ({value}× the usual gap since the last)'],
        ['any', '{noun} overdue: {value}× the usual gap since the last one'],
      ],
    },
    value: (s, cutoffMs) => {
      const gap = meanGapDays(s);
      return s && gap > 0 ? (cutoffMs - s.lastMs) / DAY_MS / gap : Number.NaN;
    },
  },
  ...TREND_WINDOWS.map(
    (w, i): GeneratedStat => ({
      stat: `trend_${w}d`,
      scope: 'stream',
      aggregation: 'ratio',
      windowDays: 2 * w,
      needsHistoryDays: 2 * w,
      description: `{Nouns} in the last ${w} days ÷ in the ${w} days before (missing when there were none before)`,
      sentence: {
        cases: [
          ['missing', `no {nouns} in the ${w} days before the last ${w} to compare with`],
          ['zero', `{nouns} stopped in the last ${w} days`],
          ['steady', `{nouns} steady against the previous ${w} days`],
          ['below1', `{nouns} fell {percentDown}% against the previous ${w} days`],
          ['any', `{nouns} rose {percentUp}% against the previous ${w} days`],
        ],
      },
      value: (s) => {
        const before = s?.previousCounts[i] ?? 0;
        return before === 0 ? Number.NaN : (s?.windowCounts[windowIndex(w)] ?? 0) / before;
      },
    }),
  ),
  {
    stat: 'sum',
    scope: 'measure',
    aggregation: 'sum',
    windowDays: null,
    needsHistoryDays: 0,
    description: 'Sum of {measure} over all {nouns}',
    sentence: { cases: [['any', '{measure} of all {nouns}: {amount}']] },
    value: (_s, _t, m) => m?.sum ?? 0,
  },
  {
    stat: 'mean',
    scope: 'measure',
    aggregation: 'mean',
    windowDays: null,
    needsHistoryDays: 0,
    forLevels: true,
    description: 'Mean {measure} per {noun} (missing: none yet)',
    sentence: {
      cases: [
        ['missing', 'no {nouns} with a {measure} yet'],
        ['any', '{measure} per {noun}: {amount} on average'],
      ],
    },
    value: (_s, _t, m) => (m && m.count > 0 ? m.sum / m.count : Number.NaN),
  },
  ...GENERATED_WINDOWS.map(
    (w): GeneratedStat => ({
      stat: `sum_${w}d`,
      scope: 'measure',
      aggregation: 'sum',
      windowDays: w,
      needsHistoryDays: w,
      description: `Sum of {measure} over the {nouns} of the last ${w} days`,
      sentence: { cases: [['any', `{measure} of the {nouns} in the last ${w} days: {amount}`]] },
      value: (_s, _t, m) => m?.windowSums[windowIndex(w)] ?? 0,
    }),
  ),
];

const STATS = new Map(GENERATED_STATS.map((s) => [s.stat, s]));
/** The stat of a generated column. */
export const generatedStat = (stat: string): GeneratedStat | undefined => STATS.get(stat);

/** Family and words of each stream: what kind of churn it speaks to, and what its events are called. */
const STREAMS: Record<string, { family: FeatureFamily; noun: string; nouns: string }> = {
  session_started: { family: 'activity', noun: 'session', nouns: 'sessions' },
  feature_used: { family: 'adoption', noun: 'feature use', nouns: 'feature uses' },
  payment_succeeded: { family: 'value', noun: 'payment', nouns: 'payments' },
  payment_failed: { family: 'payments', noun: 'failed payment', nouns: 'failed payments' },
  card_expiring: { family: 'payments', noun: 'card expiry notice', nouns: 'card expiry notices' },
  support_ticket_opened: { family: 'support', noun: 'support ticket', nouns: 'support tickets' },
  support_ticket_resolved: { family: 'support', noun: 'resolved ticket', nouns: 'resolved tickets' },
  survey_response: { family: 'survey', noun: 'survey answer', nouns: 'survey answers' },
  subscription_started: { family: 'plan', noun: 'subscription start', nouns: 'subscription starts' },
  plan_changed: { family: 'plan', noun: 'plan change', nouns: 'plan changes' },
  subscription_cancelled: { family: 'plan', noun: 'cancellation', nouns: 'cancellations' },
  subscription_reactivated: { family: 'plan', noun: 'reactivation', nouns: 'reactivations' },
};

/** The family and the words of a stream (`custom:<name>`: "<name>" events). */
export function streamWords(stream: string): { family: FeatureFamily; noun: string; nouns: string; label: string } {
  const known = STREAMS[stream];
  if (known) return { ...known, label: stream };
  const name = stream.startsWith('custom:') ? stream.slice('custom:'.length) : stream;
  return { family: 'custom', noun: `"${name}" event`, nouns: `"${name}" events`, label: name };
}

/** A generated column's name: `<family>.<stream>[.<measure>].<stat>`, e.g. `value.payment_succeeded.amount.sum_90d`. */
export function generatedColumnName(source: GeneratedSource): string {
  const { family, label } = streamWords(source.stream);
  return [family, label, ...(source.measure === undefined ? [] : [source.measure]), source.stat].join('.');
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Fills the stream's and the measure's words into a text of a generated stat. */
function fill(text: string, source: GeneratedSource): string {
  const { noun, nouns } = streamWords(source.stream);
  const amount = source.measureKind === 'money' ? '{money}' : '{value}';
  return text
    .replaceAll('{Nouns}', capitalise(nouns))
    .replaceAll('{nouns}', nouns)
    .replaceAll('{noun}', noun)
    .replaceAll('{measure}', source.measure ?? '')
    .replaceAll('{amount}', amount);
}

/** The description of a generated column. */
export function generatedDescription(source: GeneratedSource): string {
  const stat = STATS.get(source.stat);
  return stat ? fill(stat.description, source) : generatedColumnName(source);
}

/** The sentence template of a generated column, with its words filled in (`describeFeature` renders it). */
export function generatedSentence(source: GeneratedSource): SentenceTemplate | undefined {
  const stat = STATS.get(source.stat);
  if (!stat) return undefined;
  return { cases: stat.sentence.cases.map(([when, text]) => [when, fill(text, source)] as const) };
}
