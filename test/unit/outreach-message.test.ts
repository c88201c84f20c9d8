import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  buildOutreachMessage,
  OutreachMessage,
  outreachDedupId,
  outreachMessageJsonSchema,
  parseOutreachMessage,
} from '../../model/outreach/message.ts';
import { schemaFileText } from '../../scripts/write-schemas.ts';
import { driver, scoredCustomer } from './outreachFactories.ts';

const createdAt = '2026-11-23T10:00:00.000Z';

describe('buildOutreachMessage', () => {
  it('carries the run, model, calibrated risk, MRR at risk, top drivers with sentences, playbook and a stable dedupId', () => {
    // Prepare
    const customer = scoredCustomer({
      customerId: 'c-1',
      risk: 0.4,
      mrrCents: 10_000,
      drivers: [driver('payments', 0.9, 'payments.failed_14d')],
    });
    // Act
    const message = buildOutreachMessage({ customer, playbook: 'payment_recovery', runId: 'score-2026-11-23', createdAt });
    // Assess
    expect(message).toEqual({
      messageVersion: 1,
      customerId: 'c-1',
      runId: 'score-2026-11-23',
      modelVersion: 'm-test',
      risk: 0.4,
      band: 'medium',
      mrrAtRisk: 4_000,
      drivers: [{ feature: 'payments.failed_14d', sentence: 'payments.failed_14d is high', contribution: 0.9 }],
      playbook: 'payment_recovery',
      dedupId: 'score-2026-11-23:c-1',
      createdAt,
    });
  });

  it('sets mrrAtRisk to null when the MRR is unknown', () => {
    const message = buildOutreachMessage({
      customer: scoredCustomer({ customerId: 'c', mrrCents: null }),
      playbook: 'offer',
      runId: 'r',
      createdAt,
    });
    expect(message.mrrAtRisk).toBeNull();
  });

  it('gives the same claim the same dedupId whenever it is built', () => {
    expect(outreachDedupId('r1', 'c9')).toBe(outreachDedupId('r1', 'c9'));
    expect(outreachDedupId('r1', 'c9')).not.toBe(outreachDedupId('r2', 'c9'));
  });
});

describe('parseOutreachMessage', () => {
  const valid = buildOutreachMessage({ customer: scoredCustomer({ customerId: 'c-1' }), playbook: 'offer', runId: 'r', createdAt });

  it('round-trips a valid message', () => {
    expect(parseOutreachMessage(JSON.stringify(valid))).toEqual(valid);
  });

  it('rejects a body that is not JSON, saying so', () => {
    expect(() => parseOutreachMessage('{oops')).toThrow(/not JSON/);
  });

  it('rejects a message that breaks the contract, naming the field', () => {
    expect(() => parseOutreachMessage(JSON.stringify({ ...valid, risk: 1.5 }))).toThrow(/risk:/);
    expect(() => parseOutreachMessage(JSON.stringify({ ...valid, playbook: 'spam' }))).toThrow(/playbook:/);
    expect(() => parseOutreachMessage(JSON.stringify({ ...valid, messageVersion: 2 }))).toThrow(/messageVersion:/);
  });

  it('accepts unknown extra fields, so adding optional fields stays compatible', () => {
    expect(OutreachMessage.safeParse({ ...valid, newField: 1 }).success).toBe(true);
  });
});

describe('schemas/outreach-message.v1.json', () => {
  it('is exactly what scripts/write-schemas.ts generates from the zod schema', async () => {
    const committed = await readFile(new URL('../../schemas/outreach-message.v1.json', import.meta.url), 'utf8');
    expect(committed).toBe(schemaFileText(outreachMessageJsonSchema));
  });

  it('accepts the messages the job builds and rejects ones that break the contract (checked with a JSON Schema validator)', async () => {
    const schema = JSON.parse(await readFile(new URL('../../schemas/outreach-message.v1.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const message = buildOutreachMessage({
      customer: scoredCustomer({ customerId: 'c-1', mrrCents: null }),
      playbook: 'loyalty_reward',
      runId: 'r',
      createdAt,
    });
    expect(validate(JSON.parse(JSON.stringify(message)))).toBe(true);
    expect(validate({ ...message, risk: 2 })).toBe(false);
    expect(validate({ ...message, playbook: 'spam' })).toBe(false);
    const { dedupId: _dedupId, ...withoutDedupId } = message;
    expect(validate(withoutDedupId)).toBe(false);
  });

  it('requires every field of the contract', () => {
    const schema = outreachMessageJsonSchema() as { required: string[] };
    expect([...schema.required].sort()).toEqual(
      [
        'messageVersion',
        'customerId',
        'runId',
        'modelVersion',
        'risk',
        'band',
        'mrrAtRisk',
        'drivers',
        'playbook',
        'dedupId',
        'createdAt',
      ].sort(),
    );
  });
});
