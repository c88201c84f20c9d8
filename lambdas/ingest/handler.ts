import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { createIngestHandler } from './createHandler.ts';
import { eventStoreFromEnv } from './store.ts';

const logger = new Logger({ serviceName: 'ingest' });
const metrics = new Metrics({ namespace: 'churnguard', serviceName: 'ingest' });

let store: DynamoEventStore | undefined;

/** API Gateway HTTP API (payload v2) `POST /events`. See createHandler.ts for the contract. */
export const handler = createIngestHandler({
  logger,
  metrics,
  store: () => {
    store ??= eventStoreFromEnv();
    return store;
  },
});

/** Forgets the warm store, e.g. after the local stack moved the endpoints. */
export function resetIngestHandler(): void {
  store = undefined;
}
