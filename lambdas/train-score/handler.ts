import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsClients } from '../../adapters/aws/clients.ts';
import { jobSettingsFromEnv } from './config.ts';
import { createJobDependencies } from '../../adapters/aws/jobDependencies.ts';
import { runJob, type JobInput, type JobResult } from '../../app/job.ts';

const logger = new Logger({ serviceName: 'churnguard-train-score' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'churnguard', serviceName: 'churnguard-train-score' });

/**
 * The scheduled job (EventBridge Scheduler), the Step Functions segment worker (`score-segment`) and
 * the fan-out's send step (`send`): input `{ mode, asOf?, runId?, segment?, totalSegments? }`, validated by `runJob`. Returns where the
 * summary is and the headline figures (small: Step Functions passes it on).
 */
export const handler = async (input: JobInput): Promise<Pick<JobResult, 'summaryKey' | 'scoresKey'> & { runId: string; scored: number; sent: number }> => {
  const settings = jobSettingsFromEnv();
  const deps = createJobDependencies(awsClients(), settings, (message, fields) => logger.info(message, fields ?? {}));
  const { summary, summaryKey, scoresKey } = await runJob(input ?? {}, deps);
  metrics.addMetric('CustomersScored', MetricUnit.Count, summary.scoring.customersScored);
  metrics.addMetric('OutreachQueued', MetricUnit.Count, summary.outreach.sent);
  metrics.addMetric('OutreachQueueFailed', MetricUnit.Count, summary.outreach.failed);
  metrics.addMetric('FeaturesDrifted', MetricUnit.Count, summary.drift.filter((d) => d.flagged).length);
  metrics.publishStoredMetrics();
  return { runId: summary.runId, summaryKey, ...(scoresKey ? { scoresKey } : {}), scored: summary.scoring.customersScored, sent: summary.outreach.sent };
};
