import { DAY_MS, parseInstant } from '../model/features/time.ts';
import type { EventWatermark } from './ports.ts';

/**
 * The as-of every command and run uses when none is given, in words (help texts and errors say it):
 * just after the latest stored event, so that every stored event counts. "Now" would score nobody
 * on imported or simulated history, where nobody has been active for months; with a live feed the
 * two are minutes apart. Scheduled runs pass their scheduled time explicitly.
 */
export const AS_OF_DEFAULT = 'just after the latest stored event';

/** Days between the latest event and an explicit as-of beyond which a run warns of a silent feed. */
export const SILENT_FEED_DAYS = 3;

export interface ResolvedAsOf {
  /** UTC ISO instant with milliseconds. */
  asOf: string;
  /** True when the default policy chose it. */
  defaulted: boolean;
  /** The newest stored event, when any. */
  latestEventAt: string | undefined;
}

/**
 * The one as-of policy of train, score, features and run: `requested` (a date `YYYY-MM-DD` or an
 * ISO 8601 instant) when given, else {@link AS_OF_DEFAULT}. An explicit as-of well after the
 * newest event is allowed (the daily job scores at its scheduled time) but logged: a feed that
 * went silent raises everyone's risk.
 *
 * @throws Error when no as-of is given and no event is stored, or when `requested` is not an instant
 * @example await resolveAsOf(undefined, eventStore) // { asOf: '2026-06-30T17:04:12.001Z', defaulted: true, ... }
 */
export async function resolveAsOf(
  requested: string | undefined,
  watermark: EventWatermark,
  log: (message: string) => void = () => {},
): Promise<ResolvedAsOf> {
  const explicit = requested === undefined ? undefined : parseInstant(requested, 'as-of');
  const latestEventAt = await watermark.latestEventAt();
  if (explicit !== undefined) {
    const silentDays = latestEventAt === undefined ? undefined : (Date.parse(explicit) - Date.parse(latestEventAt)) / DAY_MS;
    if (silentDays !== undefined && silentDays > SILENT_FEED_DAYS) {
      log(
        `no events in the ${Math.floor(silentDays)} days before as-of ${explicit} (the latest is at ${latestEventAt}): is the event feed silent?`,
      );
    }
    return { asOf: explicit, defaulted: false, latestEventAt };
  }
  if (latestEventAt === undefined) {
    throw new Error(
      'no events are stored yet, so there is no default as-of: ingest or import events first (churnguard ingest, churnguard import), or pass --as-of',
    );
  }
  return { asOf: new Date(Date.parse(latestEventAt) + 1).toISOString(), defaulted: true, latestEventAt };
}
