import { Duration, SecretValue } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OUTREACH_DETAIL_TYPE, OUTREACH_EVENT_SOURCE } from '../../adapters/aws/eventBridgeSink.ts';
import { acknowledge } from '../nag.ts';

export interface ApiDestinationProps {
  /** The https endpoint, e.g. https://slack.com/api/chat.postMessage. */
  readonly url: string;
  /** Secret whose value is the Authorization header, e.g. `Bearer xoxb-…`. */
  readonly authorizationSecretArn: string;
  /** JSON with `<field>` placeholders for fields of the outreach message; absent = the message itself. */
  readonly template: string | undefined;
  readonly rateLimitPerSecond: number;
}

export interface OutreachEventsProps {
  /** An existing bus (name or ARN); absent = a bus of its own. */
  readonly eventBusName: string | undefined;
  readonly dataKey: kms.IKey | undefined;
  /** The example rule: every outreach to an API destination. */
  readonly apiDestination: ApiDestinationProps | undefined;
}

/** Fields of the outreach message a template may name, as `<customerId>` etc. */
export const TEMPLATE_FIELDS = [
  'customerId',
  'runId',
  'risk',
  'band',
  'mrrAtRisk',
  'playbook',
  'dedupId',
  'createdAt',
  'modelVersion',
] as const;

/** The event pattern of every churnguard outreach event. */
export const OUTREACH_EVENT_PATTERN: events.EventPattern = { source: [OUTREACH_EVENT_SOURCE], detailType: [OUTREACH_DETAIL_TYPE] };

/**
 * The EventBridge side of the outreach sink: the bus the consumer puts each message on and,
 * when an API destination is configured, an example rule that sends every outreach there (with
 * retries for 24 h and a dead-letter queue), from which users copy their own rules.
 */
export class OutreachEvents extends Construct {
  readonly bus: events.IEventBus;
  readonly rule: events.Rule | undefined;
  readonly deadLetterQueue: sqs.Queue | undefined;

  constructor(scope: Construct, id: string, props: OutreachEventsProps) {
    super(scope, id);
    this.bus = props.eventBusName
      ? props.eventBusName.startsWith('arn:')
        ? events.EventBus.fromEventBusArn(this, 'Bus', props.eventBusName)
        : events.EventBus.fromEventBusName(this, 'Bus', props.eventBusName)
      : new events.EventBus(this, 'Bus', { description: 'churnguard outreach: one event per at-risk customer to contact' });
    if (!props.apiDestination) return;
    const destination = props.apiDestination;
    const connection = new events.Connection(this, 'Connection', {
      description: 'churnguard outreach API destination',
      authorization: events.Authorization.apiKey('Authorization', SecretValue.secretsManager(destination.authorizationSecretArn)),
    });
    const apiDestination = new events.ApiDestination(this, 'Destination', {
      connection,
      endpoint: destination.url,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: destination.rateLimitPerSecond,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      ...(props.dataKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.dataKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the example API destination rule: what the endpoint refused for 24 hours.',
    );
    this.rule = new events.Rule(this, 'ToApiDestination', {
      eventBus: this.bus,
      description: 'churnguard example: every outreach to the API destination',
      eventPattern: OUTREACH_EVENT_PATTERN,
      targets: [
        new targets.ApiDestination(apiDestination, {
          event: destination.template ? templateInput(destination.template) : events.RuleTargetInput.fromEventPath('$.detail'),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}

/** The rule's input from a JSON template: each `<field>` becomes the outreach message's field. */
export function templateInput(template: string): events.RuleTargetInput {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.replace(/<([A-Za-z]+)>/g, (whole, field: string) =>
        (TEMPLATE_FIELDS as readonly string[]).includes(field) ? events.EventField.fromPath(`$.detail.${field}`) : whole,
      );
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return events.RuleTargetInput.fromObject(fill(JSON.parse(template)));
}
