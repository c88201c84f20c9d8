import type { ChurnEvent } from '../events/schemas.ts';
import { DAY_MS } from './time.ts';

/**
 * Event streams: every event type a customer produces, and every custom event name, aggregated
 * the same way whatever it is (counts, recency, rhythm, sums of its numbers). The generated
 * feature families (generated.ts) read these aggregates, so a purchase log, a usage log or a
 * ticket log gets frequency, value and rhythm features without a line of code per type.
 */

/** Windows of generated counts and sums, in days: each is used when the history before the cutoff spans it. */
export const GENERATED_WINDOWS = [7, 30, 90, 365] as const;
/** Windows of generated trends (the last w days against the w days before): need 2w days of history. */
export const TREND_WINDOWS = [30, 90] as const;

/** A number of a stream's events, summed (amounts, quantities) or only averaged (levels: scores, prices). */
export type MeasureKind = 'amount' | 'money' | 'level';

export interface MeasureAggregate {
  kind: MeasureKind;
  /** Sum and count of the events carrying the number (lifetime). */
  sum: number;
  count: number;
  /** Sums over GENERATED_WINDOWS, in that order. */
  windowSums: number[];
}

export interface StreamAggregate {
  count: number;
  firstMs: number;
  lastMs: number;
  /** Distinct UTC days with an event of the stream. */
  days: number;
  lastDay: number;
  /** From the previous day with an event to the latest one (NaN with fewer than two such days). */
  lastGapMs: number;
  /** Events in [T − w, T) for each of GENERATED_WINDOWS. */
  windowCounts: number[];
  /** Events in [T − 2w, T − w) for each of TREND_WINDOWS. */
  previousCounts: number[];
  measures: Map<string, MeasureAggregate>;
}

/**
 * The stream an event belongs to: its type, `custom:<name>` for custom events; none for profiles,
 * nor for `outreach_outcome` (what the CRM did is the treatment, not a signal of churn: a feature of
 * it would let the model learn from the experiment it is measured by).
 */
export function streamKey(event: ChurnEvent): string | undefined {
  if (event.type === 'customer_profile' || event.type === 'outreach_outcome') return undefined;
  return event.type === 'custom' ? `custom:${event.properties.name}` : event.type;
}

/** The numbers an event carries: its built-in ones (amount, quantity, score…), then its named `measures`. */
export function eventMeasures(event: ChurnEvent): Array<readonly [string, number, MeasureKind]> {
  const out: Array<readonly [string, number, MeasureKind]> = [];
  switch (event.type) {
    case 'payment_succeeded':
    case 'payment_failed':
      out.push(['amount', event.properties.amountCents / 100, 'money']);
      break;
    case 'feature_used':
    case 'custom':
      out.push(['quantity', event.properties.quantity, 'amount']);
      break;
    case 'session_started':
      if (event.properties.durationSeconds !== undefined) out.push(['duration_seconds', event.properties.durationSeconds, 'amount']);
      break;
    case 'survey_response':
      out.push(['score', event.properties.score, 'level']);
      break;
    case 'subscription_started':
    case 'plan_changed':
      out.push(['mrr', event.properties.mrrCents / 100, 'level']);
      break;
    default:
      break;
  }
  const named = 'measures' in event.properties ? event.properties.measures : undefined;
  if (named === undefined) return out;
  for (const [name, value] of Object.entries(named)) {
    // A built-in number keeps its name: a measure called "amount" on a payment would be ambiguous.
    if (!out.some(([builtIn]) => builtIn === name)) out.push([name, value, 'amount']);
  }
  return out;
}

const newStream = (): StreamAggregate => ({
  count: 0,
  firstMs: Number.NaN,
  lastMs: Number.NaN,
  days: 0,
  lastDay: Number.NaN,
  lastGapMs: Number.NaN,
  windowCounts: GENERATED_WINDOWS.map(() => 0),
  previousCounts: TREND_WINDOWS.map(() => 0),
  measures: new Map(),
});

/** Adds one event at time `t` (< cutoffMs, events in time order) to the customer's streams. */
export function addToStreams(streams: Map<string, StreamAggregate>, event: ChurnEvent, t: number, cutoffMs: number): void {
  const key = streamKey(event);
  if (key === undefined) return;
  let stream = streams.get(key);
  if (!stream) {
    stream = newStream();
    streams.set(key, stream);
  }
  stream.count++;
  if (Number.isNaN(stream.firstMs)) stream.firstMs = t;
  const day = Math.floor(t / DAY_MS);
  if (day !== stream.lastDay) {
    if (stream.days > 0) stream.lastGapMs = t - stream.lastMs;
    stream.days++;
    stream.lastDay = day;
  }
  stream.lastMs = t;
  const age = cutoffMs - t;
  // Plain loops, not forEach closures: this runs for every event at every cutoff (issue 15).
  for (let i = 0; i < GENERATED_WINDOWS.length; i++) {
    if (age <= (GENERATED_WINDOWS[i] as number) * DAY_MS) stream.windowCounts[i] = (stream.windowCounts[i] as number) + 1;
  }
  for (let i = 0; i < TREND_WINDOWS.length; i++) {
    const w = TREND_WINDOWS[i] as number;
    if (age > w * DAY_MS && age <= 2 * w * DAY_MS) stream.previousCounts[i] = (stream.previousCounts[i] as number) + 1;
  }
  for (const [name, value, kind] of eventMeasures(event)) {
    let measure = stream.measures.get(name);
    if (!measure) {
      measure = { kind, sum: 0, count: 0, windowSums: GENERATED_WINDOWS.map(() => 0) };
      stream.measures.set(name, measure);
    }
    measure.sum += value;
    measure.count++;
    for (let i = 0; i < GENERATED_WINDOWS.length; i++) {
      if (age <= (GENERATED_WINDOWS[i] as number) * DAY_MS) measure.windowSums[i] = (measure.windowSums[i] as number) + value;
    }
  }
}
