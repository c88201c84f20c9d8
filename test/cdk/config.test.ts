import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, parseConfig, unknownContextKeys } from '../../cdk/config.ts';
import { ENVIRONMENT_VARIABLE, FIELDS_BY_FUNCTION, environmentFor } from '../../cdk/functionEnvironment.ts';
import { retentionFor } from '../../cdk/constructs/nodeFunction.ts';

describe('parseConfig (CDK context → stack settings)', () => {
  it('fills every knob with its documented default when no context is given', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      dailyScoreSchedule: 'cron(0 6 * * ? *)',
      weeklyTrainSchedule: 'cron(0 4 ? * MON *)',
      budgetMaxMessages: 200,
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

  it('accepts the string forms that `cdk deploy -c key=value` produces', () => {
    const config = parseConfig({ budgetMaxMessages: '75', deletionProtection: 'false', costIntervention: '12.5', jwtIssuer: 'https://id.example.com', jwtAudience: 'a, b' });
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
  ])('rejects %j naming the key %s', (raw, key) => {
    expect(() => parseConfig(raw)).toThrow(new RegExp(`context "${key}"`));
  });

  it('reports every bad key in one error', () => {
    expect(() => parseConfig({ cooldownDays: '-1', encryption: 'none' })).toThrow(/cooldownDays[\s\S]*encryption|encryption[\s\S]*cooldownDays/);
  });

  it('lists every key it reads, for the deploy documentation', () => {
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining(['budgetMaxMessages', 'webhookSecretArn', 'scaleOutSegments', 'alarmEmail']));
  });

  it('flags a misspelt setting but not CDK\'s own context keys', () => {
    expect(
      unknownContextKeys(['budgetMaxMesages', 'budgetMaxMessages', 'stackName', '@aws-cdk/core:newStyleStackSynthesis', 'aws:cdk:bundling-stacks']),
    ).toEqual(['budgetMaxMesages']);
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
    expect(environmentFor('outreach', { ...base, webhookUrl: undefined, webhookSecretArn: 'arn:secret' })).not.toHaveProperty('OUTREACH_WEBHOOK_URL');
    expect(environmentFor('ingest', { ...base, eventTtlDays: 0 })).not.toHaveProperty('EVENT_TTL_DAYS');
  });

  it('covers every variable the functions read, each published by exactly one field', () => {
    const published = new Set(Object.values(FIELDS_BY_FUNCTION).flat().map((field) => ENVIRONMENT_VARIABLE[field]));
    expect([...published].sort()).toEqual(
      [
        'BUCKET_NAME', 'BUDGET_MAX_MESSAGES', 'CHURN_DEFINITION', 'COOLDOWN_DAYS', 'COST_INTERVENTION', 'COST_LOST_CUSTOMER',
        'EVENT_TTL_DAYS', 'HORIZON_DAYS', 'OUTREACH_QUEUE_URL', 'OUTREACH_WEBHOOK_SECRET_ARN', 'OUTREACH_WEBHOOK_URL',
        'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME', 'TABLE_NAME',
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
