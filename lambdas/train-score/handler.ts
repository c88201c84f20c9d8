import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsClients } from '../../adapters/aws/clients.ts';
import { createJobDependencies } from '../../adapters/aws/jobDependencies.ts';
import { type JobInput, type JobResult, runJob } from '../../app/job.ts';
import { defineHandler } from '../shared/defineHandler.ts';
import { jobSettingsFromEnv } from './config.ts';

/** What the job answers: where the summary is and the headline figures (small: Step Functions passes it on). */
export type JobAnswer = Pick<JobResult, 'summaryKey' | 'scoresKey'> & { runId: string; scored: number; sent: number };

/**
 * The scheduled job (EventBridge Scheduler), the Step Functions segment worker (`score-segment`) and
 * the fan-out's send step (`send`): input `{ mode, asOf?, runId?, segment?, totalSegments? }`,
 * validated by `runJob`. A failure is rethrown, so the Scheduler retries and its DLQ and alarm see it.
 */
export const handler = defineHandler<JobInput | null | undefined, JobAnswer>({
  service: 'churnguard-train-score',
  async handle(input, { logger, metrics }) {
    const { resources, config } = jobSettingsFromEnv();
    const deps = createJobDependencies(awsClients(), resources, config, (message, fields) => logger.info(message, fields ?? {}));
    const { summary, summaryKey, scoresKey } = await runJob(input ?? {}, deps);
    metrics.addMetric('CustomersScored', MetricUnit.Count, summary.scoring.customersScored);
    metrics.addMetric('OutreachQueued', MetricUnit.Count, summary.outreach.sent);
    metrics.addMetric('OutreachQueueFailed', MetricUnit.Count, summary.outreach.failed);
    metrics.addMetric('FeaturesDrifted', MetricUnit.Count, summary.drift.filter((d) => d.flagged).length);
    if (summary.training?.trainedBecause === 'no-champion') metrics.addMetric('TrainedWithoutChampion', MetricUnit.Count, 1);
    return {
      runId: summary.runId,
      summaryKey,
      ...(scoresKey ? { scoresKey } : {}),
      scored: summary.scoring.customersScored,
      sent: summary.outreach.sent,
    };
  },
});
