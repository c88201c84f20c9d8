import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../cdk/churnguardStack.ts';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../cdk/constructs/outreach.ts';
import { JOB_ASSET_EXCLUDES, JOB_DOCKERFILE, WASM_FILES, wasmSourceFolder, ZIP_JOB_MEMORY_MB } from '../../cdk/constructs/trainScoreJob.ts';
import { listAcknowledgedRules } from '../../cdk/nag.ts';
import { fromRepoRoot } from '../../cdk/paths.ts';
import type { PolicyStatementJson, SynthesisedStack } from './synthStack.ts';
import { actionsOf, allowStatementsOfRole, logicalId, resourcesOfType, synthStack } from './synthStack.ts';

/** Services holding customer data or its keys: no wildcard action may touch them. */
const DATA_SERVICES = ['dynamodb', 's3', 'sqs', 'kms', 'secretsmanager', 'sns'];

let synth: SynthesisedStack;

beforeAll(() => {
  // Prepare: the default configuration, as `npm run synth` builds it.
  synth = synthStack();
});

const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } | undefined }): string => {
  if (!fn.role) throw new Error('function has no role');
  return logicalId(synth, fn.role);
};

describe('ChurnguardStack with the default configuration', () => {
  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged finding (errors or warnings)', () => {
      expect(synth.nagFindings).toEqual([]);
    });

    it('leaves no CDK error or AwsSolutions annotation on the stack', () => {
      expect(Annotations.fromStack(synth.stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(synth.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    });

    it('acknowledges each finding individually, with a reason a reviewer can check', () => {
      const acknowledged = listAcknowledgedRules(synth.app);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const rule of acknowledged) {
        expect(rule.id, `${rule.path}`).toMatch(/^AwsSolutions-[A-Z]+\d+/);
        // IAM findings are acknowledged one resource or policy at a time, never the whole rule.
        if (/IAM[45]$/.test(rule.id)) throw new Error(`blanket ${rule.id} at ${rule.path}`);
        expect(rule.reason.length, `${rule.id} at ${rule.path}`).toBeGreaterThanOrEqual(80);
      }
      expect(new Set(acknowledged.map((rule) => rule.id.replace(/\[.*$/, '')))).toEqual(
        new Set(['AwsSolutions-L1', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SQS3', 'AwsSolutions-SMG4']),
      );
    });
  });

  describe('DynamoDB table', () => {
    it('is on-demand with string PK/SK, point-in-time recovery, TTL on `ttl`, encryption and deletion protection', () => {
      synth.template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      synth.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'PK', AttributeType: 'S' },
          { AttributeName: 'SK', AttributeType: 'S' },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      });
    });

    it('is retained when the stack is deleted', () => {
      synth.template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });
  });

  describe('S3 buckets', () => {
    it('every bucket blocks public access and is encrypted', () => {
      const buckets = resourcesOfType(synth, 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(2);
      for (const [id, props] of buckets) {
        expect(props.PublicAccessBlockConfiguration, id).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        expect(props.BucketEncryption, id).toBeDefined();
      }
    });

    it('every bucket policy denies requests without TLS and below TLS 1.2', () => {
      const policies = resourcesOfType(synth, 'AWS::S3::BucketPolicy');
      expect(policies).toHaveLength(2);
      for (const [id, props] of policies) {
        const statements = (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
        expect(statements, id).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
        expect(statements, id).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        );
      }
    });

    it('the data bucket is versioned, logs access, and expires runs/ snapshots after the configured 90 days', () => {
      const bucketId = logicalId(synth, synth.stack.storage.bucket);
      const props = synth.resources[bucketId]?.Properties ?? {};
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(props.LoggingConfiguration).toMatchObject({
        DestinationBucketName: { Ref: logicalId(synth, synth.stack.storage.accessLogsBucket) },
      });
      const rules = (props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'runs/', ExpirationInDays: 90, Status: 'Enabled' }));
    });
  });

  describe('outreach queues', () => {
    it('every queue is encrypted and its policy denies requests without TLS', () => {
      const queues = resourcesOfType(synth, 'AWS::SQS::Queue');
      expect(queues).toHaveLength(3);
      for (const [id, props] of queues) {
        expect(props.SqsManagedSseEnabled === true || props.KmsMasterKeyId !== undefined, id).toBe(true);
      }
      const policies = resourcesOfType(synth, 'AWS::SQS::QueuePolicy');
      expect(policies).toHaveLength(3);
      for (const [id, props] of policies) {
        expect((props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement, id).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('the outreach queue redrives to its dead-letter queue after 5 receives', () => {
      expect(MAX_RECEIVE_COUNT).toBe(5);
      const queue = synth.resources[logicalId(synth, synth.stack.outreach.queue)]?.Properties ?? {};
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(synth, synth.stack.outreach.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      });
    });

    it('the visibility timeout is at least six times the consumer timeout', () => {
      const queue = synth.resources[logicalId(synth, synth.stack.outreach.queue)]?.Properties ?? {};
      const consumer = synth.resources[logicalId(synth, synth.stack.outreach.consumer)]?.Properties ?? {};
      expect(typeof consumer.Timeout).toBe('number');
      expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * (consumer.Timeout as number));
    });

    it('the job may redrive the dead-letter queue with the message-move API, and send to the queue', () => {
      const statements = Object.values(synth.resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .flatMap((r) => (r.Properties?.PolicyDocument as { Statement?: PolicyStatementJson[] } | undefined)?.Statement ?? [])
        .filter((st) => JSON.stringify(st.Resource).includes(logicalId(synth, synth.stack.outreach.deadLetterQueue)));
      const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
      expect(actions).toEqual(
        expect.arrayContaining(['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']),
      );
    });

    it('the consumer reads the queue with batch item failures reported', () => {
      synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(synth, synth.stack.outreach.queue), 'Arn'] },
        FunctionName: { Ref: logicalId(synth, synth.stack.outreach.consumer) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });
  });

  describe('ingest API', () => {
    it('POST /events requires IAM authorization and reaches the ingest function', () => {
      synth.template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /events', AuthorizationType: 'AWS_IAM' });
      synth.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(synth, synth.stack.ingest.handler), 'Arn'] },
      });
    });

    it('the stage is throttled and writes access logs', () => {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') }),
      });
    });
  });

  describe('functions', () => {
    it('every function, the job included, is a zip package on nodejs22.x and arm64: deploying needs no Docker', () => {
      const functions = resourcesOfType(synth, 'AWS::Lambda::Function');
      expect(functions).toHaveLength(3);
      for (const [id, props] of functions) {
        expect(props.PackageType, id).toBeUndefined();
        expect(props.Runtime, id).toBe('nodejs22.x');
        expect(props.Architectures, id).toEqual(['arm64']);
      }
      expect(readdirSync(synth.app.outdir).filter((name) => existsSync(path.join(synth.app.outdir, name, JOB_DOCKERFILE)))).toEqual([]);
    });

    it('the zip job has the measured memory and the 15-minute timeout, and its bundle gets the wasm binaries', () => {
      const job = synth.resources[logicalId(synth, synth.stack.job.function)]?.Properties ?? {};
      expect(job.MemorySize).toBe(ZIP_JOB_MEMORY_MB);
      expect(job.Timeout).toBe(900);
      for (const file of WASM_FILES) expect(existsSync(path.join(wasmSourceFolder(), file)), file).toBe(true);
    });

    describe('with jobPackaging=container (opt-in, for tfjs-node)', () => {
      let container: SynthesisedStack;
      beforeAll(() => {
        container = synthStack({ jobPackaging: 'container' });
      });

      it('the job is an x86_64 image with more memory; the other functions stay zip packages; cdk-nag stays clean', () => {
        const job = container.resources[logicalId(container, container.stack.job.function)]?.Properties ?? {};
        expect(job.PackageType).toBe('Image');
        expect(job.Architectures).toEqual(['x86_64']);
        expect(job.MemorySize as number).toBeGreaterThanOrEqual(3008);
        expect(job.Timeout).toBe(900);
        expect(resourcesOfType(container, 'AWS::Lambda::Function').filter(([, props]) => props.PackageType === 'Image')).toHaveLength(1);
        expect(container.nagFindings).toEqual([]);
      });

      it('the image asset leaves out node_modules, .git, .churnguard, cdk.out, test-artifacts and scratch', () => {
        const assetDirs = readdirSync(container.app.outdir).filter((name) => name.startsWith('asset.'));
        const imageDir = assetDirs
          .map((name) => path.join(container.app.outdir, name))
          .find((dir) => existsSync(path.join(dir, JOB_DOCKERFILE)));
        expect(imageDir).toBeDefined();
        const staged = readdirSync(imageDir as string);
        for (const excluded of JOB_ASSET_EXCLUDES) expect(staged).not.toContain(excluded);
        expect(staged).toEqual(
          expect.arrayContaining(['package.json', 'package-lock.json', 'lambdas', 'model', 'app', 'adapters', 'scripts']),
        );
        expect(readdirSync(path.join(imageDir as string, 'scripts'))).toEqual(['bundle-job-image.mjs']);
      });
    });

    it('the job image builds on the Lambda Node.js 22 base image and installs from the lockfile', () => {
      const dockerfile = readFileSync(fromRepoRoot(JOB_DOCKERFILE), 'utf8');
      const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
      expect(bases.length).toBeGreaterThan(0);
      for (const base of bases) expect(base).toBe('public.ecr.aws/lambda/nodejs:22');
      expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    });

    it('each function gets its own settings as environment variables, the webhook key only as a secret ARN', () => {
      const env = (fn: { node: { defaultChild?: unknown } }) =>
        (synth.resources[logicalId(synth, fn)]?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ??
        {};
      expect(Object.keys(env(synth.stack.job.function)).sort()).toEqual(
        [
          'BUDGET_MAX_MESSAGES',
          'BUCKET_NAME',
          'CHURN_DEFINITION',
          'COOLDOWN_DAYS',
          'COST_INTERVENTION',
          'COST_LOST_CUSTOMER',
          'HORIZON_DAYS',
          'NODE_OPTIONS',
          'OUTREACH_QUEUE_URL',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_SERVICE_NAME',
          'TABLE_NAME',
        ].sort(),
      );
      expect(Object.keys(env(synth.stack.ingest.handler)).sort()).toEqual([
        'EVENT_TTL_DAYS',
        'NODE_OPTIONS',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'TABLE_NAME',
      ]);
      expect(env(synth.stack.ingest.handler).EVENT_TTL_DAYS).toBe('730');
      const consumerEnv = env(synth.stack.outreach.consumer);
      expect(consumerEnv.OUTREACH_WEBHOOK_SECRET_ARN).toEqual({ Ref: logicalId(synth, synth.stack.outreach.webhookSecret) });
      expect(consumerEnv).not.toHaveProperty('OUTREACH_WEBHOOK_SECRET');
      expect(consumerEnv).not.toHaveProperty('OUTREACH_WEBHOOK_URL');
      // The consumer remembers delivered messages for the cooldown plus a day: it reads the same setting.
      expect(consumerEnv.COOLDOWN_DAYS).toBe('14');
      expect(consumerEnv).not.toHaveProperty('OUTREACH_WEBHOOK_TIMEOUT_MS');
    });
  });

  describe('least privilege', () => {
    it('no Allow statement uses a wildcard action on a data service', () => {
      for (const [id, props] of resourcesOfType(synth, 'AWS::IAM::Policy')) {
        const statements = (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
        for (const action of actionsOf(statements.filter((statement) => statement.Effect === 'Allow'))) {
          expect(action, id).not.toBe('*');
          const [service, name] = action.split(':');
          if (DATA_SERVICES.includes(service ?? '')) expect(name, `${id}: ${action}`).not.toContain('*');
        }
      }
    });

    it('ingest may only write items: BatchWriteItem and PutItem, nothing else', () => {
      expect(actionsOf(allowStatementsOfRole(synth, roleOf(synth.stack.ingest.handler))).sort()).toEqual([
        'dynamodb:BatchWriteItem',
        'dynamodb:PutItem',
      ]);
    });

    it('the consumer gets Get/Put/Update/Delete item, the secret and the queue, but no Scan or Query', () => {
      const actions = actionsOf(allowStatementsOfRole(synth, roleOf(synth.stack.outreach.consumer)));
      expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      expect(actions).toContain('secretsmanager:GetSecretValue');
      expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
      expect(actions.filter((action) => action.startsWith('s3:'))).toEqual([]);
    });

    it('the job reads and writes the table, reads and writes models/ and runs/ in the bucket, and sends to the queue', () => {
      const statements = allowStatementsOfRole(synth, roleOf(synth.stack.job.function));
      const actions = actionsOf(statements);
      expect(actions).toEqual(
        expect.arrayContaining([
          'dynamodb:Scan',
          'dynamodb:Query',
          'dynamodb:BatchWriteItem',
          's3:GetObject',
          's3:PutObject',
          'sqs:SendMessage',
        ]),
      );
      expect(actions.filter((action) => action.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
      const objectStatement = statements.find((statement) => actionsOf([statement]).includes('s3:PutObject'));
      expect(JSON.stringify(objectStatement?.Resource)).toMatch(/\/models\/\*.*\/runs\/\*/);
    });
  });

  describe('schedules', () => {
    it('score daily and train-and-score weekly, with asOf = the scheduled time, retries and a dead letter', () => {
      const jobArn = { 'Fn::GetAtt': [logicalId(synth, synth.stack.job.function), 'Arn'] };
      const failures = { 'Fn::GetAtt': [logicalId(synth, synth.stack.job.failures), 'Arn'] };
      for (const [expression, mode] of [
        ['cron(0 6 * * ? *)', 'score'],
        ['cron(0 4 ? * MON *)', 'train-and-score'],
      ] as const) {
        synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
          ScheduleExpression: expression,
          Target: Match.objectLike({
            Arn: jobArn,
            Input: JSON.stringify({ mode, asOf: '<aws.scheduler.scheduled-time>' }),
            DeadLetterConfig: { Arn: failures },
            RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
          }),
        });
      }
    });
  });

  describe('alarms', () => {
    it('alarm on errors of every function, on the outreach DLQ and on job failures, all to the encrypted topic', () => {
      const alarms = resourcesOfType(synth, 'AWS::CloudWatch::Alarm');
      const topic = { Ref: logicalId(synth, synth.stack.alarms.topic) };
      for (const [id, props] of alarms) expect(props.AlarmActions, id).toEqual([topic]);
      for (const fn of [synth.stack.ingest.handler, synth.stack.outreach.consumer, synth.stack.job.function]) {
        synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(synth, fn) } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
      for (const queue of [synth.stack.outreach.deadLetterQueue, synth.stack.job.failures]) {
        synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(synth, queue), 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
      synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      synth.template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    const ingestMetric = (name: string) => ({
      Namespace: METRICS_NAMESPACE,
      MetricName: name,
      Dimensions: [{ Name: 'service', Value: 'churnguard-ingest' }],
    });

    it('alarm when ingest leaves valid events unstored (producers got a 5xx)', () => {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...ingestMetric('EventsUnstored'),
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('alarm when ingest refuses events or whole requests within an hour', () => {
      const refused = resourcesOfType(synth, 'AWS::CloudWatch::Alarm').find(([id]) => id.includes('IngestRefused'));
      expect(refused).toBeDefined();
      const metrics = ((refused?.[1].Metrics ?? []) as Array<{ MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }>)
        .flatMap((query) => (query.MetricStat ? [query.MetricStat.Metric.MetricName] : []))
        .sort();
      expect(metrics).toEqual(['EventsRejected', 'RequestsRefused']);
      expect(refused?.[1]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    });

    it('alarm on a silent feed: no event accepted for a whole day, where no data at all counts as silence', () => {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...ingestMetric('EventsAccepted'),
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 24,
        DatapointsToAlarm: 24,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });
  });

  it('has no scale-out state machine unless asked for', () => {
    synth.template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });
});
