import type { JobConfig } from '../../app/jobConfig.ts';
import type { JobDependencies } from '../../app/ports.ts';
import { buildDatasets, buildFeatureMatrix } from '../../model/features/datasets.ts';
import type { CustomerHistory } from '../../model/features/history.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { trainingFingerprint } from '../../model/nn/fingerprint.ts';
import { fingerprintedSettings, type TrainResult, trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import type { AwsClients } from './clients.ts';
import { scanCustomerHistories } from './customerScan.ts';
import { SqsDeadLetterQueue } from './deadLetterQueue.ts';
import { DynamoEventStore } from './eventStore.ts';
import { S3ModelRegistry } from './modelRegistry.ts';
import { DynamoOutreachLedger } from './outreachLedger.ts';
import { SqsOutreachQueue } from './outreachQueue.ts';
import { DynamoRiskStore } from './riskStore.ts';
import { S3RunStore } from './runStore.ts';

/** Where the job's data lives: the table, the bucket and the outreach queue. */
export interface JobResources {
  tableName: string;
  bucketName: string;
  outreachQueueUrl: string;
}

/**
 * The real parts of the job: the events table scan, the feature builder, TF.js training, the S3
 * model registry and the stores. The Lambda handler and the CLI both wire the job with this, so
 * they run the same code; tests build their own `JobDependencies` instead.
 *
 * @example const deps = createJobDependencies(awsClients(), { tableName, bucketName, outreachQueueUrl }, config, log);
 */
export function createJobDependencies(
  clients: AwsClients,
  resources: JobResources,
  config: JobConfig,
  log: JobDependencies['log'],
  now: () => Date = () => new Date(),
): JobDependencies {
  const { horizonDays, churn } = config;
  const registry = new S3ModelRegistry(clients.s3, resources.bucketName);
  const events = new DynamoEventStore(clients.documents, { tableName: resources.tableName });
  let backendReady: Promise<string> | undefined;
  const backend = () => (backendReady ??= initBackend((message) => log(message)));
  return {
    config,
    now,
    log,
    latestEventAt: () => events.latestEventAt(),
    histories: (scan) =>
      scanCustomerHistories(clients.documents, {
        tableName: resources.tableName,
        ...scan,
        onInvalidItem: (item) => log('skipped a stored item that is not a valid event', { ...item }),
      }),
    buildDatasets: (customers, asOf) => buildDatasets(customers as AsyncIterable<CustomerHistory>, { asOf, horizonDays, churn }),
    buildScoringMatrix: (customers, asOf, question = { horizonDays, churn }) =>
      buildFeatureMatrix(customers as AsyncIterable<CustomerHistory>, asOf, question),
    fingerprint: (train, validation, request) => trainingFingerprint(train, validation, fingerprintedSettings(request)),
    async train(train, validation, request) {
      await backend();
      return trainChurnModel(train, validation, { ...request, log: (message) => log(message) });
    },
    registry: {
      register: (result, context) => registry.register(result as TrainResult, context),
      async loadChampion() {
        await backend();
        return registry.loadChampion();
      },
    },
    risks: new DynamoRiskStore(clients.documents, resources.tableName),
    outreach: new DynamoOutreachLedger(clients.documents, resources.tableName),
    queue: new SqsOutreachQueue(clients.sqs, resources.outreachQueueUrl),
    deadLetters: new SqsDeadLetterQueue(clients.sqs, resources.outreachQueueUrl),
    runs: new S3RunStore(clients.s3, resources.bucketName),
  };
}
