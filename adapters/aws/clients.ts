import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BaseEnv, parseEnv } from './env.ts';

/**
 * The one place where AWS clients are made. Endpoints come the standard way
 * (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SQS`), so the same code
 * talks to AWS or to the local emulators without an `if (local)`.
 */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  s3: S3Client;
  sqs: SQSClient;
}

let cached: AwsClients | undefined;

export function createAwsClients(env: NodeJS.ProcessEnv = process.env): AwsClients {
  const { S3_FORCE_PATH_STYLE } = parseEnv(BaseEnv, env);
  // The SDK retries throttling itself; BatchWriteItem's UnprocessedItems are ours to retry.
  const dynamodb = new DynamoDBClient({ maxAttempts: 5 });
  return {
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    s3: new S3Client({
      forcePathStyle: S3_FORCE_PATH_STYLE,
      // Emulators store aws-chunked framing verbatim unless checksums are only sent when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    sqs: new SQSClient({}),
  };
}

/** Clients shared across warm invocations of a Lambda (created on first use). */
export function awsClients(): AwsClients {
  cached ??= createAwsClients();
  return cached;
}

/** Drops cached clients, e.g. after the local stack changed the endpoints. */
export function resetAwsClients(): void {
  cached = undefined;
}
