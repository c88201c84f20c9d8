import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SynthesisedStack } from './synthStack.ts';
import { actionsOf, allowStatementsOfRole, logicalId, parseDefinition, resourcesOfType, synthStack } from './synthStack.ts';

const SEGMENTS = 8;
const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:churnguard-webhook-AbCdEf';

let synth: SynthesisedStack;

beforeAll(() => {
  // Prepare: every optional knob on at once.
  synth = synthStack({
    scaleOutSegments: String(SEGMENTS),
    encryption: 'customer-managed',
    alarmEmail: 'ops@example.com',
    jwtIssuer: 'https://id.example.com',
    jwtAudience: 'churnguard-producers',
    webhookUrl: 'https://hooks.example.com/churn',
    webhookSecretArn: WEBHOOK_SECRET_ARN,
    deletionProtection: 'false',
    budgetMaxMessages: '50',
    cooldownDays: '21',
    unknownMrrValueCents: '2500',
    passiveInactivityDays: '45',
    scanSegments: '16',
    webhookTimeoutMs: '8000',
  });
});

describe('ChurnguardStack with scale-out, a customer-managed key, JWT auth and an existing webhook secret', () => {
  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(synth.nagFindings).toEqual([]);
  });

  describe('scale-out state machine', () => {
    it('plans segments 0..N-1 and the runId score-<day of asOf>, as the job names a daily run', () => {
      const [[, props] = ['', {}]] = resourcesOfType(synth, 'AWS::StepFunctions::StateMachine');
      const definition = parseDefinition(props.DefinitionString) as { StartAt: string; States: Record<string, Record<string, unknown>> };
      const plan = definition.States[definition.StartAt];
      expect(plan?.Type).toBe('Pass');
      expect(plan?.Parameters).toEqual({
        'asOf.$': '$.asOf',
        'runId.$': "States.Format('score-{}', States.ArrayGetItem(States.StringSplit($.asOf, 'T'), 0))",
        segments: Array.from({ length: SEGMENTS }, (_, index) => index),
      });
    });

    it('maps over the segments with a Distributed Map invoking the job with mode score-segment', () => {
      const [[, props] = ['', {}]] = resourcesOfType(synth, 'AWS::StepFunctions::StateMachine');
      const definition = parseDefinition(props.DefinitionString) as { States: Record<string, Record<string, unknown>> };
      const map = Object.values(definition.States).find((state) => state.Type === 'Map');
      expect(map).toMatchObject({
        ItemsPath: '$.segments',
        ItemSelector: {
          mode: 'score-segment',
          'segment.$': '$$.Map.Item.Value',
          totalSegments: SEGMENTS,
          'runId.$': '$.runId',
          'asOf.$': '$.asOf',
        },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        MaxConcurrency: SEGMENTS,
      });
      // Any failed segment fails the run (0 % tolerated is the default and is left out of the definition).
      expect(map?.ToleratedFailurePercentage ?? 0).toBe(0);
      const inner = Object.values((map?.ItemProcessor as { States: Record<string, Record<string, unknown>> } | undefined)?.States ?? {});
      expect(inner).toHaveLength(1);
      // payloadResponseOnly: the task invokes the job directly and its input is the selected item.
      expect(inner[0]).toMatchObject({ Type: 'Task', Resource: `\${${logicalId(synth, synth.stack.job.function)}.Arn}` });
      expect(inner[0]).not.toHaveProperty('Parameters');
    });

    it('after the map, invokes the job once with mode send for the same runId and asOf, then ends', () => {
      const [[, props] = ['', {}]] = resourcesOfType(synth, 'AWS::StepFunctions::StateMachine');
      const definition = parseDefinition(props.DefinitionString) as { States: Record<string, Record<string, unknown>> };
      const map = Object.values(definition.States).find((state) => state.Type === 'Map');
      const send = definition.States[map?.Next as string];
      expect(send).toMatchObject({
        Type: 'Task',
        Resource: `\${${logicalId(synth, synth.stack.job.function)}.Arn}`,
        Parameters: { mode: 'send', 'runId.$': '$.runId', 'asOf.$': '$.asOf' },
        End: true,
      });
      // A retried send is safe: claims are conditional writes, so it sends nothing twice.
      expect(send?.Retry).toEqual(
        expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 1 })]),
      );
      // Only the map and the send step invoke the job: nothing sends before every segment is scored.
      const tasks = Object.values(definition.States).filter((state) => state.Type === 'Task');
      expect(tasks).toEqual([send]);
    });

    it('logs every execution event without execution data, and traces', () => {
      synth.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
        TracingConfiguration: { Enabled: true },
      });
    });

    it('is started by the daily schedule with asOf = the scheduled time; the weekly schedule only trains', () => {
      const stateMachine = synth.stack.scaleOut?.stateMachine;
      expect(stateMachine).toBeDefined();
      synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 6 * * ? *)',
        Target: Match.objectLike({
          Arn: { Ref: logicalId(synth, stateMachine as never) },
          Input: JSON.stringify({ asOf: '<aws.scheduler.scheduled-time>' }),
        }),
      });
      synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 4 ? * MON *)',
        Target: Match.objectLike({ Input: JSON.stringify({ mode: 'train', asOf: '<aws.scheduler.scheduled-time>' }) }),
      });
    });

    it('raises an alarm when an execution fails, times out or is aborted', () => {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
        Threshold: 0,
      });
    });
  });

  describe('customer-managed encryption', () => {
    it('encrypts the table, the data bucket and both outreach queues with the one rotated key', () => {
      const key = logicalId(synth, synth.stack.storage.dataKey as never);
      synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      synth.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } } })],
      });
      const bucket = synth.resources[logicalId(synth, synth.stack.storage.bucket)]?.Properties ?? {};
      expect(JSON.stringify(bucket.BucketEncryption)).toContain(key);
      for (const queue of [synth.stack.outreach.queue, synth.stack.outreach.deadLetterQueue]) {
        expect(synth.resources[logicalId(synth, queue)]?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
      }
    });

    it('gives ingest only the key actions a write needs', () => {
      const role = logicalId(synth, synth.stack.ingest.handler.role as never);
      expect(
        actionsOf(allowStatementsOfRole(synth, role))
          .filter((action) => action.startsWith('kms:'))
          .sort(),
      ).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    });
  });

  it('authorizes POST /events with the JWT authorizer instead of IAM', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://id.example.com', Audience: ['churnguard-producers'] },
    });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /events', AuthorizationType: 'JWT' });
  });

  it('uses the existing webhook secret by ARN and creates none', () => {
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const consumer = synth.resources[logicalId(synth, synth.stack.outreach.consumer)]?.Properties ?? {};
    expect((consumer.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      OUTREACH_WEBHOOK_URL: 'https://hooks.example.com/churn',
      OUTREACH_WEBHOOK_SECRET_ARN: WEBHOOK_SECRET_ARN,
    });
    const role = logicalId(synth, synth.stack.outreach.consumer.role as never);
    const secretStatements = allowStatementsOfRole(synth, role).filter((statement) =>
      actionsOf([statement]).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretStatements.map((statement) => statement.Resource)).toEqual([WEBHOOK_SECRET_ARN]);
  });

  it('passes the optional job and consumer settings to the functions that read them', () => {
    const env = (fn: { node: { defaultChild?: unknown } }) =>
      (synth.resources[logicalId(synth, fn)]?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ??
      {};
    expect(env(synth.stack.job.function)).toMatchObject({
      UNKNOWN_MRR_VALUE_CENTS: '2500',
      PASSIVE_INACTIVITY_DAYS: '45',
      SCAN_SEGMENTS: '16',
      COOLDOWN_DAYS: '21',
    });
    expect(env(synth.stack.job.function)).not.toHaveProperty('OUTREACH_WEBHOOK_TIMEOUT_MS');
    expect(env(synth.stack.outreach.consumer)).toMatchObject({ OUTREACH_WEBHOOK_TIMEOUT_MS: '8000', COOLDOWN_DAYS: '21' });
    expect(env(synth.stack.outreach.consumer)).not.toHaveProperty('SCAN_SEGMENTS');
  });

  it('subscribes the alarm e-mail and passes the other knobs through', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    synth.template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('training, scoring'),
      Environment: { Variables: Match.objectLike({ BUDGET_MAX_MESSAGES: '50' }) },
    });
  });
});
