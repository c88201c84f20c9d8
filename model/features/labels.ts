import type { ChurnEvent } from '../events/schemas.ts';
import type { ChurnDefinition } from './churnDefinition.ts';
import { ACTIVITY_TYPES } from './snapshot.ts';
import { DAY_MS } from './time.ts';

/**
 * Point-in-time churn status and labels. The rules, for a cutoff T and a horizon h:
 *
 * - A customer exists at T when they have an event before T.
 * - They are active at T (eligible as an example, or for scoring) when, from events strictly
 *   before T: `cancelled`: their latest subscription event (started / cancelled / reactivated) is
 *   not a cancellation; `inactive:N`: their latest activity is less than N days before T (N full
 *   days without activity is churn). Customers already gone at T are not examples.
 * - The label is their status at the end of the horizon, T + h, judged from events up to and
 *   including T + h: 1 when churned then, else 0. So churn in (T, T + h] counts, including at
 *   exactly T + h; a cancellation reversed (reactivated or restarted) before T + h is a save, not a
 *   loss, because the label measures who is gone when the horizon ends.
 * - `cancelled`: a cancellation at exactly T belongs to neither side (features see only events
 *   before T, the window starts after T): the label is unknown (-1), so the customer is never an
 *   example at T, and is never counted as having stayed.
 * - The caller makes labels unknown when T + h is beyond what the data covers.
 */
export type Label = 1 | 0 | -1;

const STATUS_TYPES: ReadonlySet<ChurnEvent['type']> = new Set([
  'subscription_started',
  'subscription_cancelled',
  'subscription_reactivated',
]);

/** Whether the customer is active at the cutoff, from `events[0, end)` (the events before it). */
export function isActiveAt(
  events: readonly ChurnEvent[],
  times: Float64Array,
  end: number,
  cutoffMs: number,
  churn: ChurnDefinition,
): boolean {
  if (end === 0) return false;
  if (churn.kind === 'cancelled') {
    for (let i = end - 1; i >= 0; i--) {
      const event = events[i] as ChurnEvent;
      if (STATUS_TYPES.has(event.type)) return event.type !== 'subscription_cancelled';
    }
    return true;
  }
  // No activity before the cutoff (NaN) is not active either.
  return cutoffMs - latestActivityMs(events, times, end) < churn.days * DAY_MS;
}

/** The time of the latest activity event in `events[0, end)`, NaN when there is none. */
function latestActivityMs(events: readonly ChurnEvent[], times: Float64Array, end: number): number {
  for (let i = end - 1; i >= 0; i--) {
    if (ACTIVITY_TYPES.has((events[i] as ChurnEvent).type)) return times[i] as number;
  }
  return Number.NaN;
}

/**
 * The label at the cutoff for a customer active at it: status at `cutoff + horizon` (see above).
 * `end` is the index of the first event at or after the cutoff.
 */
export function labelAt(
  events: readonly ChurnEvent[],
  times: Float64Array,
  end: number,
  cutoffMs: number,
  horizonDays: number,
  churn: ChurnDefinition,
): Label {
  const horizonEndMs = cutoffMs + horizonDays * DAY_MS;
  if (churn.kind === 'cancelled') {
    let lastStatus: ChurnEvent['type'] | undefined;
    for (let i = end; i < events.length; i++) {
      const event = events[i] as ChurnEvent;
      if ((times[i] as number) > horizonEndMs) break;
      if (times[i] === cutoffMs && event.type === 'subscription_cancelled') return -1;
      if (STATUS_TYPES.has(event.type)) lastStatus = event.type;
    }
    return lastStatus === 'subscription_cancelled' ? 1 : 0;
  }
  let lastActivityMs = Number.NaN;
  for (let i = end; i < events.length; i++) {
    const event = events[i] as ChurnEvent;
    if ((times[i] as number) > horizonEndMs) break;
    if (ACTIVITY_TYPES.has(event.type)) lastActivityMs = times[i] as number;
  }
  if (Number.isNaN(lastActivityMs)) lastActivityMs = latestActivityMs(events, times, end);
  return cutoffMs + horizonDays * DAY_MS - lastActivityMs >= churn.days * DAY_MS ? 1 : 0;
}
