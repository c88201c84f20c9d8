import http from 'node:http';
import https from 'node:https';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { UnreadableRecord } from '../../model/events/ingest.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import { type EventResult, type IngestResponse, IngestResponseSchema } from './ingestResponse.ts';
import { signRequest } from './sigv4.ts';

export type { EventResult } from './ingestResponse.ts';

export interface EventsClientOptions {
  /** The ingest API: `https://<api>.execute-api.<region>.amazonaws.com/events` (`/events` is added when missing). */
  endpoint: string;
  /** Signing region (default: AWS_REGION, AWS_DEFAULT_REGION, or the region in an execute-api host name). */
  region?: string;
  /**
   * Credentials or a provider (default: the AWS default chain: env, profile, SSO, container and
   * instance roles; when it finds none, requests go unsigned, which an API without IAM auth takes).
   */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Tries per request when the API answers 429 or 5xx or the connection fails (default 6). */
  maxAttempts?: number;
  /** First retry delay; each retry doubles it, with full jitter, up to 20 s (default 250 ms). */
  baseDelayMs?: number;
  /** Time allowed for one request (default 30 s). */
  timeoutMs?: number;
  /** Told once when the default chain has no credentials and requests go unsigned. */
  onUnsigned?: (reason: string) => void;
}

/** The longest wait between two tries of a batch, whatever the server's Retry-After says. */
const MAX_BACKOFF_MS = 20_000;
/** Counts of a `sendStream` run. */
export interface SendSummary {
  sent: number;
  accepted: number;
  rejected: number;
  unstored: number;
}

export interface EventsClient {
  readonly endpoint: string;
  readonly region: string;
  /** Sends events in batches under the API limits and answers one result per event, in order. */
  send(events: readonly unknown[]): Promise<EventResult[]>;
  /** Sends a stream of records, `concurrency` batches at a time; results arrive per batch, possibly out of order. */
  sendStream(records: AsyncIterable<unknown>, onResults?: (results: EventResult[]) => void): Promise<SendSummary>;
}

/** The API refused the caller (401/403): retrying or sending more cannot help. */
export class EventsApiAuthError extends Error {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    region: string,
    /** Set when the request went unsigned because the default chain had no credentials. */
    readonly unsignedBecause?: string,
  ) {
    super(
      `the ingest API refused the request (${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}): ${serverMessage}. ${
        unsignedBecause === undefined
          ? `The request was signed with SigV4 (service execute-api, region ${region}): check that these credentials are the right ones and may call execute-api:Invoke on this API`
          : `The request was not signed: no AWS credentials were found in the default chain (${unsignedBecause})`
      }; credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, aws sso login or an instance role`,
    );
    this.name = 'EventsApiAuthError';
  }
}

/** The region an API Gateway host name names (`abc.execute-api.eu-west-1.amazonaws.com`). */
export const regionOfHost = (hostname: string): string | undefined => /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(hostname)?.[1];

/** The events URL of an endpoint: `/events` is added to a base URL. */
export function eventsUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`endpoint "${endpoint}" is not a URL; give e.g. https://abc123.execute-api.us-east-1.amazonaws.com/events`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint "${endpoint}" must be http: or https:`);
  if (!url.pathname.endsWith('/events')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/events`;
  return url;
}

interface Item {
  index: number;
  eventId: string | undefined;
  line: string;
}

type Attempt = { status: number; body: string; retryAfterMs: number | undefined } | { error: string };

const eventIdOf = (record: unknown): string | undefined => {
  const id = record !== null && typeof record === 'object' ? (record as { eventId?: unknown }).eventId : undefined;
  return typeof id === 'string' ? id : undefined;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client for producers: signs with SigV4, splits what it is given into requests of at most 500
 * events and 1 MiB, keeps a few in flight, retries 429, 5xx and broken connections with
 * exponential backoff (safe: storing an event id again changes nothing), re-sends only the events
 * a 503 names as unstored, and reports every event's fate. Throws `EventsApiAuthError` on 401/403.
 *
 * @example
 * const client = createEventsClient({ endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/events' });
 * const results = await client.send([{ eventId: 'e1', customerId: 'c1', type: 'session_started', occurredAt: new Date().toISOString(), properties: {} }]);
 * for (const r of results) if (r.status !== 'accepted') console.error(r);
 */
export function createEventsClient(options: EventsClientOptions): EventsClient {
  const url = eventsUrl(options.endpoint);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? regionOfHost(url.hostname);
  if (!region) throw new Error('no signing region: pass region, or set AWS_REGION');
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const baseDelayMs = options.baseDelayMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const given = options.credentials;
  const credentials: AwsCredentialIdentityProvider =
    typeof given === 'function' ? given : given ? async () => given : fromNodeProviderChain();
  const agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });

  /** Why requests go unsigned: the default chain found no credentials (an API without IAM auth still takes them). */
  let unsignedBecause: string | undefined;

  async function post(body: Buffer): Promise<Attempt> {
    let identity: AwsCredentialIdentity | undefined;
    // The chain is asked once more per request only while it has answered: a failed probe of the
    // instance metadata service costs seconds.
    if (unsignedBecause === undefined) {
      try {
        identity = await credentials();
      } catch (error) {
        if (given !== undefined) throw error;
        unsignedBecause = (error as Error).message;
        options.onUnsigned?.(unsignedBecause);
      }
    }
    const unsigned = { 'content-type': 'application/x-ndjson', host: url.host };
    const headers = identity
      ? await signRequest({ method: 'POST', url, headers: unsigned, body }, { region: region as string, credentials: identity })
      : unsigned;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const request = transport.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent });
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', (error) => resolve({ error: error.message }));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', (error) => resolve({ error: error.message }));
        response.on('end', () => {
          const retryAfter = Number(response.headers['retry-after']);
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
          });
        });
      });
      request.end(body);
    });
  }

  // A Retry-After is honoured up to the backoff's own ceiling: one answer must not stall a backfill for an hour.
  const backoff = (attempt: number, retryAfterMs?: number) =>
    sleep(
      Math.min(MAX_BACKOFF_MS, Math.max(retryAfterMs ?? 0, Math.random() * Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** (attempt - 1)))),
    );

  /** Sends one batch until every event has a final result. */
  async function sendBatch(items: Item[]): Promise<EventResult[]> {
    const results: EventResult[] = [];
    let pending = items;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answer = await post(Buffer.from(pending.map((i) => i.line).join('\n'), 'utf8'));
      const retryable = 'error' in answer || answer.status === 429 || (answer.status >= 500 && answer.status !== 503);
      let parsed: IngestResponse | undefined;
      if (!('error' in answer)) {
        if (answer.status === 401 || answer.status === 403)
          throw new EventsApiAuthError(answer.status, messageOf(answer.body), region as string, unsignedBecause);
        try {
          parsed = IngestResponseSchema.parse(JSON.parse(answer.body));
        } catch {
          parsed = undefined;
        }
      }
      const why = 'error' in answer ? `connection failed: ${answer.error}` : `HTTP ${answer.status}: ${messageOf(answer.body)}`;
      if (retryable || (!('error' in answer) && answer.status === 503 && !parsed?.unstored)) {
        if (attempt >= maxAttempts) return [...results, ...pending.map((i) => unstored(i, `${why} (after ${attempt} tries)`))];
        await backoff(attempt, 'error' in answer ? undefined : answer.retryAfterMs);
        continue;
      }
      if (!parsed || (parsed.accepted === 0 && parsed.rejected.length === 0 && !parsed.unstored))
        return [...results, ...pending.map((i) => unstored(i, `the API refused the request: ${why}`))];
      const rejected = new Map(parsed.rejected.map((r) => [r.index, r]));
      const unstoredAt = new Map((parsed.unstored ?? []).map((u) => [u.index, u]));
      const retry: Item[] = [];
      pending.forEach((item, at) => {
        const r = rejected.get(at);
        if (r) results.push({ status: 'rejected', index: item.index, eventId: r.eventId ?? item.eventId, errors: r.errors });
        else if (unstoredAt.has(at)) retry.push(item);
        else results.push({ status: 'accepted', index: item.index, eventId: item.eventId });
      });
      if (retry.length > 0 && attempt >= maxAttempts)
        return [
          ...results,
          ...retry.map((i) => unstored(i, `${unstoredAt.get(pending.indexOf(i))?.reason ?? why} (after ${attempt} tries)`)),
        ];
      if (retry.length > 0) await backoff(attempt, answer.retryAfterMs);
      pending = retry;
    }
    return results;
  }

  async function sendStream(records: AsyncIterable<unknown>, onResults?: (results: EventResult[]) => void): Promise<SendSummary> {
    const summary: SendSummary = { sent: 0, accepted: 0, rejected: 0, unstored: 0 };
    const report = (results: EventResult[]) => {
      for (const r of results) summary[r.status]++;
      onResults?.(results);
    };
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const launch = (items: Item[]) => {
      const running: Promise<void> = sendBatch(items).then(report, (error: unknown) => {
        failure ??= error;
      });
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    };
    let batch: Item[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      launch(batch);
      batch = [];
      batchBytes = 0;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
    };
    let index = 0;
    for await (const record of records) {
      if (failure !== undefined) break;
      const at = index++;
      summary.sent++;
      if (record instanceof UnreadableRecord) {
        report([{ status: 'rejected', index: at, errors: [{ path: record.path, message: record.reason }] }]);
        continue;
      }
      const line = JSON.stringify(record);
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (bytes > EVENT_LIMITS.maxRequestBytes) {
        const message = `event is ${bytes} bytes; a request holds at most ${EVENT_LIMITS.maxRequestBytes}`;
        report([{ status: 'rejected', index: at, eventId: eventIdOf(record), errors: [{ path: '(event)', message }] }]);
        continue;
      }
      if (batch.length >= EVENT_LIMITS.maxEventsPerRequest || batchBytes + bytes > EVENT_LIMITS.maxRequestBytes) await flush();
      batch.push({ index: at, eventId: eventIdOf(record), line });
      batchBytes += bytes;
    }
    if (failure === undefined) await flush();
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return summary;
  }

  async function* fromArray(events: readonly unknown[]): AsyncGenerator<unknown> {
    yield* events;
  }

  return {
    endpoint: url.toString(),
    region,
    sendStream,
    async send(events) {
      const results: EventResult[] = [];
      await sendStream(fromArray(events), (batch) => results.push(...batch));
      return results.sort((a, b) => a.index - b.index);
    },
  };
}

const unstored = (item: Item, reason: string): EventResult => ({ status: 'unstored', index: item.index, eventId: item.eventId, reason });

function messageOf(body: string): string {
  try {
    const message =
      (JSON.parse(body) as { message?: unknown; Message?: unknown }).message ?? (JSON.parse(body) as { Message?: unknown }).Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 300) || '(empty answer)';
}
