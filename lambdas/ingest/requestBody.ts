import { EVENT_LIMITS } from '../../model/events/limits.ts';
import { splitNdjson } from '../../model/events/readers/ndjson.ts';

/** An ingest request body, as API Gateway (payload v2) hands it over. */
export interface IngestRequest {
  body?: string | undefined;
  isBase64Encoded?: boolean | undefined;
  /** The `content-type` header. */
  contentType?: string | undefined;
}

/** Records to validate (an `UnreadableRecord` marks an NDJSON line that is not JSON), or why the request as a whole is refused. */
export type ParsedRequest = { ok: true; records: unknown[] } | { ok: false; status: 400 | 413 | 415; message: string };

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const refuse = (status: 400 | 413 | 415, message: string): ParsedRequest => ({ ok: false, status, message });

/** Which body format a content type names, or why it is not supported. */
export function bodyFormat(contentType: string | undefined): 'json' | 'ndjson' | { error: string } {
  if (contentType === undefined || contentType.trim() === '')
    return { error: 'the content-type header is missing; send application/json or application/x-ndjson' };
  const [media = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return { error: `charset "${charset}" is not supported; send UTF-8` };
  if (JSON_TYPES.has(media)) return 'json';
  if (NDJSON_TYPES.has(media)) return 'ndjson';
  return { error: `content type "${media}" is not supported; send application/json or application/x-ndjson` };
}

/**
 * Reads an ingest request body: a JSON array of events, `{ "events": [...] }`, or NDJSON (one
 * event per line), plain or base64-encoded, at most 1 MiB and 500 events. Never throws: a body
 * that cannot be read is a refusal with a status and a reason; an NDJSON line that is not JSON
 * is a record of its own, rejected later at its index, not a refusal of the request.
 */
export function parseIngestRequest(request: IngestRequest): ParsedRequest {
  const format = bodyFormat(request.contentType);
  if (typeof format === 'object') return refuse(415, format.error);
  const bytes = bodyBytes(request);
  if (!(bytes instanceof Uint8Array)) return bytes;
  if (bytes.length > EVENT_LIMITS.maxRequestBytes) return tooLarge(bytes.length);
  let text: string;
  try {
    text = utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return refuse(400, 'body is not valid UTF-8');
  }
  if (text.trim() === '') return refuse(400, 'body is empty; send a JSON array of events');
  const records = format === 'json' ? jsonRecords(text) : splitNdjson(text).map((r) => r.value);
  if (!Array.isArray(records)) return refuse(400, records.error);
  if (records.length === 0) return refuse(400, 'body holds no events');
  if (records.length > EVENT_LIMITS.maxEventsPerRequest)
    return refuse(413, `body holds ${records.length} events, the limit is ${EVENT_LIMITS.maxEventsPerRequest}`);
  return { ok: true, records };
}

const tooLarge = (bytes: number): ParsedRequest => refuse(413, `body is ${bytes} bytes, the limit is ${EVENT_LIMITS.maxRequestBytes}`);

function bodyBytes(request: IngestRequest): Uint8Array | ParsedRequest {
  const body = request.body ?? '';
  if (!request.isBase64Encoded) return Buffer.from(body, 'utf8');
  const compact = body.replace(/\s+/g, '');
  // Size first, cheaply: decoding 100 MB of base64 only to refuse it is waste.
  const decodedBytes = Math.floor((compact.length * 3) / 4) - (compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0);
  if (decodedBytes > EVENT_LIMITS.maxRequestBytes) return tooLarge(decodedBytes);
  if (!BASE64.test(compact) || compact.length % 4 === 1) return refuse(400, 'body is marked base64-encoded but is not valid base64');
  return Buffer.from(compact, 'base64');
}

function jsonRecords(text: string): unknown[] | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return {
      error: `body is not valid JSON (${error instanceof Error ? error.message : String(error)}); send a JSON array of events, or application/x-ndjson`,
    };
  }
  if (Array.isArray(parsed)) return parsed;
  if (
    parsed !== null &&
    typeof parsed === 'object' &&
    Object.keys(parsed).length === 1 &&
    Array.isArray((parsed as { events?: unknown }).events)
  ) {
    return (parsed as { events: unknown[] }).events;
  }
  return { error: 'body must be a JSON array of events or an object { "events": [...] }' };
}
