import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type EventWriter, ingestEvents } from '../../model/events/ingest.ts';
import { defineHandler } from '../shared/defineHandler.ts';
import { eventStoreFromEnv } from './config.ts';
import { parseIngestRequest } from './requestBody.ts';
import { outcomeResponse, refusal } from './responses.ts';

export interface IngestHandlerDeps {
  /** The store, made on first use (a warm Lambda keeps it). */
  store: () => EventWriter;
  /** Logger and metrics (default: from the environment). */
  logger?: Logger;
  metrics?: Metrics;
}

export type IngestHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const header = (event: APIGatewayProxyEventV2, name: string): string | undefined =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

/**
 * The ingest function: parse the body → `ingestEvents` → HTTP answer, with a log line and the
 * EventsAccepted / EventsRejected / EventsUnstored metrics per request. It never throws: an
 * unexpected error is a 500 that claims nothing stored (re-sending is safe, writes are idempotent).
 */
export function createIngestHandler(deps: IngestHandlerDeps): IngestHandler {
  return defineHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
    service: 'churnguard-ingest',
    ...(deps.logger && deps.metrics ? { tools: { logger: deps.logger, metrics: deps.metrics } } : {}),
    async handle(event, { logger, metrics }) {
      const method = event.requestContext?.http?.method;
      if (method !== undefined && method !== 'POST') {
        metrics.addMetric('RequestsRefused', MetricUnit.Count, 1);
        return refusal(405, `method ${method} is not allowed; POST events`);
      }
      const parsed = parseIngestRequest({
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
        contentType: header(event, 'content-type'),
      });
      if (!parsed.ok) {
        metrics.addMetric('RequestsRefused', MetricUnit.Count, 1);
        logger.info('ingest request refused', { status: parsed.status, reason: parsed.message });
        return refusal(parsed.status, parsed.message);
      }
      const outcome = await ingestEvents(deps.store(), parsed.records);
      metrics.addMetric('EventsAccepted', MetricUnit.Count, outcome.accepted);
      metrics.addMetric('EventsRejected', MetricUnit.Count, outcome.rejected.length);
      if (outcome.unstored.length > 0) metrics.addMetric('EventsUnstored', MetricUnit.Count, outcome.unstored.length);
      const log = outcome.unstored.length > 0 ? logger.error.bind(logger) : logger.info.bind(logger);
      log('ingest request done', {
        accepted: outcome.accepted,
        rejected: outcome.rejected.length,
        unstored: outcome.unstored.length,
        reason: outcome.unstored[0]?.reason,
      });
      return outcomeResponse(outcome);
    },
    onError: () => refusal(500, 'internal error: the events may or may not be stored; re-sending them is safe'),
  });
}

let store: EventWriter | undefined;

/** API Gateway HTTP API (payload v2) `POST /events`. */
export const handler = createIngestHandler({
  store: () => {
    store ??= eventStoreFromEnv();
    return store;
  },
});

/** Forgets the warm store, e.g. after the local stack moved the endpoints. */
export function resetIngestHandler(): void {
  store = undefined;
}
