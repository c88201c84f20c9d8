import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
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

/** A JSON Schema 2020-12 validator in strict mode that checks formats (date-time included) instead of ignoring them. */
function compileStrict(schema: object) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajvFormats.default(ajv);
  return ajv.compile(schema);
}

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

  it('gives the same claim the same dedupId whenever it is built, and different claims different ones', () => {
    // The same claim (run r1, customer c9) built twice with everything else different: another
    // time, risk, MRR, drivers, playbook. Only the run and the customer may shape the id.
    const first = buildOutreachMessage({
      customer: scoredCustomer({
        customerId: 'c9',
        risk: 0.9,
        mrrCents: 10_000,
        drivers: [driver('payments', 0.9, 'payments.failed_14d')],
      }),
      playbook: 'payment_recovery',
      runId: 'r1',
      createdAt,
    });
    const later = buildOutreachMessage({
      customer: scoredCustomer({ customerId: 'c9', risk: 0.2, mrrCents: null, drivers: [] }),
      playbook: 'offer',
      runId: 'r1',
      createdAt: '2026-11-24T08:30:00.000Z',
    });
    expect(later.dedupId).toBe(first.dedupId);
    expect(outreachDedupId('r1', 'c9')).toBe(first.dedupId);
    // Another run or another customer is another claim.
    const claims: Array<[string, string]> = [
      ['r1', 'c9'],
      ['r2', 'c9'],
      ['r1', 'c10'],
      ['r2', 'c10'],
      ['r19', 'c'],
    ];
    expect(new Set(claims.map(([run, customer]) => outreachDedupId(run, customer))).size).toBe(claims.length);
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
    const validate = compileStrict(schema);
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

  it('rejects a createdAt that is not an RFC 3339 date-time (the schema format is enforced, not only annotated)', async () => {
    const schema = JSON.parse(await readFile(new URL('../../schemas/outreach-message.v1.json', import.meta.url), 'utf8')) as object;
    const validate = compileStrict(schema);
    const message = buildOutreachMessage({ customer: scoredCustomer({ customerId: 'c-1' }), playbook: 'offer', runId: 'r', createdAt });
    expect(validate(message)).toBe(true);
    expect(validate({ ...message, createdAt: '2026-11-23T10:00:00+01:00' })).toBe(true);
    for (const bad of ['yesterday', '2026-11-23', '2026-13-23T10:00:00.000Z', '2026-11-23 10:00:00', '2026-11-23T25:00:00.000Z']) {
      expect(validate({ ...message, createdAt: bad }), bad).toBe(false);
      // The schema also carries zod's pattern; the format keyword must fail on its own account.
      expect(
        validate.errors?.map((e) => [e.instancePath, e.keyword, e.params]),
        bad,
      ).toContainEqual(['/createdAt', 'format', { format: 'date-time' }]);
    }
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
