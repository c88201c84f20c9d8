import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { defineHandler } from '../shared/defineHandler.ts';
import { consumerFromEnv } from './config.ts';

let consumer: ReturnType<typeof consumerFromEnv> | undefined;

/** SQS → outreach delivery (signed webhook, or a dry-run log), reporting partial batch failures. */
export const handler = defineHandler<SQSEvent, SQSBatchResponse>({
  service: 'churnguard-outreach',
  async handle(event, { logger, metrics }, context) {
    consumer ??= consumerFromEnv(process.env, logger);
    const response = await consumer(event, context);
    const failed = response.batchItemFailures.length;
    metrics.addMetric('OutreachDelivered', MetricUnit.Count, event.Records.length - failed);
    metrics.addMetric('OutreachDeliveryFailed', MetricUnit.Count, failed);
    return response;
  },
});
