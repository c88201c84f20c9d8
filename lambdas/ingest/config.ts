import { z } from 'zod';
import { awsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';

/** Settings of the ingest function. */
export const IngestEnv = BaseEnv.extend({
  /** Keep events this many days after they were ingested (DynamoDB TTL); unset keeps them forever. */
  EVENT_TTL_DAYS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : Number(v)))
    .pipe(
      z
        .number({ error: 'must be a number of days' })
        .positive('must be a positive number of days')
        .max(36_500, 'must be at most 36500 days')
        .optional(),
    ),
});
export type IngestEnv = z.output<typeof IngestEnv>;

/** The event store ingest writes to, configured from the environment (TABLE_NAME, EVENT_TTL_DAYS). */
export function eventStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoEventStore {
  const config = parseEnv(IngestEnv, env);
  return new DynamoEventStore(awsClients().documents, { tableName: config.TABLE_NAME, ttlDays: config.EVENT_TTL_DAYS });
}
