import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, requireOutreachDelivery } from '../../cdk/config.ts';
import { listAcknowledgedRules } from '../../cdk/nag.ts';
import type { SynthesisedStack } from './synthStack.ts';
import { actionsOf, allowStatementsOfRole, logicalId, synthStack } from './synthStack.ts';

/** The Stripe endpoint and the EventBridge outreach sink, as settings turn them on. */

const SLACK_TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:churnguard-slack-AbCdEf';
let synth: SynthesisedStack;
let plain: SynthesisedStack;

beforeAll(() => {
  synth = synthStack({
    outreachSink: 'eventbridge',
    outreachApiDestinationUrl: 'https://slack.com/api/chat.postMessage',
    outreachApiDestinationSecretArn: SLACK_TOKEN_ARN,
    outreachApiDestinationTemplate: '{"channel":"C0RETENTION","text":"<customerId> is at <band> risk: <playbook> (<unknownField>)"}',
    stripeIntegration: true,
    stripeCustomerMetadataKey: 'churnguard_id',
    paymentRecoveryDelayHours: 48,
  });
  plain = synthStack({ outreachSink: 'eventbridge' });
});

const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } | undefined }): string =>
  logicalId(synth, fn.role as { node: { defaultChild?: unknown } });
const variables = (s: SynthesisedStack, fn: { node: { defaultChild?: unknown } }) =>
  (s.resources[logicalId(s, fn)]?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};

describe('with the Stripe endpoint and the EventBridge sink', () => {
  it('stays cdk-nag clean, the unauthorised Stripe route acknowledged with its reason', () => {
    expect(synth.nagFindings).toEqual([]);
    const routeAcks = listAcknowledgedRules(synth.app).filter((rule) => rule.id === 'AwsSolutions-APIG4');
    expect(routeAcks).toHaveLength(1);
    expect(routeAcks[0]?.reason).toContain('Stripe-Signature');
  });

  it('POST /integrations/stripe has no IAM authorizer (Stripe signs its own way); POST /events keeps IAM', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /integrations/stripe', AuthorizationType: 'NONE' });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /events', AuthorizationType: 'AWS_IAM' });
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [logicalId(synth, synth.stack.stripe!.handler), 'Arn'] },
    });
    synth.template.hasOutput('StripeWebhookUrl', Match.anyValue());
  });

  it('the Stripe function writes items and reads its signing secret, nothing else', () => {
    const actions = actionsOf(allowStatementsOfRole(synth, roleOf(synth.stack.stripe!.handler)));
    expect(actions.filter((a) => !a.startsWith('secretsmanager:')).sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(variables(synth, synth.stack.stripe!.handler)).toMatchObject({
      STRIPE_WEBHOOK_SECRET_ARN: { Ref: logicalId(synth, synth.stack.stripe!.secret) },
      STRIPE_CUSTOMER_METADATA_KEY: 'churnguard_id',
      POWERTOOLS_SERVICE_NAME: 'churnguard-stripe',
    });
  });

  it('the consumer puts events on the stack’s bus, and the job holds payment_recovery 48 h after a failure', () => {
    const bus = logicalId(synth, synth.stack.outreachEvents!.bus as never);
    expect(variables(synth, synth.stack.outreach.consumer).OUTREACH_EVENT_BUS_NAME).toEqual({ 'Fn::GetAtt': [bus, 'Arn'] });
    expect(actionsOf(allowStatementsOfRole(synth, roleOf(synth.stack.outreach.consumer)))).toContain('events:PutEvents');
    expect(variables(synth, synth.stack.job.function).PAYMENT_RECOVERY_DELAY_HOURS).toBe('48');
  });

  it('the example rule sends every churnguard.outreach event to the API destination, templated, with retries and a dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: 'https://slack.com/api/chat.postMessage',
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 10,
    });
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['churnguard'], 'detail-type': ['churnguard.outreach'] },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          InputTransformer: {
            InputPathsMap: {
              'detail-customerId': '$.detail.customerId',
              'detail-band': '$.detail.band',
              'detail-playbook': '$.detail.playbook',
            },
            InputTemplate:
              '{"channel":"C0RETENTION","text":"<detail-customerId> is at <detail-band> risk: <detail-playbook> (<unknownField>)"}',
          },
        }),
      ],
    });
  });
});

describe('the settings', () => {
  it('by default: no Stripe function, no bus, no rule', () => {
    const defaults = synthStack({ outreachDryRun: true });
    expect(defaults.stack.stripe).toBeUndefined();
    defaults.template.resourceCountIs('AWS::Events::EventBus', 0);
    defaults.template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
  });

  it('an EventBridge sink without an API destination creates the bus and no rule', () => {
    plain.template.resourceCountIs('AWS::Events::EventBus', 1);
    plain.template.resourceCountIs('AWS::Events::Rule', 0);
    plain.template.resourceCountIs('AWS::Events::ApiDestination', 0);
    expect(plain.nagFindings).toEqual([]);
  });

  it('an EventBridge sink needs no webhook, and refuses one next to it', () => {
    expect(() => requireOutreachDelivery(parseConfig({ outreachSink: 'eventbridge' }))).not.toThrow();
    expect(() => parseConfig({ outreachSink: 'eventbridge', webhookUrl: 'https://crm.example.com/h' })).toThrow('context "webhookUrl"');
  });

  it('names the setting a dependent setting needs', () => {
    expect(() => parseConfig({ outreachApiDestinationUrl: 'https://slack.com/api/chat.postMessage' })).toThrow(
      'context "outreachApiDestinationUrl": needs "outreachSink": "eventbridge"',
    );
    expect(() => parseConfig({ outreachSink: 'eventbridge', outreachApiDestinationUrl: 'https://slack.com/api/chat.postMessage' })).toThrow(
      'must be given together',
    );
    expect(() =>
      parseConfig({
        outreachSink: 'eventbridge',
        outreachApiDestinationUrl: 'https://x.example.com',
        outreachApiDestinationSecretArn: SLACK_TOKEN_ARN,
        outreachApiDestinationTemplate: '{not json',
      }),
    ).toThrow('must be JSON');
    expect(() => parseConfig({ stripeCustomerMetadataKey: 'churnguard_id' })).toThrow('needs "stripeIntegration": true');
    expect(() => parseConfig({ stripeIntegration: 'true', stripeCustomerMetadataKey: 'has space' })).toThrow('Stripe metadata key');
  });
});
