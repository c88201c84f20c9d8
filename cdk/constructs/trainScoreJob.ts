import { Duration, IgnoreMode, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvironmentFor } from '../functionEnvironment.ts';
import { environmentFor } from '../functionEnvironment.ts';
import { acknowledge, arnInFinding } from '../nag.ts';
import { REPO_ROOT } from '../paths.ts';
import { retentionFor, suppressBasicExecutionRole } from './nodeFunction.ts';

/** Never shipped in the job image, whatever .dockerignore says. */
export const JOB_ASSET_EXCLUDES = ['node_modules', '.git', '.churnguard', 'cdk.out', 'test-artifacts', 'scratch'];
/** The job's Dockerfile, relative to the build context (the repository root). */
export const JOB_DOCKERFILE = 'lambdas/train-score/Dockerfile';
/** S3 prefixes the job reads and writes: the model registry and the run snapshots. */
export const JOB_S3_PREFIXES = ['models/', 'runs/'] as const;

export interface TrainScoreJobProps {
  readonly table: dynamodb.ITableV2;
  readonly bucket: s3.IBucket;
  readonly queue: sqs.IQueue;
  readonly dataKey: kms.IKey | undefined;
  readonly settings: Omit<EnvironmentFor<'trainScore'>, 'tableName' | 'bucketName' | 'outreachQueueUrl' | 'serviceName'>;
  readonly logRetentionDays: number;
  readonly memorySize?: number;
}

/**
 * The train-and-score job: a container image function (x86_64, because tfjs-node ships libtensorflow
 * for x86_64 Linux) on the Lambda Node.js 22 base image. Failed asynchronous invocations, from the
 * schedules or elsewhere, land in `failures`.
 */
export class TrainScoreJob extends Construct {
  readonly function: lambda.DockerImageFunction;
  /** Dead letters of the job: failed async invocations and schedules that could not invoke it. */
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: TrainScoreJobProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      // Holds only the job input (mode, asOf, runId): no customer data, so SQS-managed keys suffice.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.failures,
      'AwsSolutions-SQS3',
      'This queue is itself a dead-letter destination (failed job invocations and schedule deliveries); the JobFailures alarm watches it.',
    );

    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      description: 'churnguard: features, training, scoring and outreach selection',
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: JOB_DOCKERFILE,
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: JOB_ASSET_EXCLUDES,
      }),
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memorySize ?? 3008,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.mebibytes(2048),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: environmentFor('trainScore', {
        ...props.settings,
        tableName: props.table.tableName,
        bucketName: props.bucket.bucketName,
        outreachQueueUrl: props.queue.queueUrl,
        serviceName: 'churnguard-train-score',
      }),
      // One retry: a run is idempotent per runId (claims are conditional writes), more would only burn 15-minute slots.
      retryAttempts: 1,
      onFailure: new SqsDestination(this.failures),
    });
    suppressBasicExecutionRole(this.function);
    this.grantDataAccess(props);
  }

  private grantDataAccess(props: TrainScoreJobProps): void {
    props.table.grant(
      this.function,
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
    );
    const objectArns = JOB_S3_PREFIXES.map((prefix) => props.bucket.arnForObjects(`${prefix}*`));
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: objectArns }));
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': JOB_S3_PREFIXES.map((prefix) => `${prefix}*`) } },
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'], resources: [props.queue.queueArn] }),
    );
    props.dataKey?.grant(this.function, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    const bucketArn = arnInFinding(props.bucket);
    for (const prefix of JOB_S3_PREFIXES) {
      acknowledge(
        this.function,
        `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
        'Object keys are generated per model version (models/<version>/...) and per run (runs/<runId>/...), so they cannot be listed in advance; the wildcard is limited to those two prefixes of the one churnguard bucket, with Get/Put only.',
      );
    }
  }
}
