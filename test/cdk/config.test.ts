import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, parseConfig, requireOutreachDelivery, unknownContextKeys } from '../../cdk/config.ts';
import { retentionFor } from '../../cdk/constructs/nodeFunction.ts';
import { ENVIRONMENT_VARIABLE, environmentFor, FIELDS_BY_FUNCTION } from '../../cdk/functionEnvironment.ts';
import { fromRepoRoot } from '../../cdk/paths.ts';
import { OutreachConsumerEnv } from '../../lambdas/outreach/config.ts';
import { StripeEnv } from '../../lambdas/stripe/config.ts';
import { JobEnv } from '../../lambdas/train-score/config.ts';

describe('parseConfig (CDK context → stack settings)', () => {
  it('fills every knob with its documented default when no context is given', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      dailyScoreSchedule: 'cron(0 6 * * ? *)',
      weeklyTrainSchedule: 'cron(0 4 ? * MON *)',
      budgetMaxMessages: 100,
      cooldownDays: 14,
      horizonDays: 30,
      churnDefinition: 'cancelled',
      consumerTimeoutSeconds: 30,
      deletionProtection: true,
      encryption: 'aws-managed',
    });
    expect(config.scaleOutSegments).toBeUndefined();
    expect(config.webhookUrl).toBeUndefined();
  });

  it("leaves the job's and the consumer's optional settings unset by default, so their own defaults apply", () => {
    const config = parseConfig({});
    expect(config.unknownMrrValueCents).toBeUndefined();
    expect(config.passiveInactivityDays).toBeUndefined();
    expect(config.scanSegments).toBeUndefined();
    expect(config.webhookTimeoutMs).toBeUndefined();
  });

  it('reads the optional job and consumer settings from their `-c key=value` string forms', () => {
    const config = parseConfig({ unknownMrrValueCents: '2500', passiveInactivityDays: '45', scanSegments: '16', webhookTimeoutMs: '8000' });
    expect(config).toMatchObject({ unknownMrrValueCents: 2500, passiveInactivityDays: 45, scanSegments: 16, webhookTimeoutMs: 8000 });
    expect(parseConfig({ unknownMrrValueCents: 0 }).unknownMrrValueCents).toBe(0);
  });

  it('accepts the string forms that `cdk deploy -c key=value` produces', () => {
    const config = parseConfig({
      budgetMaxMessages: '75',
      deletionProtection: 'false',
      costIntervention: '12.5',
      jwtIssuer: 'https://id.example.com',
      jwtAudience: 'a, b',
    });
    expect(config.budgetMaxMessages).toBe(75);
    expect(config.deletionProtection).toBe(false);
    expect(config.costIntervention).toBe(12.5);
    expect(config.jwtAudience).toEqual(['a', 'b']);
  });

  it.each([
    [{ budgetMaxMessages: 'lots' }, 'budgetMaxMessages'],
    [{ budgetMaxMessages: '0' }, 'budgetMaxMessages'],
    [{ deletionProtection: 'yes' }, 'deletionProtection'],
    [{ webhookUrl: 'http://hooks.example.com' }, 'webhookUrl'],
    [{ webhookSecretArn: 'churnguard-webhook' }, 'webhookSecretArn'],
    [{ churnDefinition: 'inactive' }, 'churnDefinition'],
    [{ dailyScoreSchedule: '0 6 * * *' }, 'dailyScoreSchedule'],
    [{ scaleOutSegments: '1' }, 'scaleOutSegments'],
    [{ queueRetentionDays: '30' }, 'queueRetentionDays'],
    [{ jwtIssuer: 'https://id.example.com' }, 'jwtAudience'],
    [{ ingestRateLimit: '500', ingestBurstLimit: '100' }, 'ingestBurstLimit'],
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail'],
    [{ unknownMrrValueCents: '-1' }, 'unknownMrrValueCents'],
    [{ unknownMrrValueCents: 'unknown' }, 'unknownMrrValueCents'],
    [{ passiveInactivityDays: '0' }, 'passiveInactivityDays'],
    [{ passiveInactivityDays: '7.5' }, 'passiveInactivityDays'],
    [{ scanSegments: '0' }, 'scanSegments'],
    [{ scanSegments: '1001' }, 'scanSegments'],
    [{ webhookTimeoutMs: 'soon' }, 'webhookTimeoutMs'],
    [{ webhookTimeoutMs: '60001' }, 'webhookTimeoutMs'],
    // The webhook call must end before the consumer function times out.
    [{ webhookTimeoutMs: '30000', consumerTimeoutSeconds: '30' }, 'webhookTimeoutMs'],
  ])('rejects %j naming the key %s', (raw, key) => {
    expect(() => parseConfig(raw)).toThrow(new RegExp(`context "${key}"`));
  });

  it('reports every bad key in one error', () => {
    expect(() => parseConfig({ cooldownDays: '-1', encryption: 'none' })).toThrow(
      /cooldownDays[\s\S]*encryption|encryption[\s\S]*cooldownDays/,
    );
  });

  it('lists every key it reads, for the deploy documentation', () => {
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining(['budgetMaxMessages', 'webhookSecretArn', 'scaleOutSegments', 'alarmEmail']));
  });

  it("flags a misspelt setting but not CDK's own context keys", () => {
    expect(
      unknownContextKeys([
        'budgetMaxMesages',
        'budgetMaxMessages',
        'stackName',
        '@aws-cdk/core:newStyleStackSynthesis',
        'aws:cdk:bundling-stacks',
      ]),
    ).toEqual(['budgetMaxMesages']);
  });
});

/** The settings cdk.json carries, so that a redeploy without `-c` flags keeps them. */
const DEPLOYED_SETTINGS = [
  'jobPackaging',
  'budgetMaxMessages',
  'cooldownDays',
  'costLostCustomer',
  'costIntervention',
  'horizonDays',
  'churnDefinition',
  'eventTtlDays',
  'dailyScoreSchedule',
  'weeklyTrainSchedule',
  'scheduleTimeZone',
];

describe('deployable settings', () => {
  const cdkJson = JSON.parse(readFileSync(fromRepoRoot('cdk.json'), 'utf8')) as { context: Record<string, unknown> };

  it('cdk.json keeps the settings a redeploy must not lose, and every one of them is a known, valid key', () => {
    expect(Object.keys(cdkJson.context)).toEqual(expect.arrayContaining(DEPLOYED_SETTINGS));
    expect(unknownContextKeys(Object.keys(cdkJson.context))).toEqual([]);
    const config = parseConfig(cdkJson.context);
    expect(config).toMatchObject({ jobPackaging: 'zip', budgetMaxMessages: 100, cooldownDays: 14 });
  });

  it('refuses to deploy without a webhook unless a dry run is chosen explicitly, naming cdk.json', () => {
    expect(() => requireOutreachDelivery(parseConfig(cdkJson.context))).toThrow(/webhookUrl.*cdk\.json.*outreachDryRun/s);
    expect(() => requireOutreachDelivery(parseConfig({}))).toThrow(/no webhookUrl/);
    expect(() => requireOutreachDelivery(parseConfig({ outreachDryRun: 'true' }))).not.toThrow();
    expect(() => requireOutreachDelivery(parseConfig({ webhookUrl: 'https://crm.example.com/hooks/churn' }))).not.toThrow();
    expect(parseConfig({ outreachDryRun: 'false' }).outreachDryRun).toBe(false);
  });

  it('packages the job as a zip by default; container is an explicit choice; anything else is named', () => {
    expect(parseConfig({}).jobPackaging).toBe('zip');
    expect(parseConfig({ jobPackaging: 'container' }).jobPackaging).toBe('container');
    expect(() => parseConfig({ jobPackaging: 'docker' })).toThrow(/context "jobPackaging"/);
  });
});

describe('environmentFor (typed settings → function environment)', () => {
  const base = { tableName: 'tbl', serviceName: 'svc', metricsNamespace: 'Ns' };

  it('publishes only the fields a function reads, under their variable names', () => {
    expect(environmentFor('ingest', { ...base, eventTtlDays: 30 })).toEqual({
      TABLE_NAME: 'tbl',
      EVENT_TTL_DAYS: '30',
      POWERTOOLS_SERVICE_NAME: 'svc',
      POWERTOOLS_METRICS_NAMESPACE: 'Ns',
    });
  });

  it('leaves out absent optional settings and a zero TTL, so the handler default applies', () => {
    expect(
      environmentFor('outreach', { ...base, webhookUrl: undefined, webhookSecretArn: 'arn:secret', cooldownDays: 14 }),
    ).not.toHaveProperty('OUTREACH_WEBHOOK_URL');
    expect(environmentFor('ingest', { ...base, eventTtlDays: 0 })).not.toHaveProperty('EVENT_TTL_DAYS');
  });

  const job = {
    ...base,
    bucketName: 'bkt',
    outreachQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    budgetMaxMessages: 100,
    cooldownDays: 14,
    costLostCustomer: 500,
    costIntervention: 50,
    horizonDays: 30,
    churnDefinition: 'cancelled',
  };

  it("publishes the job's optional settings when set, and leaves them out when absent", () => {
    expect(environmentFor('trainScore', { ...job, unknownMrrValueCents: 2500, passiveInactivityDays: 45, scanSegments: 16 })).toMatchObject(
      {
        UNKNOWN_MRR_VALUE_CENTS: '2500',
        PASSIVE_INACTIVITY_DAYS: '45',
        SCAN_SEGMENTS: '16',
      },
    );
    expect(Object.keys(environmentFor('trainScore', job))).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(UNKNOWN_MRR_VALUE_CENTS|PASSIVE_INACTIVITY_DAYS|SCAN_SEGMENTS)$/)]),
    );
  });

  it('gives the consumer the cooldown (its idempotency memory follows it) and the optional webhook timeout', () => {
    const outreach = { ...base, webhookUrl: 'https://hooks.example.com', webhookSecretArn: 'arn:secret', cooldownDays: 21 };
    expect(environmentFor('outreach', { ...outreach, webhookTimeoutMs: 8000 })).toMatchObject({
      COOLDOWN_DAYS: '21',
      OUTREACH_WEBHOOK_TIMEOUT_MS: '8000',
    });
    expect(environmentFor('outreach', outreach)).not.toHaveProperty('OUTREACH_WEBHOOK_TIMEOUT_MS');
  });

  it("publishes only variables the function's own configuration parser reads", () => {
    const readBy = {
      trainScore: Object.keys(JobEnv.shape),
      outreach: Object.keys(OutreachConsumerEnv.shape),
      stripe: Object.keys(StripeEnv.shape),
    };
    for (const kind of ['trainScore', 'outreach', 'stripe'] as const) {
      const published = FIELDS_BY_FUNCTION[kind]
        .map((field) => ENVIRONMENT_VARIABLE[field])
        .filter((name) => !name.startsWith('POWERTOOLS_'));
      expect(readBy[kind], kind).toEqual(expect.arrayContaining(published));
    }
  });

  it('covers every variable the functions read, each published by exactly one field', () => {
    const published = new Set(
      Object.values(FIELDS_BY_FUNCTION)
        .flat()
        .map((field) => ENVIRONMENT_VARIABLE[field]),
    );
    expect([...published].sort()).toEqual(
      [
        'BUCKET_NAME',
        'BUDGET_MAX_MESSAGES',
        'CHURN_DEFINITION',
        'COOLDOWN_DAYS',
        'COST_INTERVENTION',
        'COST_LOST_CUSTOMER',
        'EVENT_TTL_DAYS',
        'HORIZON_DAYS',
        'OUTREACH_EVENT_BUS_NAME',
        'OUTREACH_QUEUE_URL',
        'OUTREACH_WEBHOOK_SECRET_ARN',
        'OUTREACH_WEBHOOK_TIMEOUT_MS',
        'OUTREACH_WEBHOOK_URL',
        'PASSIVE_INACTIVITY_DAYS',
        'PAYMENT_RECOVERY_DELAY_HOURS',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'SCAN_SEGMENTS',
        'STRIPE_CUSTOMER_METADATA_KEY',
        'STRIPE_WEBHOOK_SECRET_ARN',
        'TABLE_NAME',
        'UNKNOWN_MRR_VALUE_CENTS',
      ].sort(),
    );
    expect(new Set(Object.values(ENVIRONMENT_VARIABLE)).size).toBe(Object.keys(ENVIRONMENT_VARIABLE).length);
  });
});

describe('retentionFor', () => {
  it('rounds a day count up to a retention CloudWatch Logs accepts', () => {
    expect(retentionFor(30)).toBe(30);
    expect(retentionFor(31)).toBe(60);
    expect(retentionFor(4000)).toBe(3653);
  });
});
