import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE } from '../../adapters/aws/keys.ts';
import { acknowledge } from '../nag.ts';

export type EncryptionChoice = 'aws-managed' | 'customer-managed';

export interface StorageProps {
  /** `customer-managed`: one KMS key (yearly rotation) encrypts the table, bucket and outreach queues. */
  readonly encryption: EncryptionChoice;
  /** Table deletion protection, and RETAIN (not DESTROY) for the table, bucket and key. */
  readonly deletionProtection: boolean;
  /** Days the `runs/<runId>/` snapshots are kept. */
  readonly runsRetentionDays: number;
}

/** Days S3 server access logs are kept. */
const ACCESS_LOG_RETENTION_DAYS = 365;
/** Days a replaced model artefact version is kept (versioning is the registry's undo). */
const NONCURRENT_VERSION_DAYS = 90;

/**
 * The data at rest: one DynamoDB table (events, profiles, risk, outreach claims, idempotency records)
 * and one S3 bucket (model registry under `models/`, run snapshots under `runs/`).
 */
export class Storage extends Construct {
  readonly table: dynamodb.TableV2;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  /** Present only with `encryption: 'customer-managed'`. */
  readonly dataKey: kms.Key | undefined;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.dataKey =
      props.encryption === 'customer-managed'
        ? new kms.Key(this, 'DataKey', {
            description: 'churnguard data at rest: table, bucket, outreach queues',
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: this.dataKey ? dynamodb.TableEncryptionV2.customerManagedKey(this.dataKey) : dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: props.deletionProtection,
      removalPolicy,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging can only deliver to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) }],
      removalPolicy,
    });
    acknowledge(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This bucket is the server access log destination of the data bucket; logging it into itself would create a feedback loop and logging it elsewhere would need a third bucket with the same question.',
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: this.dataKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      ...(this.dataKey ? { encryptionKey: this.dataKey, bucketKeyEnabled: true } : {}),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'churnguard-bucket/',
      lifecycleRules: [
        {
          id: 'expire-run-snapshots',
          prefix: 'runs/',
          expiration: Duration.days(props.runsRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'expire-replaced-model-files', prefix: 'models/', noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });
  }
}
