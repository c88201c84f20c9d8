import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { eventStoreFromEnv } from '../ingest/config.ts';
import { defineHandler } from '../shared/defineHandler.ts';
import { stripeSettingsFromEnv } from './config.ts';
import { receiveStripeEvent, type StripeOutcome, type StripeReceiver } from './receive.ts';

export interface StripeHandlerDeps {
  /** Store, secrets and lookup, made on first use (a warm Lambda keeps them). */
  receiver: () => StripeReceiver;
  logger?: Logger;
  metrics?: Metrics;
}

export type StripeHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const METRIC: Record<StripeOutcome, string> = {
  refused: 'StripeDeliveriesRefused',
  ignored: 'StripeEventsIgnored',
  stored: 'StripeEventsStored',
  rejected: 'StripeEventsRejected',
  unstored: 'StripeEventsUnstored',
};

/**
 * `POST /integrations/stripe`: a Stripe webhook endpoint. Counts each delivery by outcome; a
 * rejected or unstored event is an error log (someone must look), an ignored one an info log.
 */
export function createStripeHandler(deps: StripeHandlerDeps): StripeHandler {
  return defineHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
    service: 'churnguard-stripe',
    ...(deps.logger && deps.metrics ? { tools: { logger: deps.logger, metrics: deps.metrics } } : {}),
    async handle(event, { logger, metrics }) {
      const { response, outcome, detail } = await receiveStripeEvent(event, deps.receiver());
      metrics.addMetric(METRIC[outcome], MetricUnit.Count, 1);
      const log = outcome === 'rejected' || outcome === 'unstored' ? logger.error.bind(logger) : logger.info.bind(logger);
      log('stripe delivery', { outcome, status: response.statusCode, detail });
      return response;
    },
    onError: () => ({
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ received: false, message: 'internal error: Stripe will retry; storing is idempotent' }),
    }),
  });
}

let receiver: StripeReceiver | undefined;

/** API Gateway HTTP API (payload v2) `POST /integrations/stripe`. */
export const handler = createStripeHandler({
  receiver: () => {
    if (!receiver) {
      const store = eventStoreFromEnv();
      receiver = { store: () => store, ...stripeSettingsFromEnv() };
    }
    return receiver;
  },
});

/** Forgets the warm store and secrets, e.g. after the local stack moved the endpoints. */
export function resetStripeHandler(): void {
  receiver = undefined;
}
