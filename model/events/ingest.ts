import type { ChurnEvent } from './schemas.ts';
import { type EventRejection, validateEvent } from './validate.ts';

/**
 * A record of a request body or file that could not even be read as JSON (a broken NDJSON line,
 * a bad CSV cell). It keeps its position in the batch so that it is rejected at its own index
 * and its readable neighbours still go through.
 */
export class UnreadableRecord {
  constructor(
    /** Why the record could not be read, e.g. "line is not valid JSON: Unexpected token". */
    readonly reason: string,
    /** Where the problem is: `(line)` for text records, a column name for CSV cells. */
    readonly path = '(line)',
  ) {}
}

/** A valid event the store could not write, and why. */
export interface EventWriteFailure {
  event: ChurnEvent;
  reason: string;
}

/**
 * Where ingest writes events. Implementations write every event they are given and report the
 * ones they could not write in `failed`, by object identity; everything else counts as stored.
 * They must not throw for a failed write: a failure is data, so a caller never claims stored
 * what was not, nor loses what was.
 */
export interface EventWriter {
  putEvents(events: readonly ChurnEvent[]): Promise<{ failed: EventWriteFailure[] }>;
}

/** A valid event that was not stored. Re-sending it is safe: writes are idempotent. */
export interface UnstoredEvent {
  index: number;
  eventId: string;
  reason: string;
}

/** What happened to each record of a batch. */
export interface IngestOutcome {
  /** Valid events that are stored (a duplicate in the batch counts: its key holds the last one). */
  accepted: number;
  /** Records that are not valid events, by index. */
  rejected: EventRejection[];
  /** Valid events that could not be stored after retries. */
  unstored: UnstoredEvent[];
}

/**
 * Validates each record on its own and stores the valid ones: a bad record never costs a good
 * one, and a failed write is reported, never hidden.
 *
 * @param raws records as parsed from JSON; `UnreadableRecord` marks one that could not be parsed
 * @param firstIndex index of `raws[0]` in the producer's batch (for chunked files)
 * @example
 * const outcome = await ingestEvents(store, JSON.parse(body));
 * if (outcome.unstored.length > 0) answer503(outcome);
 */
export async function ingestEvents(writer: EventWriter, raws: readonly unknown[], firstIndex = 0): Promise<IngestOutcome> {
  const rejected: EventRejection[] = [];
  const valid: ChurnEvent[] = [];
  const indexOf = new Map<ChurnEvent, number>();
  raws.forEach((raw, i) => {
    const index = firstIndex + i;
    if (raw instanceof UnreadableRecord) {
      rejected.push({ index, errors: [{ path: raw.path, message: raw.reason }] });
      return;
    }
    const checked = validateEvent(raw, index);
    if (!checked.ok) {
      rejected.push(checked.rejection);
      return;
    }
    valid.push(checked.event);
    indexOf.set(checked.event, index);
  });
  const { failed } = valid.length > 0 ? await writer.putEvents(valid) : { failed: [] };
  const unstored = failed
    .map(({ event, reason }) => ({ index: indexOf.get(event) ?? -1, eventId: event.eventId, reason }))
    .sort((a, b) => a.index - b.index);
  return { accepted: valid.length - unstored.length, rejected, unstored };
}
