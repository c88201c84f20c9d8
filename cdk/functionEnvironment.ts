/**
 * The one typed object behind every function's environment variables. Each function receives only
 * the subset it reads (least privilege applies to configuration too), and no secret value ever
 * appears here: the webhook key travels as a Secrets Manager ARN that the consumer resolves at runtime.
 */
export interface FunctionEnvironment {
  readonly tableName: string;
  readonly bucketName: string;
  readonly outreachQueueUrl: string;
  /** Absent: the consumer runs a log-only dry run. */
  readonly webhookUrl?: string | undefined;
  readonly webhookSecretArn: string;
  readonly budgetMaxMessages: number;
  readonly cooldownDays: number;
  readonly costLostCustomer: number;
  readonly costIntervention: number;
  readonly horizonDays: number;
  readonly churnDefinition: string;
  /** 0: events never expire (no EVENT_TTL_DAYS variable is set). */
  readonly eventTtlDays: number;
  /** Job, optional: value of a customer with unknown MRR (cents). */
  readonly unknownMrrValueCents?: number | undefined;
  /** Job, optional: inactivity days that count as passive churn. */
  readonly passiveInactivityDays?: number | undefined;
  /** Job, optional: parallel Scan segments of a whole-table read. */
  readonly scanSegments?: number | undefined;
  /** Consumer, optional: webhook request timeout (ms). */
  readonly webhookTimeoutMs?: number | undefined;
  /** Consumer, EventBridge sink: the bus outreach is put on (replaces the webhook). */
  readonly eventBusName?: string | undefined;
  /** Job, optional: hours payment_recovery waits after a failed payment. */
  readonly paymentRecoveryDelayHours?: number | undefined;
  /** Stripe function: the secret holding the endpoint signing secret. */
  readonly stripeWebhookSecretArn?: string | undefined;
  /** Stripe function, optional: the metadata key naming the churnguard customer. */
  readonly stripeCustomerMetadataKey?: string | undefined;
  readonly serviceName: string;
  readonly metricsNamespace: string;
}

/** The environment variable each field is published as. */
export const ENVIRONMENT_VARIABLE: { readonly [K in keyof FunctionEnvironment]-?: string } = {
  tableName: 'TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  outreachQueueUrl: 'OUTREACH_QUEUE_URL',
  webhookUrl: 'OUTREACH_WEBHOOK_URL',
  webhookSecretArn: 'OUTREACH_WEBHOOK_SECRET_ARN',
  budgetMaxMessages: 'BUDGET_MAX_MESSAGES',
  cooldownDays: 'COOLDOWN_DAYS',
  costLostCustomer: 'COST_LOST_CUSTOMER',
  costIntervention: 'COST_INTERVENTION',
  horizonDays: 'HORIZON_DAYS',
  churnDefinition: 'CHURN_DEFINITION',
  eventTtlDays: 'EVENT_TTL_DAYS',
  unknownMrrValueCents: 'UNKNOWN_MRR_VALUE_CENTS',
  passiveInactivityDays: 'PASSIVE_INACTIVITY_DAYS',
  scanSegments: 'SCAN_SEGMENTS',
  webhookTimeoutMs: 'OUTREACH_WEBHOOK_TIMEOUT_MS',
  eventBusName: 'OUTREACH_EVENT_BUS_NAME',
  paymentRecoveryDelayHours: 'PAYMENT_RECOVERY_DELAY_HOURS',
  stripeWebhookSecretArn: 'STRIPE_WEBHOOK_SECRET_ARN',
  stripeCustomerMetadataKey: 'STRIPE_CUSTOMER_METADATA_KEY',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
};

/** Which fields each function reads. */
export const FIELDS_BY_FUNCTION = {
  ingest: ['tableName', 'eventTtlDays', 'serviceName', 'metricsNamespace'],
  // cooldownDays: delivered dedupIds are remembered for the cooldown plus a day.
  outreach: [
    'tableName',
    'webhookUrl',
    'webhookSecretArn',
    'webhookTimeoutMs',
    'eventBusName',
    'cooldownDays',
    'serviceName',
    'metricsNamespace',
  ],
  stripe: ['tableName', 'eventTtlDays', 'stripeWebhookSecretArn', 'stripeCustomerMetadataKey', 'serviceName', 'metricsNamespace'],
  trainScore: [
    'tableName',
    'bucketName',
    'outreachQueueUrl',
    'budgetMaxMessages',
    'cooldownDays',
    'costLostCustomer',
    'costIntervention',
    'horizonDays',
    'churnDefinition',
    'unknownMrrValueCents',
    'passiveInactivityDays',
    'scanSegments',
    'paymentRecoveryDelayHours',
    'serviceName',
    'metricsNamespace',
  ],
} as const satisfies Record<string, readonly (keyof FunctionEnvironment)[]>;

export type FunctionKind = keyof typeof FIELDS_BY_FUNCTION;
export type EnvironmentFor<K extends FunctionKind> = Pick<FunctionEnvironment, (typeof FIELDS_BY_FUNCTION)[K][number]>;

/**
 * Maps the typed settings of one function onto its environment variables.
 * Optional settings that are absent (and a 0 TTL) produce no variable, so the handler's own default applies.
 * @example environmentFor('ingest', { tableName, eventTtlDays: 730, serviceName: 'churnguard-ingest', metricsNamespace: 'Churnguard' })
 */
export function environmentFor<K extends FunctionKind>(kind: K, values: EnvironmentFor<K>): Record<string, string> {
  const environment: Record<string, string> = {};
  const byField = values as Partial<Record<keyof FunctionEnvironment, string | number | undefined>>;
  for (const field of FIELDS_BY_FUNCTION[kind] as readonly (keyof FunctionEnvironment)[]) {
    const value = byField[field];
    if (value === undefined) continue;
    if (field === 'eventTtlDays' && value === 0) continue;
    environment[ENVIRONMENT_VARIABLE[field]] = String(value);
  }
  return environment;
}
