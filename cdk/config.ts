import { z } from 'zod';

/**
 * The knobs a user sets on the deployed stack, read from CDK context (`cdk.json` or
 * `npx cdk deploy -c key=value`). Values given on the command line arrive as strings, so numbers
 * and booleans accept their string forms; anything else is rejected with the key named.
 */

const numberLike = z.union([z.number(), z.string().trim().min(1).transform(Number)]).pipe(z.number().finite());
const positiveInt = numberLike.pipe(z.number().int().positive());
const booleanLike = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')]);
/** A list given either as a JSON array in cdk.json or as `a,b,c` on the command line. */
const stringList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
]);

/** EventBridge Scheduler expressions: `cron(...)`, `rate(...)` or `at(...)`. */
const scheduleExpression = z
  .string()
  .regex(/^(cron|rate|at)\(.+\)$/, 'must be an EventBridge Scheduler expression such as cron(0 6 * * ? *) or rate(1 day)');

/** A complete Secrets Manager ARN (with the 6-character suffix), so the grant names one secret exactly. */
const completeSecretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
    'must be a complete Secrets Manager ARN ending in the 6-character suffix (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)',
  );

export const ChurnguardConfig = z
  .object({
    /** Daily scoring run (score mode). */
    dailyScoreSchedule: scheduleExpression.default('cron(0 6 * * ? *)'),
    /** Weekly retraining run (train-and-score mode). */
    weeklyTrainSchedule: scheduleExpression.default('cron(0 4 ? * MON *)'),
    /** IANA time zone the schedules are evaluated in. */
    scheduleTimeZone: z.string().min(1).default('Etc/UTC'),
    /** Outreach: at most this many messages per UTC day, shared by all runs of that day. */
    budgetMaxMessages: positiveInt.default(100), // the job's own default (DEFAULT_JOB_CONFIG)
    /** Outreach: a customer contacted within this many days is skipped. */
    cooldownDays: positiveInt.default(14),
    /** Cost of losing a customer (same unit as costIntervention), drives the send threshold. */
    costLostCustomer: numberLike.pipe(z.number().positive()).default(500), // the job's own default
    /** Cost of one intervention (same unit as costLostCustomer). */
    costIntervention: numberLike.pipe(z.number().positive()).default(50),
    /** Prediction horizon in days. */
    horizonDays: positiveInt.default(30),
    /** `cancelled` (contractual) or `inactive:<N>d` (no activity for N days). */
    churnDefinition: z
      .string()
      .regex(/^(cancelled|inactive:\d+d)$/, 'must be "cancelled" or "inactive:<N>d", e.g. inactive:30d')
      .default('cancelled'),
    /** Events expire this many days after ingestion, through the table's TTL attribute (a backfill is kept too). 0 keeps them forever. */
    eventTtlDays: numberLike.pipe(z.number().int().min(0)).default(730),
    /** HTTPS endpoint that receives outreach messages. Absent: the app refuses to deploy unless outreachDryRun is true. */
    webhookUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
    /** Deploy without a webhook on purpose: the consumer only logs what it would send (and deletes the messages). */
    outreachDryRun: booleanLike.default(false),
    /** The job's package: `zip` (TF.js on WebAssembly, no Docker needed) or `container` (tfjs-node image, needs Docker to deploy). */
    jobPackaging: z.enum(['zip', 'container']).default('zip'),
    /** Existing secret holding the webhook HMAC key; absent = the stack creates one. */
    webhookSecretArn: completeSecretArn.optional(),
    /** Days the `runs/` snapshots in S3 are kept. */
    runsRetentionDays: positiveInt.default(90),
    /** Days the function and API access logs are kept. */
    logRetentionDays: positiveInt.default(30),
    /** Days an undelivered outreach message stays on the queue (1-14). */
    queueRetentionDays: positiveInt.pipe(z.number().max(14)).default(4),
    /** Outreach consumer timeout; the queue's visibility timeout is six times this. */
    consumerTimeoutSeconds: positiveInt.pipe(z.number().max(120)).default(30),
    /** DynamoDB deletion protection and RETAIN removal policy for the table and bucket. */
    deletionProtection: booleanLike.default(true),
    /** `aws-managed` keys, or one customer-managed KMS key (rotated yearly) for table, bucket and queues. */
    encryption: z.enum(['aws-managed', 'customer-managed']).default('aws-managed'),
    /** Alarm notifications go to this address (a subscription to confirm by e-mail). */
    alarmEmail: z.email().optional(),
    /** Stage throttling of POST /events: steady requests per second and burst. */
    ingestRateLimit: positiveInt.default(100),
    ingestBurstLimit: positiveInt.default(200),
    /** Replace IAM authorization with a JWT authorizer: issuer URL and audiences. */
    jwtIssuer: z.url({ protocol: /^https$/, error: 'must be an https:// issuer URL' }).optional(),
    jwtAudience: stringList.optional(),
    /** Job: value (cents per month) of a customer with unknown MRR when ranking by expected loss; absent = the job's default (1: rank by risk). */
    unknownMrrValueCents: numberLike.pipe(z.number().min(0)).optional(),
    /** Job: days without activity that count as passive churn in the run summary; absent = the job's default (30). */
    passiveInactivityDays: positiveInt.optional(),
    /** Job: parallel Scan segments of a whole-table read (score runs and the scale-out send step); absent = the job's default (4). */
    scanSegments: positiveInt.pipe(z.number().max(1000)).optional(),
    /** Consumer: webhook request timeout in milliseconds; absent = the consumer's default (5000). Must end before the consumer does. */
    webhookTimeoutMs: positiveInt.pipe(z.number().max(60_000)).optional(),
    /** Turns on the Step Functions fan-out over this many DynamoDB Scan segments. */
    scaleOutSegments: numberLike.pipe(z.number().int().min(2).max(1000)).optional(),
    /** Where the consumer delivers outreach: `webhook` (signed POST to webhookUrl) or `eventbridge` (PutEvents on a bus; rules route it). */
    outreachSink: z.enum(['webhook', 'eventbridge']).default('webhook'),
    /** EventBridge sink: an existing bus (name or ARN); absent = the stack creates one. */
    outreachEventBusName: z
      .string()
      .regex(/^[A-Za-z0-9._\-/:]{1,1600}$/, 'must be an event bus name or ARN')
      .optional(),
    /** EventBridge sink, example rule: every outreach goes to this https endpoint through an API destination (e.g. Slack's chat.postMessage, HubSpot's tasks API). */
    outreachApiDestinationUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
    /** The secret whose value is the API destination's Authorization header (e.g. `Bearer xoxb-…`). */
    outreachApiDestinationSecretArn: completeSecretArn.optional(),
    /** JSON the API destination receives; `<field>` is replaced by that field of the outreach message. Absent: the message itself. */
    outreachApiDestinationTemplate: z.string().min(2).optional(),
    /** Requests per second the API destination may send (EventBridge queues the rest). */
    outreachApiDestinationRateLimit: positiveInt.pipe(z.number().max(300)).default(10),
    /** Adds POST /integrations/stripe (a Stripe webhook endpoint) to the API. */
    stripeIntegration: booleanLike.default(false),
    /** Existing secret holding the Stripe endpoint signing secret (whsec_…); absent = the stack creates one to fill in. */
    stripeWebhookSecretArn: completeSecretArn.optional(),
    /** Find churnguard customers by this Stripe metadata key instead of by the Stripe customer id. */
    stripeCustomerMetadataKey: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,40}$/, 'must be a Stripe metadata key: 1 to 40 letters, digits and _ . : -')
      .optional(),
    /** Job: payment_recovery waits at least this many hours after a failed payment (besides the processor's announced retry); absent = the job's default (0). */
    paymentRecoveryDelayHours: numberLike.pipe(z.number().min(0).max(2160)).optional(),
  })
  .superRefine((config, ctx) => {
    if ((config.jwtIssuer === undefined) !== (config.jwtAudience === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['jwtAudience'], message: 'jwtIssuer and jwtAudience must be given together' });
    }
    if (config.jwtAudience !== undefined && config.jwtAudience.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['jwtAudience'], message: 'must name at least one audience' });
    }
    if (config.webhookTimeoutMs !== undefined && config.webhookTimeoutMs >= config.consumerTimeoutSeconds * 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookTimeoutMs'],
        message: `must be below the consumer timeout (consumerTimeoutSeconds = ${config.consumerTimeoutSeconds} s)`,
      });
    }
    const eventBridgeOnly: Array<keyof typeof config> = ['outreachEventBusName', 'outreachApiDestinationUrl'];
    for (const key of eventBridgeOnly) {
      if (config[key] !== undefined && config.outreachSink !== 'eventbridge')
        ctx.addIssue({ code: 'custom', path: [key], message: 'needs "outreachSink": "eventbridge"' });
    }
    if (config.outreachSink === 'eventbridge' && config.webhookUrl !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['webhookUrl'],
        message: 'the outreach sink is eventbridge: set webhookUrl or outreachSink=eventbridge, not both',
      });
    if ((config.outreachApiDestinationUrl === undefined) !== (config.outreachApiDestinationSecretArn === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['outreachApiDestinationSecretArn'],
        message: 'outreachApiDestinationUrl and outreachApiDestinationSecretArn must be given together',
      });
    if (config.outreachApiDestinationTemplate !== undefined) {
      if (config.outreachApiDestinationUrl === undefined)
        ctx.addIssue({ code: 'custom', path: ['outreachApiDestinationTemplate'], message: 'needs outreachApiDestinationUrl' });
      try {
        JSON.parse(config.outreachApiDestinationTemplate);
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: ['outreachApiDestinationTemplate'],
          message: 'must be JSON, e.g. {"text": "<customerId>: <playbook>"}',
        });
      }
    }
    for (const key of ['stripeWebhookSecretArn', 'stripeCustomerMetadataKey'] as const) {
      if (config[key] !== undefined && !config.stripeIntegration)
        ctx.addIssue({ code: 'custom', path: [key], message: 'needs "stripeIntegration": true' });
    }
    if (config.ingestBurstLimit < config.ingestRateLimit) {
      ctx.addIssue({ code: 'custom', path: ['ingestBurstLimit'], message: 'must be at least ingestRateLimit' });
    }
  });
export type ChurnguardConfig = z.output<typeof ChurnguardConfig>;
export type ChurnguardConfigInput = z.input<typeof ChurnguardConfig>;

/** Every context key the app reads, so `cdk deploy -c` typos can be reported. */
export const CONFIG_KEYS = Object.keys(ChurnguardConfig.shape) as readonly (keyof ChurnguardConfig)[];

/** Context keys that are not churnguard settings but are expected: the app's own and the CDK CLI's. */
const OTHER_KNOWN_KEYS = new Set(['stackName', 'acknowledged-issue-numbers']);

/**
 * Context keys that look like user settings (no `:`, `@` or `/`, which CDK's own keys carry) but are
 * not known: most likely a misspelt `-c` option that would otherwise be silently ignored.
 */
export function unknownContextKeys(keys: Iterable<string>): string[] {
  const known = new Set<string>(CONFIG_KEYS);
  return [...keys].filter((key) => !/[:@/]/.test(key) && !known.has(key) && !OTHER_KNOWN_KEYS.has(key));
}

/**
 * The app's deploy-time rule: outreach goes to a webhook unless a dry run is chosen explicitly, so a
 * redeploy that forgot the webhook fails instead of silently logging and deleting every message.
 * A webhookUrl always wins: outreachDryRun only permits having none.
 *
 * @throws Error saying where to put the setting (cdk.json) when neither is given
 */
export function requireOutreachDelivery(config: ChurnguardConfig): void {
  if (config.outreachSink === 'eventbridge' || config.webhookUrl !== undefined || config.outreachDryRun) return;
  throw new Error(
    'Invalid churnguard CDK context: no webhookUrl, so outreach would only be logged and then deleted. ' +
      'Set "webhookUrl" in the "context" of cdk.json (kept for every redeploy), or choose a dry run explicitly with "outreachDryRun": true.',
  );
}

/**
 * Validates raw context values (from `node.tryGetContext`) into a config, naming every bad key.
 * @example parseConfig({ budgetMaxMessages: '50', alarmEmail: 'ops@example.com' })
 */
export function parseConfig(raw: Record<string, unknown>): ChurnguardConfig {
  const parsed = ChurnguardConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `context "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  throw new Error(`Invalid churnguard CDK context:\n  ${problems.join('\n  ')}`);
}
