import { z } from 'zod';

/** Milliseconds in one day: feature windows, horizons and durations are whole days. */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/**
 * Reads an instant given by a person or a caller: a calendar date `YYYY-MM-DD` (midnight UTC)
 * or an ISO 8601 timestamp with a zone. Returns it as UTC ISO with milliseconds.
 *
 * @param what names the value in the error, e.g. `--as-of`
 * @throws Error naming `what` and the value when it is neither
 * @example parseInstant('2026-03-01', '--as-of') // '2026-03-01T00:00:00.000Z'
 */
export function parseInstant(value: string, what: string): string {
  const text = value.trim();
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const ms = dateOnly ? Date.parse(`${text}T00:00:00Z`) : withZone ? Date.parse(text) : Number.NaN;
  // Date.parse rolls 2026-02-31 over to March 3; a calendar date must exist as written.
  const day = text.slice(0, 10);
  const dayMs = Date.parse(`${day}T00:00:00Z`);
  const realDay = !Number.isNaN(dayMs) && new Date(dayMs).toISOString().slice(0, 10) === day;
  if (Number.isNaN(ms) || !realDay) {
    throw new Error(
      `${what} must be a date YYYY-MM-DD or an ISO 8601 timestamp with a time zone (e.g. 2026-03-01T00:00:00Z), got "${value}"`,
    );
  }
  return new Date(ms).toISOString();
}

/** The first instant of the UTC day after `ms`: a store is taken as complete through the day of its latest event. */
export const startOfNextUtcDay = (ms: number): number => (Math.floor(ms / DAY_MS) + 1) * DAY_MS;

/**
 * The one schema of an instant at a boundary (job input, options, CLI flags): a string read by
 * `parseInstant`, output as UTC ISO with milliseconds. `what` names the field in its error.
 *
 * @example Instant('asOf').parse('2026-03-01') // '2026-03-01T00:00:00.000Z'
 */
export const Instant = (what: string) =>
  z.string({ error: `${what} must be a date or ISO timestamp string` }).transform((s, ctx) => {
    try {
      return parseInstant(s, what);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
