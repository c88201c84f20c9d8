import { ChurnEvent, type ChurnEventInput } from '../../model/events/schemas.ts';
import type { CustomerHistory } from '../../model/features/history.ts';
import { groupHistories, streamHistories } from '../../model/features/history.ts';
import { DAY_MS, HOUR_MS } from '../../model/features/time.ts';

/** The cutoff most feature tests look from. */
export const T = '2026-06-01T00:00:00.000Z';
export const T_MS = Date.parse(T);

/** An instant `days` days (fractions allowed) relative to the cutoff T (negative: before). */
export const at = (days: number, hours = 0): string => new Date(T_MS + days * DAY_MS + hours * HOUR_MS).toISOString();

let counter = 0;

type Props<K extends ChurnEvent['type']> = Extract<ChurnEventInput, { type: K }>['properties'];

/** A validated event of customer `customerId` (default `c1`) at `occurredAt`. */
export function ev<K extends ChurnEvent['type']>(
  type: K,
  occurredAt: string,
  properties: Props<K>,
  customerId = 'c1',
  eventId?: string,
): ChurnEvent {
  counter++;
  return ChurnEvent.parse({ eventId: eventId ?? `e${String(counter).padStart(6, '0')}`, customerId, type, occurredAt, properties });
}

export const session = (occurredAt: string, customerId = 'c1') => ev('session_started', occurredAt, {}, customerId);
export const cancel = (occurredAt: string, customerId = 'c1') => ev('subscription_cancelled', occurredAt, {}, customerId);
export const start = (occurredAt: string, mrrCents = 4900, customerId = 'c1') =>
  ev('subscription_started', occurredAt, { plan: 'pro', mrrCents }, customerId);
export const profile = (occurredAt: string, attributes: Record<string, string | number | boolean | null>, customerId = 'c1') =>
  ev('customer_profile', occurredAt, { attributes }, customerId);

/** Histories of the given events, streamed as the builders consume them. */
export const histories = (events: ChurnEvent[]): AsyncIterable<CustomerHistory> => streamHistories(groupHistories(events));
