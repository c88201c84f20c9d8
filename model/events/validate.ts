import type { z } from 'zod';
import { EVENT_LIMITS } from './limits.ts';
import { ChurnEvent } from './schemas.ts';

/** One problem with one field of one event. `path` is dotted: `properties.amountCents`. */
export interface FieldError {
  path: string;
  message: string;
}

/** Why the event at `index` of a batch was not accepted. */
export interface EventRejection {
  index: number;
  eventId?: string;
  errors: FieldError[];
}

export type EventValidation = { ok: true; event: ChurnEvent } | { ok: false; rejection: EventRejection };

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? '(event)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');

/** Turns zod issues into field errors a producer can act on. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

const eventIdOf = (raw: unknown): string | undefined => {
  if (raw && typeof raw === 'object' && 'eventId' in raw) {
    const value = (raw as { eventId: unknown }).eventId;
    if (typeof value === 'string' && value.length <= EVENT_LIMITS.maxIdLength) return value;
  }
  return undefined;
};

/**
 * Validates one event on its own, so that a bad neighbour never costs a good event.
 *
 * @example
 * const result = validateEvent(JSON.parse(line), 3);
 * if (!result.ok) console.error(result.rejection.errors);
 */
export function validateEvent(raw: unknown, index: number): EventValidation {
  const eventId = eventIdOf(raw);
  const reject = (errors: FieldError[]): EventValidation => ({
    ok: false,
    rejection: { index, ...(eventId === undefined ? {} : { eventId }), errors },
  });
  const shape = describeNonObject(raw);
  if (shape !== undefined) return reject([{ path: '(event)', message: `event must be a JSON object, got ${shape}` }]);
  const size = serialisedSize(raw);
  if (size === undefined) return reject([{ path: '(event)', message: 'event is nested too deeply to be read' }]);
  if (size > EVENT_LIMITS.maxEventBytes) {
    return reject([{ path: '(event)', message: `event is ${size} bytes, the limit is ${EVENT_LIMITS.maxEventBytes}` }]);
  }
  const parsed = ChurnEvent.safeParse(raw);
  if (parsed.success) return { ok: true, event: parsed.data };
  return reject(toFieldErrors(parsed.error));
}

/** Names what `raw` is when it is not a plain object, so the producer sees what arrived. */
function describeNonObject(raw: unknown): string | undefined {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  if (typeof raw !== 'object') return `a ${typeof raw}`;
  return undefined;
}

/**
 * UTF-8 size of the event as JSON, or undefined when it cannot be serialised: a hostile body
 * nested a hundred thousand levels deep overflows `JSON.stringify`'s stack, and that must be a
 * rejection of this event, not a crash of the whole request.
 */
function serialisedSize(raw: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(raw) ?? '', 'utf8');
  } catch {
    return undefined;
  }
}

export interface BatchValidation {
  valid: Array<{ index: number; event: ChurnEvent }>;
  rejected: EventRejection[];
}

/** Validates every event of a batch independently. */
export function validateEvents(raws: readonly unknown[], firstIndex = 0): BatchValidation {
  const result: BatchValidation = { valid: [], rejected: [] };
  raws.forEach((raw, i) => {
    const checked = validateEvent(raw, firstIndex + i);
    if (checked.ok) result.valid.push({ index: firstIndex + i, event: checked.event });
    else result.rejected.push(checked.rejection);
  });
  return result;
}
