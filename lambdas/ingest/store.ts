import { awsClients } from '../../adapters/aws/clients.ts';
import { parseEnv } from '../../adapters/aws/env.ts';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { IngestEnv } from './config.ts';

/** The event store ingest writes to, configured from the environment (TABLE_NAME, EVENT_TTL_DAYS). */
export function eventStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoEventStore {
  const config = parseEnv(IngestEnv, env);
  return new DynamoEventStore(awsClients().documents, { tableName: config.TABLE_NAME, ttlDays: config.EVENT_TTL_DAYS });
}
