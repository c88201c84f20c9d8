import type { ChurnEvent } from '../events/schemas.ts';

/** Every event of one customer, the unit the feature builders consume. */
export interface CustomerHistory {
  customerId: string;
  /** Sorted by occurredAt, then eventId (the order of the table's sort keys). */
  events: ChurnEvent[];
}

/** The order of events in a history: time, then eventId (as the `E#<occurredAt>#<eventId>` sort key). */
export function compareEvents(a: ChurnEvent, b: ChurnEvent): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt < b.occurredAt ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** The events in history order; the same array when it is already sorted (the usual case). */
export function sortedEvents(events: ChurnEvent[]): ChurnEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1] as ChurnEvent, events[i] as ChurnEvent) > 0) return [...events].sort(compareEvents);
  }
  return events;
}

/**
 * Groups loose events into histories, customers in order of first appearance. Holds every event
 * in memory: for tests, imports and small data; stores stream histories instead.
 */
export function groupHistories(events: Iterable<ChurnEvent>): CustomerHistory[] {
  const byCustomer = new Map<string, ChurnEvent[]>();
  for (const event of events) {
    const list = byCustomer.get(event.customerId);
    if (list) list.push(event);
    else byCustomer.set(event.customerId, [event]);
  }
  return [...byCustomer].map(([customerId, list]) => ({ customerId, events: sortedEvents(list) }));
}

/** An async stream of histories, as `buildDatasets` and `buildFeatureMatrix` consume them. */
export async function* streamHistories(histories: Iterable<CustomerHistory>): AsyncIterable<CustomerHistory> {
  for (const history of histories) yield history;
}
