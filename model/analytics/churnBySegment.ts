import { z } from 'zod';
import type { ChurnEvent } from '../events/schemas.ts';
import { type ChurnKindRules, churnTenures, type HistoryLike } from './churnByMonth.ts';
import { wilsonInterval } from './intervals.ts';

/** The segment dimensions: the plan, three profile attributes, and the tenure band. */
export const SEGMENT_DIMENSIONS = ['plan', 'acquisitionChannel', 'companySize', 'country', 'tenureBand'] as const;
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number];

/**
 * A segment is shown when at least this many customers were in it at the period's start. Below
 * 30, the 95% interval of a churn rate around 10% spans more than ±10 points (Wilson, n = 30:
 * 3.5%–25.6%), too wide to say where churn concentrates; smaller segments are counted as hidden.
 */
export const DEFAULT_MIN_SEGMENT_CUSTOMERS = 30;
/** The period of the segment rates: the last 90 days before asOf (a quarter: enough churners per segment). */
export const DEFAULT_SEGMENT_PERIOD_DAYS = 90;

/** Tenure bands at the period's start, in days: [from, to). */
export const TENURE_BANDS: ReadonlyArray<{ label: string; fromDays: number; toDays: number }> = [
  { label: '0–3 months', fromDays: 0, toDays: 90 },
  { label: '3–12 months', fromDays: 90, toDays: 365 },
  { label: '1–2 years', fromDays: 365, toDays: 730 },
  { label: '2+ years', fromDays: 730, toDays: Number.POSITIVE_INFINITY },
];

export const SegmentChurn = z.object({
  dimension: z.enum(SEGMENT_DIMENSIONS),
  segment: z.string(),
  customersAtStart: z.number().int(),
  lost: z.number().int(),
  /** lost ÷ customersAtStart over the period. */
  churnRate: z.number(),
  /** Wilson score interval, 95%. */
  low: z.number(),
  high: z.number(),
});
export type SegmentChurn = z.output<typeof SegmentChurn>;

export const ChurnBySegment = z.object({
  periodStart: z.string(),
  periodEnd: z.string(),
  minCustomers: z.number().int(),
  segments: z.array(SegmentChurn),
  /** Segments left out for having fewer than minCustomers customers at the start. */
  hidden: z.number().int(),
});
export type ChurnBySegment = z.output<typeof ChurnBySegment>;

const DAY_MS = 86_400_000;
const PROFILE_KEYS: Record<Exclude<SegmentDimension, 'plan' | 'tenureBand'>, string> = {
  acquisitionChannel: 'acquisitionChannel',
  companySize: 'companySize',
  country: 'country',
};

/** A customer's segments as they stood at `atMs`: the plan and profile attributes last set before it. */
function segmentsAt(events: readonly ChurnEvent[], atMs: number, tenureStartMs: number): Partial<Record<SegmentDimension, string>> {
  const segments: Partial<Record<SegmentDimension, string>> = {};
  for (const event of events) {
    if (Date.parse(event.occurredAt) >= atMs) break;
    if (event.type === 'subscription_started') segments.plan = event.properties.plan;
    else if (event.type === 'plan_changed') segments.plan = event.properties.toPlan;
    else if (event.type === 'subscription_reactivated' && event.properties.plan) segments.plan = event.properties.plan;
    else if (event.type === 'customer_profile') {
      for (const [dimension, key] of Object.entries(PROFILE_KEYS) as Array<[keyof typeof PROFILE_KEYS, string]>) {
        const value = event.properties.attributes[key];
        if (typeof value === 'string' && value !== '') segments[dimension] = value;
      }
    }
  }
  const tenureDays = (atMs - tenureStartMs) / DAY_MS;
  segments.tenureBand = TENURE_BANDS.find((band) => tenureDays >= band.fromDays && tenureDays < band.toDays)?.label ?? '0–3 months';
  return segments;
}

/**
 * Churn rate by segment over one period `[asOf − periodDays, asOf)`: the customers with a tenure
 * under way at the period's start, each in the segments they were in then, and how many of them
 * were lost (any churn kind) before asOf. The standard rate per segment, with a 95% Wilson
 * interval; segments with fewer than `minCustomers` customers are hidden (counted, not shown).
 */
export class ChurnBySegmentAccumulator {
  readonly #asOfMs: number;
  readonly #startMs: number;
  readonly #rules: ChurnKindRules;
  readonly #minCustomers: number;
  readonly #counts = new Map<string, { dimension: SegmentDimension; segment: string; atStart: number; lost: number }>();

  constructor(options: { asOf: string; periodDays?: number; minCustomers?: number } & ChurnKindRules) {
    this.#asOfMs = Date.parse(options.asOf);
    this.#startMs = this.#asOfMs - (options.periodDays ?? DEFAULT_SEGMENT_PERIOD_DAYS) * DAY_MS;
    this.#minCustomers = options.minCustomers ?? DEFAULT_MIN_SEGMENT_CUSTOMERS;
    this.#rules = {
      inactivityDays: options.inactivityDays,
      ...(options.passiveInactivityDays === undefined ? {} : { passiveInactivityDays: options.passiveInactivityDays }),
    };
  }

  add(history: HistoryLike): void {
    const tenure = churnTenures(history.events, this.#asOfMs, this.#rules).find(
      (t) => t.startMs < this.#startMs && (t.end === undefined || t.end.ms >= this.#startMs),
    );
    if (!tenure) return;
    const lost = tenure.end !== undefined ? 1 : 0;
    const segments = segmentsAt(history.events, this.#startMs, tenure.startMs);
    for (const dimension of SEGMENT_DIMENSIONS) {
      const segment = segments[dimension];
      if (segment === undefined) continue;
      const key = `${dimension}\u0000${segment}`;
      const counts = this.#counts.get(key) ?? { dimension, segment, atStart: 0, lost: 0 };
      counts.atStart++;
      counts.lost += lost;
      this.#counts.set(key, counts);
    }
  }

  result(): ChurnBySegment {
    const segments: SegmentChurn[] = [];
    let hidden = 0;
    for (const { dimension, segment, atStart, lost } of this.#counts.values()) {
      if (atStart < this.#minCustomers) {
        hidden++;
        continue;
      }
      segments.push({ dimension, segment, customersAtStart: atStart, lost, churnRate: lost / atStart, ...wilsonInterval(lost, atStart) });
    }
    const order = (d: SegmentDimension) => SEGMENT_DIMENSIONS.indexOf(d);
    segments.sort((a, b) => order(a.dimension) - order(b.dimension) || b.churnRate - a.churnRate || (a.segment < b.segment ? -1 : 1));
    return {
      periodStart: new Date(this.#startMs).toISOString(),
      periodEnd: new Date(this.#asOfMs).toISOString(),
      minCustomers: this.#minCustomers,
      segments,
      hidden,
    };
  }
}
