import { createRequire } from 'node:module';
import path from 'node:path';
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
import { createNodeFunction, retentionFor, suppressBasicExecutionRole } from './nodeFunction.ts';

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
  /** `zip` (default): a Node.js function on TF.js WebAssembly, built without Docker. `container`: the tfjs-node image. */
  readonly packaging: JobPackaging;
  readonly memorySize?: number;
}

export type JobPackaging = 'zip' | 'container';

/**
 * Memory of the zip job (docs/operations.md, "Sizing the job"): measured by `npm run test:artifacts`,
 * a first run that trains and scores 300 customers peaks at about 215 MB resident, leaving room for
 * far larger tables; at 2048 MB Lambda gives a little over one vCPU, and the wasm backend runs on one
 * thread, so more memory would not make it faster.
 */
export const ZIP_JOB_MEMORY_MB = 2048;
/** The container job: tfjs-node uses every core Lambda gives, and libtensorflow needs room of its own. */
export const CONTAINER_JOB_MEMORY_MB = 3008;

/** The WebAssembly binaries of @tensorflow/tfjs-backend-wasm, which the bundle loads from its own folder. */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** The folder of the installed wasm backend's binaries (its package's dist/, beside the main entry). */
export const wasmSourceFolder = (): string => path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));

/**
 * The train-and-score job. By default a zip function (Node.js 22, arm64): esbuild bundles TF.js and
 * its WebAssembly backend, and the .wasm files are copied beside the bundle, so deploying needs no
 * Docker. With `packaging: 'container'`, a container image (x86_64, because tfjs-node ships
 * libtensorflow for x86_64 Linux) on the Lambda Node.js 22 base image, for training sets where
 * the native backend's speed matters. Failed asynchronous invocations, from the schedules or
 * elsewhere, land in `failures`.
 */
export class TrainScoreJob extends Construct {
  readonly function: lambda.Function;
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

    const environment = environmentFor('trainScore', {
      ...props.settings,
      tableName: props.table.tableName,
      bucketName: props.bucket.bucketName,
      outreachQueueUrl: props.queue.queueUrl,
      serviceName: 'churnguard-train-score',
    });
    const description = 'churnguard: features, training, scoring and outreach selection';
    this.function =
      props.packaging === 'zip' ? this.zipFunction(props, description, environment) : this.imageFunction(props, description, environment);
    this.configureAsyncInvoke();
    this.grantDataAccess(props);
  }

  private zipFunction(props: TrainScoreJobProps, description: string, environment: Record<string, string>): lambda.Function {
    const wasmFolder = wasmSourceFolder();
    return createNodeFunction(this, 'Function', {
      entry: 'lambdas/train-score/handler.ts',
      description,
      environment,
      memorySize: props.memorySize ?? ZIP_JOB_MEMORY_MB,
      timeout: Duration.minutes(15),
      logRetentionDays: props.logRetentionDays,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        // The bundle finds the binaries beside itself (model/nn/backend.ts): copy them into the asset.
        afterBundling: (_inputDir: string, outputDir: string) =>
          WASM_FILES.map((file) => `cp ${JSON.stringify(path.join(wasmFolder, file))} ${JSON.stringify(path.join(outputDir, file))}`),
      },
    });
  }

  private imageFunction(props: TrainScoreJobProps, description: string, environment: Record<string, string>): lambda.Function {
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const fn = new lambda.DockerImageFunction(this, 'Function', {
      description,
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: JOB_DOCKERFILE,
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: JOB_ASSET_EXCLUDES,
      }),
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memorySize ?? CONTAINER_JOB_MEMORY_MB,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.mebibytes(2048),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
    });
    suppressBasicExecutionRole(fn);
    return fn;
  }

  /** One retry: a run is idempotent per runId (claims are conditional writes), more would only burn 15-minute slots. */
  private configureAsyncInvoke(): void {
    this.function.configureAsyncInvoke({ retryAttempts: 1, onFailure: new SqsDestination(this.failures) });
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
