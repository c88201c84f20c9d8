import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, createAwsClients } from '../../../adapters/aws/clients.ts';
import { LOCAL_RESOURCES } from '../../../cli/local/localResources.ts';
import { type LocalStack, openLocalStack } from '../../../cli/local/localStack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../cli/report/webhookReceiver.ts';
import { resourcesOfType, type Template } from './cloudAssembly.ts';

/**
 * The deployed stack's resources, stood in for on this machine: the embedded emulators of the
 * local stack (dynalite, s3rver, the SQS emulator) for the table, the bucket and every queue of
 * the template (created with the template's visibility timeout and redrive policy), a Secrets
 * Manager endpoint that answers GetSecretValue for the template's secrets, and a webhook receiver
 * in place of the CRM. `environmentFor` turns a function's template variables into local values.
 */
export interface LocalCloud {
  dataDir: string;
  stack: LocalStack;
  clients: AwsClients;
  webhook: WebhookReceiver;
  /** The webhook signing key the Secrets Manager stand-in holds. */
  webhookSecret: string;
  /** The Stripe endpoint secret (whsec_…) it holds for the Stripe function's secret. */
  stripeSecret: string;
  /** Local URL of the template's queue `logicalId`. */
  queueUrl(logicalId: string): string;
  queueArn(logicalId: string): string;
  /** A function's environment: the template's variables resolved to the local resources, plus the emulator endpoints. */
  environmentFor(variables: Record<string, unknown>): Record<string, string>;
  close(): Promise<void>;
}

const REGION = 'us-east-1';

/** A Secrets Manager stand-in (JSON protocol, GetSecretValue only): enough for the consumer's one call. */
async function startSecretsManager(secrets: Map<string, string>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const value = SecretId === undefined ? undefined : secrets.get(SecretId);
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        response.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` }));
        return;
      }
      response.writeHead(200).end(JSON.stringify({ ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'v1' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('secrets stand-in has no address');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** Starts the stand-ins for `template`'s resources. */
export async function startLocalCloud(template: Template): Promise<LocalCloud> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-artifacts-'));
  const stack = await openLocalStack(dataDir);
  const clients = createAwsClients();
  const queueUrls = new Map<string, string>();
  const queueArn = (logicalId: string) => `arn:aws:sqs:${REGION}:${LOCAL_RESOURCES.accountId}:${logicalId}`;

  // Dead-letter queues first: a queue's redrive policy names its DLQ by ARN.
  const queues = resourcesOfType(template, 'AWS::SQS::Queue').sort(([, a], [, b]) =>
    a.Properties?.RedrivePolicy === undefined ? -1 : b.Properties?.RedrivePolicy === undefined ? 1 : 0,
  );
  for (const [logicalId, resource] of queues) {
    const props = resource.Properties ?? {};
    const redrive = props.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number } | undefined;
    const attributes: Record<string, string> = {};
    if (props.VisibilityTimeout !== undefined) attributes.VisibilityTimeout = String(props.VisibilityTimeout);
    if (props.MessageRetentionPeriod !== undefined) attributes.MessageRetentionPeriod = String(props.MessageRetentionPeriod);
    if (redrive) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: queueArn(redrive.deadLetterTargetArn['Fn::GetAtt'][0]),
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    const created = await clients.sqs.send(new CreateQueueCommand({ QueueName: logicalId, Attributes: attributes }));
    queueUrls.set(logicalId, created.QueueUrl as string);
  }

  const webhookSecret = randomBytes(32).toString('hex');
  const secretArns = new Map<string, string>(
    resourcesOfType(template, 'AWS::SecretsManager::Secret').map(([logicalId]) => [
      logicalId,
      `arn:aws:secretsmanager:${REGION}:${LOCAL_RESOURCES.accountId}:secret:${logicalId}-AbCdEf`,
    ]),
  );
  const stripeSecret = `whsec_${randomBytes(24).toString('hex')}`;
  // The Stripe function's secret holds a Stripe endpoint secret; every other one the webhook key.
  const secrets = await startSecretsManager(
    new Map([...secretArns].map(([logicalId, arn]) => [arn, logicalId.startsWith('StripeSigningSecret') ? stripeSecret : webhookSecret])),
  );
  const webhook = await startWebhookReceiver(webhookSecret);

  /** A CloudFormation reference in a function's environment → the local resource's value. */
  const resolve = (variable: string, value: unknown): string => {
    if (typeof value === 'string') {
      // The one address outside the stack: the CRM's webhook is the local receiver (same path).
      if (variable === 'OUTREACH_WEBHOOK_URL') return `${webhook.url.replace(/\/$/, '')}${new URL(value).pathname}`;
      return value;
    }
    const ref = (value as { Ref?: string }).Ref;
    const type = ref === undefined ? undefined : template.Resources[ref]?.Type;
    if (ref !== undefined && (type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table')) return LOCAL_RESOURCES.tableName;
    if (ref !== undefined && type === 'AWS::S3::Bucket') return LOCAL_RESOURCES.bucketName;
    if (ref !== undefined && type === 'AWS::SQS::Queue' && queueUrls.has(ref)) return queueUrls.get(ref) as string;
    if (ref !== undefined && type === 'AWS::SecretsManager::Secret' && secretArns.has(ref)) return secretArns.get(ref) as string;
    throw new Error(`${variable}: no local stand-in for ${JSON.stringify(value)} (${type ?? 'not a resource'})`);
  };

  return {
    dataDir,
    stack,
    clients,
    webhook,
    webhookSecret,
    stripeSecret,
    queueUrl(logicalId) {
      const url = queueUrls.get(logicalId);
      if (!url) throw new Error(`no queue ${logicalId} in the template`);
      return url;
    },
    queueArn,
    environmentFor(variables) {
      const resolved = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolve(name, value)]));
      return {
        ...resolved,
        // What points the SDK at the emulators (the same variables applyStackEnv sets for the CLI).
        AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
        AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        S3_FORCE_PATH_STYLE: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
    },
    async close() {
      await webhook.close();
      await new Promise((done) => secrets.server.close(done));
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
