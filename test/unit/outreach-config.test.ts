import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../adapters/aws/env.ts';
import { defaultRunId } from '../../app/job.ts';
import { localWebhookSecret, localWebhookSecrets, parseWait } from '../../cli/commands/outreach.ts';
import { OutreachConsumerEnv, sinkFromEnv } from '../../lambdas/outreach/config.ts';
import { jobSettingsFromEnv } from '../../lambdas/train-score/config.ts';
import { parseInstant } from '../../model/features/time.ts';

const queue = { OUTREACH_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/churnguard-outreach' };

describe('job settings from the environment', () => {
  it('uses the documented defaults', () => {
    const { config } = jobSettingsFromEnv(queue);
    expect(config).toMatchObject({
      maxMessages: 100,
      cooldownDays: 14,
      costLostCustomer: 500,
      costIntervention: 50,
      passiveInactivityDays: 30,
      horizonDays: 30,
      seed: 42,
    });
    expect(config.churn).toEqual({ kind: 'cancelled' });
  });

  it('reads the knobs and uses the inactivity window of a non-contractual churn definition for passive churn', () => {
    const { config } = jobSettingsFromEnv({ ...queue, BUDGET_MAX_MESSAGES: '7', COOLDOWN_DAYS: '30', CHURN_DEFINITION: 'inactive:45d' });
    expect(config).toMatchObject({ maxMessages: 7, cooldownDays: 30, passiveInactivityDays: 45 });
    expect(config.churn).toEqual({ kind: 'inactive', days: 45 });
  });

  it('names the bad variable', () => {
    expect(() => jobSettingsFromEnv({ ...queue, COOLDOWN_DAYS: 'two weeks' })).toThrow(/COOLDOWN_DAYS/);
    expect(() => jobSettingsFromEnv({ ...queue, CHURN_DEFINITION: 'sometimes' })).toThrow(/CHURN_DEFINITION/);
    expect(() => jobSettingsFromEnv({})).toThrow(/OUTREACH_QUEUE_URL/);
  });
});

describe('run ids', () => {
  it('are deterministic from mode and asOf day, so a retried scheduled run resumes', () => {
    expect(defaultRunId('score', parseInstant('2026-11-23', 'asOf'))).toBe('score-2026-11-23');
    expect(defaultRunId('score', parseInstant('2026-11-23T18:30:00+00:00', 'asOf'))).toBe('score-2026-11-23');
    expect(defaultRunId('score-segment', '2026-11-23T00:00:00.000Z')).toBe('score-2026-11-23');
    expect(parseInstant('2026-11-23T01:00:00+02:00', 'asOf')).toBe('2026-11-22T23:00:00.000Z');
  });
});

describe('consumer sink from the environment', () => {
  const log = () => {};
  it('is a dry run without a webhook URL', () => {
    expect(sinkFromEnv(parseEnv(OutreachConsumerEnv, {}), log).kind).toBe('dry-run');
  });
  it('is a webhook with a secret from env or Secrets Manager', () => {
    expect(
      sinkFromEnv(
        parseEnv(OutreachConsumerEnv, { OUTREACH_WEBHOOK_URL: 'https://crm.example/hook', OUTREACH_WEBHOOK_SECRET: 'whsec_c2VjcmV0' }),
        log,
      ).kind,
    ).toBe('webhook');
    expect(
      sinkFromEnv(
        parseEnv(OutreachConsumerEnv, {
          OUTREACH_WEBHOOK_URL: 'https://crm.example/hook',
          OUTREACH_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
        }),
        log,
      ).kind,
    ).toBe('webhook');
  });
  it('refuses a secret that is not a Standard Webhooks secret, without printing it', () => {
    const env = parseEnv(OutreachConsumerEnv, { OUTREACH_WEBHOOK_URL: 'https://crm.example/hook', OUTREACH_WEBHOOK_SECRET: 'hunter2!' });
    expect(() => sinkFromEnv(env, log)).toThrow(/OUTREACH_WEBHOOK_SECRET #1 is not a Standard Webhooks secret/);
    expect(() => sinkFromEnv(env, log)).not.toThrow(/hunter2/);
  });
  it('refuses a webhook without a secret and a timeout that is not a number', () => {
    expect(() => sinkFromEnv(parseEnv(OutreachConsumerEnv, { OUTREACH_WEBHOOK_URL: 'https://crm.example/hook' }), log)).toThrow(
      /OUTREACH_WEBHOOK_SECRET/,
    );
    expect(() => parseEnv(OutreachConsumerEnv, { OUTREACH_WEBHOOK_TIMEOUT_MS: 'soon' })).toThrow(/OUTREACH_WEBHOOK_TIMEOUT_MS/);
  });
});

describe('outreach CLI helpers', () => {
  it('parses --max-wait durations and rejects others', () => {
    expect(parseWait('60s')).toBe(60_000);
    expect(parseWait('2m')).toBe(120_000);
    expect(parseWait('500ms')).toBe(500);
    expect(parseWait('10')).toBe(10_000);
    expect(() => parseWait('a while')).toThrow(/--max-wait/);
  });

  it('generates the local webhook secret once, in a 0600 file, unless OUTREACH_WEBHOOK_SECRET is set', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-secret-'));
    try {
      const first = await localWebhookSecret(dir, {});
      const second = await localWebhookSecret(dir, {});
      expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(second).toBe(first);
      expect((await stat(path.join(dir, 'webhook-secret'))).mode & 0o777).toBe(0o600);
      expect(await localWebhookSecret(dir, { OUTREACH_WEBHOOK_SECRET: 'whsec_Z2l2ZW4=' })).toBe('whsec_Z2l2ZW4=');
      // A rotation: the new secret signs first, both verify.
      await writeFile(path.join(dir, 'webhook-secret'), `whsec_bmV3\n${first}\n`);
      expect(await localWebhookSecrets(dir, {})).toEqual(['whsec_bmV3', first]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
