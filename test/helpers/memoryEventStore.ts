import { customerPk, eventSk } from '../../adapters/aws/keys.ts';
import type { EventStore } from '../../app/ports.ts';
import type { EventWriteFailure } from '../../model/events/ingest.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';

/**
 * `EventStore` in memory, keyed like the table (a re-sent event overwrites itself). Tests that
 * need storage failures set `failWhen` to refuse some events.
 */
export class MemoryEventStore implements EventStore {
  readonly items = new Map<string, ChurnEvent>();
  putCalls = 0;

  constructor(private readonly failWhen: (event: ChurnEvent) => string | undefined = () => undefined) {}

  async putEvents(events: readonly ChurnEvent[]): Promise<{ failed: EventWriteFailure[] }> {
    this.putCalls++;
    const failed: EventWriteFailure[] = [];
    for (const event of events) {
      const reason = this.failWhen(event);
      if (reason === undefined) this.items.set(`${customerPk(event.customerId)}|${eventSk(event.occurredAt, event.eventId)}`, event);
      else failed.push({ event, reason });
    }
    return { failed };
  }

  async listCustomerEvents(customerId: string, options: { limit?: number } = {}): Promise<ChurnEvent[]> {
    const prefix = `${customerPk(customerId)}|`;
    const events = [...this.items.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, e]) => e);
    return options.limit === undefined ? events : events.slice(0, options.limit);
  }

  has(event: Pick<ChurnEvent, 'customerId' | 'occurredAt' | 'eventId'>): boolean {
    return this.items.has(`${customerPk(event.customerId)}|${eventSk(new Date(event.occurredAt).toISOString(), event.eventId)}`);
  }
}
