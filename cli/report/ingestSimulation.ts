import { type EventWriter, ingestEvents } from '../../model/events/ingest.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { CustomerTruth, SimulatedCustomer } from '../../model/simulate/index.ts';

export interface SimulationIngest {
  customers: number;
  events: number;
  accepted: number;
  rejected: number;
  unstored: number;
  elapsedMs: number;
  truth: CustomerTruth[];
}

export interface IngestSimulationOptions {
  /** Requests in flight at once (default 4): the ingest Lambda scales out the same way. */
  concurrency?: number;
  onProgress?: (progress: { customers: number; events: number; accepted: number }) => void;
}

/**
 * Sends simulated customers through the ingest path (`ingestEvents`: per-event validation, then
 * the event store's BatchWriteItem) in request-sized batches, a few requests at a time. Streams:
 * only the requests in flight are in memory. Writes are idempotent, so re-running is safe.
 */
export async function ingestSimulation(
  customers: Iterable<SimulatedCustomer>,
  writer: EventWriter,
  options: IngestSimulationOptions = {},
): Promise<SimulationIngest> {
  const concurrency = options.concurrency ?? 4;
  const started = performance.now();
  const result: SimulationIngest = { customers: 0, events: 0, accepted: 0, rejected: 0, unstored: 0, elapsedMs: 0, truth: [] };
  const inFlight = new Set<Promise<void>>();
  let batch: ChurnEvent[] = [];
  let batchBytes = 0;

  const send = async (events: ChurnEvent[]) => {
    const outcome = await ingestEvents(writer, events);
    result.accepted += outcome.accepted;
    result.rejected += outcome.rejected.length;
    result.unstored += outcome.unstored.length;
    options.onProgress?.({ customers: result.customers, events: result.events, accepted: result.accepted });
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const request = send(batch).finally(() => inFlight.delete(request));
    inFlight.add(request);
    batch = [];
    batchBytes = 0;
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };

  for (const customer of customers) {
    result.customers++;
    result.truth.push(customer.truth);
    for (const event of customer.events) {
      // Approximate size of the event in a request body; the limit is 1 MiB per request.
      const bytes = 64 + event.eventId.length + event.customerId.length + JSON.stringify(event.properties).length;
      if (batch.length >= EVENT_LIMITS.maxEventsPerRequest || batchBytes + bytes > EVENT_LIMITS.maxRequestBytes) await flush();
      batch.push(event);
      batchBytes += bytes;
      result.events++;
    }
  }
  await flush();
  await Promise.all(inFlight);
  result.elapsedMs = performance.now() - started;
  return result;
}
