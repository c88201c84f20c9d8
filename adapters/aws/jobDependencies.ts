import { buildDatasets, buildFeatureMatrix } from '../../model/features/datasets.ts';
import type { CustomerHistory } from '../../model/features/history.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import type { AwsClients } from './clients.ts';
import { scanCustomerHistories } from './customerScan.ts';
import { S3ModelRegistry } from './modelRegistry.ts';
import { SqsOutreachQueue } from './outreachQueue.ts';
import { DynamoOutreachStore } from './outreachStore.ts';
import { DynamoRiskStore } from './riskStore.ts';
import { S3RunStore } from './runStore.ts';
import type { JobSettings } from '../../lambdas/train-score/config.ts';
import type { JobDependencies } from '../../app/job.ts';

/**
 * The real parts of the job: the events table scan, the feature builder, TF.js training, the S3
 * model registry and the stores. Tests build their own `JobDependencies` instead.
 */
export function createJobDependencies(
  clients: AwsClients,
  settings: JobSettings,
  log: JobDependencies['log'],
  now: () => Date = () => new Date(),
): JobDependencies {
  const { env, horizonDays, churn } = settings;
  const registry = new S3ModelRegistry(clients.s3, env.BUCKET_NAME);
  let backendReady: Promise<string> | undefined;
  return {
    config: settings.config,
    now,
    log,
    histories: (scan) => scanCustomerHistories(clients.documents, { tableName: env.TABLE_NAME, ...scan }),
    buildDatasets: (customers, asOf) => buildDatasets(customers as AsyncIterable<CustomerHistory>, { asOf, horizonDays, churn }),
    buildScoringMatrix: (customers, asOf) => buildFeatureMatrix(customers as AsyncIterable<CustomerHistory>, asOf, { horizonDays, churn }),
    async train(train, validation, options) {
      backendReady ??= initBackend((message) => log(message));
      await backendReady;
      return trainChurnModel(train, validation, { ...options, log: (message) => log(message) });
    },
    registry: {
      register: (result, context) => registry.register(result as Parameters<S3ModelRegistry['register']>[0], context),
      async loadChampion() {
        backendReady ??= initBackend((message) => log(message));
        await backendReady;
        return registry.loadChampion();
      },
    },
    risks: new DynamoRiskStore(clients.documents, env.TABLE_NAME),
    outreach: new DynamoOutreachStore(clients.documents, env.TABLE_NAME),
    queue: new SqsOutreachQueue(clients.sqs, env.OUTREACH_QUEUE_URL),
    runs: new S3RunStore(clients.s3, env.BUCKET_NAME),
  };
}
