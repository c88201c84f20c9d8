import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { measureOutreachEffect } from '../../app/outreachEffect.ts';
import { formatOutreachEffect } from '../../cli/commands/outreachEffect.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { outreachDedupId } from '../../model/outreach/message.ts';
import { event } from '../unit/outreachFactories.ts';

/**
 * `outreach effect` over the real stores: the ledger's contacted and held-out records, each
 * resolved from the customer's stored events once the horizon has passed.
 */

let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-effect-'));
  stack = await openLocalStack(dataDir);
});

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A customer active weekly from January; `cancelAt` cancels them. */
function history(id: string, cancelAt?: string): ChurnEvent[] {
  const events = [event(id, 'subscription_started', '2026-01-02T00:00:00.000Z', { mrrCents: 4_900 })];
  const last = Date.parse(cancelAt ?? '2026-07-20T00:00:00.000Z');
  for (let ms = Date.parse('2026-01-05T10:00:00Z'); ms < last; ms += 7 * 86_400_000)
    events.push(event(id, 'session_started', new Date(ms).toISOString()));
  if (cancelAt) events.push(event(id, 'subscription_cancelled', cancelAt));
  return events;
}

describe('measureOutreachEffect on the emulators', () => {
  it('counts each arm’s resolved and pending selections and their churn, per playbook', async () => {
    // Prepare: run A on 05-01 (2 contacted, 2 held out), run B on 07-10 (still within its horizon on 07-20)
    const { documents } = createAwsClients();
    const tableName = process.env.TABLE_NAME as string;
    const events = new DynamoEventStore(documents, { tableName });
    const ledger = new DynamoOutreachLedger(documents, tableName);
    const customers: Array<[string, string | undefined]> = [
      ['fx-t1', undefined],
      ['fx-t2', '2026-05-20T10:00:00.000Z'],
      ['fx-c1', '2026-05-10T10:00:00.000Z'],
      ['fx-c2', '2026-05-12T10:00:00.000Z'],
      ['fx-late', undefined],
    ];
    await events.putEvents(customers.flatMap(([id, cancelAt]) => history(id, cancelAt)));
    const claim = (customerId: string, runId: string, claimAt: string, arm: 'treated' | 'control') =>
      ledger.claim({
        customerId,
        runId,
        dedupId: outreachDedupId(runId, customerId),
        claimAt,
        cooldownDays: 14,
        playbook: 'payment_recovery',
        risk: 0.6,
        modelVersion: 'm-1',
        arm,
      });
    for (const id of ['fx-t1', 'fx-t2']) await claim(id, 'fx-run-a', '2026-05-01T00:00:00.000Z', 'treated');
    for (const id of ['fx-c1', 'fx-c2']) await claim(id, 'fx-run-a', '2026-05-01T00:00:00.000Z', 'control');
    await claim('fx-late', 'fx-run-b', '2026-07-10T00:00:00.000Z', 'treated');
    // Act
    const report = await measureOutreachEffect(
      { outreach: ledger, events },
      { asOf: '2026-07-20T00:00:00.000Z', horizonDays: 30, rules: { inactivityDays: 30 }, since: '2026-04-01' },
    );
    // Assess
    const [recovery] = report.playbooks;
    expect(recovery).toMatchObject({
      playbook: 'payment_recovery',
      shown: false,
      treated: { resolved: 2, pending: 1, churned: 1, churnRate: 0.5, mrrCents: 9_800 },
      control: { resolved: 2, pending: 0, churned: 2, churnRate: 1 },
    });
    expect(formatOutreachEffect(report)).toContain(
      'payment_recovery: treated 2 (churn 50.0%), control 2 (churn 100.0%); not shown yet: needs ≥ 30 resolved outcomes per arm',
    );
    expect(formatOutreachEffect(report)).toContain('1 selection(s) still within their horizon');
  });
});
