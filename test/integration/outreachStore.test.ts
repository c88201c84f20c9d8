import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { customerPk, outreachSk } from '../../adapters/aws/keys.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { isConditionFailure, OPEN_PK, OUTREACH_LOCK_SK, openSk } from '../../adapters/aws/outreachStore.ts';
import type { ClaimRequest } from '../../app/ports.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { outreachDedupId } from '../../model/outreach/message.ts';
import { beforeEachCommand, type CommandCall, sortKeyOf } from '../helpers/dynamoCommandHooks.ts';

/**
 * The outreach store and delivery ledger against dynalite: the claim's three conditional writes
 * (lock, OUT# record, unit of the daily budget), their recovery paths, races between runs, and the
 * ledger's state changes. Every test uses customers and budget days of its own.
 */

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-outreach-store-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
});

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const table = () => process.env.TABLE_NAME as string;
const store = () => new DynamoOutreachLedger(clients.documents, table());
/** A store on a client of its own, with `hook` run before each of its commands. */
const hooked = (hook: (call: CommandCall) => Promise<void> | void) => {
  const { documents } = createAwsClients();
  beforeEachCommand(documents, hook);
  return new DynamoOutreachLedger(documents, table());
};
const day = (n: number, time = '00:00:00.000') => new Date(Date.parse(`2026-01-01T${time}Z`) + n * 86_400_000).toISOString();
const request = (customerId: string, runId: string, claimAt: string, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
  customerId,
  runId,
  dedupId: outreachDedupId(runId, customerId),
  claimAt,
  cooldownDays: 14,
  playbook: 'offer',
  risk: 0.5,
  modelVersion: 'm-1',
  ...extra,
});
const lockOf = async (customerId: string) =>
  (await clients.documents.send(new GetCommand({ TableName: table(), Key: { PK: customerPk(customerId), SK: OUTREACH_LOCK_SK } }))).Item;
const openOf = async (...customerIds: string[]) =>
  (await store().openOutreach())
    .filter((o) => customerIds.includes(o.customerId))
    .map((o) => `${o.runId}/${o.customerId}`)
    .sort();
const deleteRecord = (customerId: string, runId: string) =>
  clients.documents.send(new DeleteCommand({ TableName: table(), Key: { PK: customerPk(customerId), SK: outreachSk(runId) } }));

describe('a claim', () => {
  it('of a free customer writes the lock, the claimed record with the claim’s details, and the open entry', async () => {
    // Prepare
    const before = new Date().toISOString();
    // Act
    const outcome = await store().claim(request('free-1', 'run-free', day(0), { body: '{"hello":1}', risk: 0.75 }));
    // Assess
    expect(outcome).toBe('claimed');
    const record = await store().get('free-1', 'run-free');
    expect(record).toMatchObject({
      customerId: 'free-1',
      runId: 'run-free',
      dedupId: 'run-free:free-1',
      status: 'claimed',
      claimAt: day(0),
      playbook: 'offer',
      modelVersion: 'm-1',
      body: '{"hello":1}',
    });
    expect((record as { risk?: unknown }).risk).toBe(0.75);
    expect(record).not.toHaveProperty('budgetDay'); // no daily budget asked
    expect(Date.parse(record?.claimedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(before));
    expect(await lockOf('free-1')).toEqual({ PK: customerPk('free-1'), SK: OUTREACH_LOCK_SK, runId: 'run-free', lastClaimAt: day(0) });
    expect(await openOf('free-1')).toEqual(['run-free/free-1']);
    // A claim without a body stores none.
    await store().claim(request('free-2', 'run-free', day(0)));
    expect(await store().get('free-2', 'run-free')).not.toHaveProperty('body');
  });

  it('is refused (cooldown) until exactly cooldownDays after the last claim, in the data’s time, and leaves the loser nothing', async () => {
    const s = store();
    expect(await s.claim(request('cool-1', 'run-0', day(0)))).toBe('claimed');
    expect(await s.claim(request('cool-1', 'run-edge', day(14)))).toBe('cooldown');
    expect(await s.get('cool-1', 'run-edge')).toBeUndefined();
    expect(await openOf('cool-1')).toEqual(['run-0/cool-1']);
    expect(await s.claim(request('cool-1', 'run-after', new Date(Date.parse(day(14)) + 1).toISOString()))).toBe('claimed');
    expect(await lockOf('cool-1')).toMatchObject({ runId: 'run-after', previousClaimAt: day(0) });
    // A shorter cooldown frees the customer sooner.
    expect(await s.claim(request('cool-1', 'run-short', day(18), { cooldownDays: 3 }))).toBe('claimed');
  });

  it('of two runs racing for one customer: the one whose lock write lands second sees cooldown and keeps no open entry', async () => {
    // Prepare: run B claims between run A's read of the lock and A's conditional write
    let interleaved = false;
    const runA = hooked(async (call) => {
      if (!interleaved && call.name === 'PutCommand' && sortKeyOf(call) === OUTREACH_LOCK_SK) {
        interleaved = true;
        expect(await store().claim(request('race-1', 'run-b', day(0)))).toBe('claimed');
      }
    });
    // Act
    const outcome = await runA.claim(request('race-1', 'run-a', day(0)));
    // Assess
    expect(outcome).toBe('cooldown');
    expect(await store().get('race-1', 'run-a')).toBeUndefined();
    expect(await lockOf('race-1')).toMatchObject({ runId: 'run-b' });
    expect(await openOf('race-1')).toEqual(['run-b/race-1']);
  });

  it('by the same run again: resumed while claimed, already-sent once queued (the open entry stays) or settled (it goes)', async () => {
    const s = store();
    await s.claim(request('again-1', 'run-1', day(0)));
    const [firstOpen] = (await s.openOutreach()).filter((o) => o.customerId === 'again-1');
    expect(await s.claim(request('again-1', 'run-1', day(0)))).toBe('resumed');
    expect((await s.openOutreach()).filter((o) => o.customerId === 'again-1')).toEqual([firstOpen]); // the first opening time
    await s.markQueued('again-1', 'run-1', 'msg-1');
    expect(await s.claim(request('again-1', 'run-1', day(0)))).toBe('already-sent');
    expect(await openOf('again-1')).toEqual(['run-1/again-1']);
    await s.recordAttempt('again-1', 'run-1', { ok: true, at: day(0, '01:00:00.000') });
    await s.claim(request('again-1', 'run-1', day(0)));
    expect(await openOf('again-1')).toEqual([]);
    // A failed record is settled too: already sent, off the open list.
    await s.claim(request('again-2', 'run-1', day(0)));
    await s.markFailed('again-2', 'run-1', 'gave up', day(1));
    await s.claim(request('again-2', 'run-1', day(0))); // puts it on the open list again, then settles it
    expect(await s.claim(request('again-2', 'run-1', day(0)))).toBe('already-sent');
    expect(await openOf('again-2')).toEqual([]);
  });

  it('of a run that settled its record, refused at the cooldown’s edge by a later run’s lock, leaves no open entry', async () => {
    const s = store();
    await s.claim(request('edge-1', 'run-x', day(0)));
    await s.recordAttempt('edge-1', 'run-x', { ok: true, at: day(0) });
    expect(await s.claim(request('edge-1', 'run-y', day(20)))).toBe('claimed');
    expect(await s.claim(request('edge-1', 'run-x', day(34)))).toBe('cooldown'); // day 20 is exactly 14 days back
    expect(await openOf('edge-1')).toEqual(['run-y/edge-1']);
  });

  it('of a resumed run that loses the lock to another run keeps its own open record on the open list', async () => {
    // Prepare: run X queued its message; run Y takes the lock between X's read and X's write when X resumes
    await store().claim(request('resume-race', 'run-x', day(0)));
    await store().markQueued('resume-race', 'run-x', 'msg-x');
    let interleaved = false;
    const runX = hooked(async (call) => {
      if (!interleaved && call.name === 'PutCommand' && sortKeyOf(call) === OUTREACH_LOCK_SK) {
        interleaved = true;
        await store().claim(request('resume-race', 'run-y', day(20)));
      }
    });
    // Act
    expect(await runX.claim(request('resume-race', 'run-x', day(0)))).toBe('cooldown');
    // Assess: X's queued record stays for reconcile
    expect(await openOf('resume-race')).toEqual(['run-x/resume-race', 'run-y/resume-race']);
  });

  it('of the same run whose record vanished between its write and its read (reconcile abandoned it) is resumed', async () => {
    await store().claim(request('vanish-1', 'run-v', day(0)));
    let deleted = false;
    const again = hooked(async (call) => {
      if (!deleted && call.name === 'GetCommand' && sortKeyOf(call) === outreachSk('run-v')) {
        deleted = true;
        await deleteRecord('vanish-1', 'run-v');
      }
    });
    expect(await again.claim(request('vanish-1', 'run-v', day(0)))).toBe('resumed');
    expect(deleted).toBe(true);
  });

  it('works with a document client that keeps undefined values (no body, no HTTP status)', async () => {
    const plain = new DynamoOutreachLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), table());
    expect(await plain.claim(request('plain-1', 'run-p', day(0)))).toBe('claimed');
    await plain.recordAttempt('plain-1', 'run-p', { ok: false, at: day(0), error: 'ECONNRESET' });
    await plain.recordAttempt('plain-1', 'run-p', { ok: true, at: day(1) });
    expect(await plain.get('plain-1', 'run-p')).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('recognises a lost condition by its class or, from another copy of the SDK, by its name', () => {
    expect(isConditionFailure(new ConditionalCheckFailedException({ message: 'lost', $metadata: {} }))).toBe(true);
    expect(isConditionFailure(Object.assign(new Error('lost'), { name: 'ConditionalCheckFailedException' }))).toBe(true);
    expect(isConditionFailure(new Error('ConditionalCheckFailedException'))).toBe(false);
    expect(isConditionFailure(null)).toBe(false);
    expect(isConditionFailure(undefined)).toBe(false);
  });

  it('passes on errors that are not a lost condition', async () => {
    const failing = (name: string, sk?: string) =>
      hooked((call) => {
        if (call.name === name && (sk === undefined || sortKeyOf(call) === sk)) throw new Error(`${name} unavailable`);
      });
    await expect(failing('PutCommand', OUTREACH_LOCK_SK).claim(request('err-1', 'run-e', day(0)))).rejects.toThrow(
      'PutCommand unavailable',
    );
    await expect(failing('PutCommand', outreachSk('run-e')).claim(request('err-2', 'run-e', day(0)))).rejects.toThrow(
      'PutCommand unavailable',
    );
    await expect(failing('PutCommand', openSk('run-e', 'err-3')).claim(request('err-3', 'run-e', day(0)))).rejects.toThrow(
      'PutCommand unavailable',
    );
    await expect(failing('UpdateCommand').claim(request('err-4', 'run-e', day(0), { dailyBudget: 5 }))).rejects.toThrow(
      'UpdateCommand unavailable',
    );
    await store().claim(request('err-5', 'run-e', day(0)));
    await expect(failing('UpdateCommand').markQueued('err-5', 'run-e', 'm')).rejects.toThrow('UpdateCommand unavailable');
    await expect(failing('UpdateCommand').recordAttempt('err-5', 'run-e', { ok: true, at: day(0) })).rejects.toThrow(
      'UpdateCommand unavailable',
    );
    await expect(failing('DeleteCommand', OUTREACH_LOCK_SK).release('err-5', 'run-e')).rejects.toThrow('DeleteCommand unavailable');
    await expect(failing('UpdateCommand').leaseResend('err-5', 'run-e', 0, day(1))).rejects.toThrow('UpdateCommand unavailable');
  });
});

describe('a lock left without its OUT# item (a run that crashed between the two writes)', () => {
  it('blocks other runs, lets the same run claim again with a unit of budget, and keeps the contact before it for a release', async () => {
    // Prepare: contacted on day 0; run "crash" claims on day 20 and dies before writing its record
    const s = store();
    await s.claim(request('orphan-1', 'run-day0', day(0)));
    await s.markQueued('orphan-1', 'run-day0', 'msg-0');
    await s.claim(request('orphan-1', 'run-crash', day(20)));
    await deleteRecord('orphan-1', 'run-crash');
    // Act + Assess: another run within the cooldown of the orphan lock
    expect(await s.claim(request('orphan-1', 'run-other', day(25), { dailyBudget: 10 }))).toBe('cooldown');
    // the crashed run comes back: a normal claim, with its unit of the day's budget
    expect(await s.claim(request('orphan-1', 'run-crash', day(20), { dailyBudget: 10 }))).toBe('claimed');
    expect(await s.budgetUsed(day(20).slice(0, 10))).toBe(1);
    expect(await s.budgetUsed(day(25).slice(0, 10))).toBe(0);
    expect(await s.get('orphan-1', 'run-crash')).toMatchObject({ status: 'claimed', budgetDay: day(20).slice(0, 10) });
    expect(await lockOf('orphan-1')).toMatchObject({ runId: 'run-crash', lastClaimAt: day(20), previousClaimAt: day(0) });
    // its release restores the day-0 contact and gives the unit back
    await s.release('orphan-1', 'run-crash');
    expect(await s.budgetUsed(day(20).slice(0, 10))).toBe(0);
    expect(await lockOf('orphan-1')).toEqual({
      PK: customerPk('orphan-1'),
      SK: OUTREACH_LOCK_SK,
      runId: 'released:run-crash',
      lastClaimAt: day(0),
    });
    expect(await s.claim(request('orphan-1', 'run-day13', day(13)))).toBe('cooldown');
    expect(await s.claim(request('orphan-1', 'run-day15', day(15)))).toBe('claimed');
  });

  it('is undone by reconcile’s abandonClaim: the customer is free again, or back to their previous contact', async () => {
    const s = store();
    // never contacted before: the lock goes
    await s.claim(request('orphan-2', 'run-crash', day(0)));
    await deleteRecord('orphan-2', 'run-crash');
    await s.abandonClaim('orphan-2', 'run-crash');
    expect(await lockOf('orphan-2')).toBeUndefined();
    expect(await openOf('orphan-2')).toEqual([]);
    expect(await s.claim(request('orphan-2', 'run-next', day(1)))).toBe('claimed');
    // contacted on day 0: the lock goes back to it
    await s.claim(request('orphan-3', 'run-day0', day(0)));
    await s.claim(request('orphan-3', 'run-crash', day(30)));
    await deleteRecord('orphan-3', 'run-crash');
    await s.abandonClaim('orphan-3', 'run-crash');
    expect(await lockOf('orphan-3')).toMatchObject({ runId: 'released:run-crash', lastClaimAt: day(0) });
    expect(await lockOf('orphan-3')).not.toHaveProperty('previousClaimAt');
    expect(await openOf('orphan-3')).toEqual(['run-day0/orphan-3']);
  });
});

describe('the resumed path (a record claimed by a run that crashed before taking its unit of budget)', () => {
  it('takes the unit once, notes the day on the record, and later claims of the run take none', async () => {
    // Prepare: claimed without the budget step (the run died right after writing the record)
    const s = store();
    const budgetDay = day(40).slice(0, 10);
    await s.claim(request('resume-1', 'run-r', day(40)));
    // Act + Assess
    expect(await s.claim(request('resume-1', 'run-r', day(40), { dailyBudget: 3 }))).toBe('resumed');
    expect(await s.budgetUsed(budgetDay)).toBe(1);
    expect(await s.get('resume-1', 'run-r')).toMatchObject({ status: 'claimed', budgetDay });
    expect(await s.claim(request('resume-1', 'run-r', day(40), { dailyBudget: 3 }))).toBe('resumed');
    expect(await s.budgetUsed(budgetDay)).toBe(1);
    await s.markQueued('resume-1', 'run-r', 'msg-r');
    expect(await s.claim(request('resume-1', 'run-r', day(40), { dailyBudget: 3 }))).toBe('already-sent');
    expect(await s.budgetUsed(budgetDay)).toBe(1);
  });

  it('is over budget when the day is spent: the claim is undone and the customer stays free', async () => {
    const s = store();
    const budgetDay = day(41).slice(0, 10);
    expect(await s.claim(request('spent-0', 'run-s', day(41), { dailyBudget: 1 }))).toBe('claimed');
    await s.claim(request('spent-1', 'run-s', day(41)));
    expect(await s.claim(request('spent-1', 'run-s', day(41), { dailyBudget: 1 }))).toBe('over-budget');
    expect(await s.get('spent-1', 'run-s')).toBeUndefined();
    expect(await lockOf('spent-1')).toBeUndefined();
    expect(await openOf('spent-1')).toEqual([]);
    expect(await s.budgetUsed(budgetDay)).toBe(1);
  });
});

describe('a release', () => {
  it('gives back the claim and its unit of budget; a claim without a budget day gives back none', async () => {
    const s = store();
    const budgetDay = day(50).slice(0, 10);
    await s.claim(request('rel-0', 'run-rel', day(50), { dailyBudget: 4 }));
    await s.claim(request('rel-1', 'run-rel', day(50), { dailyBudget: 4 }));
    await s.claim(request('rel-2', 'run-rel', day(50)));
    expect(await s.budgetUsed(budgetDay)).toBe(2);
    await s.release('rel-1', 'run-rel');
    await s.release('rel-2', 'run-rel');
    expect(await s.budgetUsed(budgetDay)).toBe(1);
    expect(await s.get('rel-1', 'run-rel')).toBeUndefined();
    expect(await lockOf('rel-1')).toBeUndefined();
    expect(await openOf('rel-0', 'rel-1', 'rel-2')).toEqual(['run-rel/rel-0']);
    expect(await s.budgetUsed('undefined')).toBe(0); // no day, no ledger touched
    // Nothing to release (no record, no lock): nothing happens.
    await s.release('rel-none', 'run-rel');
    await s.abandonClaim('rel-none', 'run-rel');
    expect(await lockOf('rel-none')).toBeUndefined();
  });

  it('after another run re-claimed the customer leaves that run’s lock, cooldown and record alone', async () => {
    // Prepare: run "first" claimed on day 0; its send fails, but its release comes after run "second" claimed on day 20
    const s = store();
    await s.claim(request('late-1', 'run-first', day(60), { dailyBudget: 5 }));
    await s.claim(request('late-1', 'run-second', day(80), { dailyBudget: 5 }));
    // Act
    await s.release('late-1', 'run-first');
    // Assess
    expect(await lockOf('late-1')).toMatchObject({ runId: 'run-second', lastClaimAt: day(80), previousClaimAt: day(60) });
    expect(await s.get('late-1', 'run-second')).toMatchObject({ status: 'claimed' });
    expect(await s.get('late-1', 'run-first')).toBeUndefined();
    expect(await s.budgetUsed(day(60).slice(0, 10))).toBe(0);
    expect(await s.budgetUsed(day(80).slice(0, 10))).toBe(1);
    expect(await s.claim(request('late-1', 'run-third', day(85)))).toBe('cooldown');
  });

  it('racing a new claim between reading the lock and restoring it keeps the new claim (with and without a previous contact)', async () => {
    for (const [customerId, previous] of [
      ['race-rel-1', false],
      ['race-rel-2', true],
    ] as const) {
      if (previous) await store().claim(request(customerId, 'run-zero', day(90)));
      await store().claim(request(customerId, 'run-first', day(110)));
      let interleaved = false;
      const first = hooked(async (call) => {
        const restoring = (call.name === 'UpdateCommand' || call.name === 'DeleteCommand') && sortKeyOf(call) === OUTREACH_LOCK_SK;
        if (restoring && !interleaved) {
          interleaved = true;
          expect(await store().claim(request(customerId, 'run-second', day(130)))).toBe('claimed');
        }
      });
      await first.release(customerId, 'run-first');
      expect(interleaved).toBe(true);
      expect(await lockOf(customerId)).toMatchObject({ runId: 'run-second', lastClaimAt: day(130) });
      expect(await store().claim(request(customerId, 'run-third', day(131)))).toBe('cooldown');
    }
  });
});

describe('the daily budget', () => {
  it('two runs racing for its last units: exactly the budget is granted, and the refused claims are undone', async () => {
    // Prepare: a budget of 5 of which 3 are used
    const s = store();
    const budgetDay = day(150).slice(0, 10);
    for (const id of ['early-1', 'early-2', 'early-3']) await s.claim(request(id, 'run-early', day(150), { dailyBudget: 5 }));
    // Act: two runs claim four customers each, all at once, on two clients
    const runs = ['run-race-a', 'run-race-b'].map((runId) => ({ runId, store: hooked(() => {}) }));
    const customers = (runId: string) => [1, 2, 3, 4].map((i) => `${runId}-c${i}`);
    const outcomes = await Promise.all(
      runs.flatMap(({ runId, store: runStore }) =>
        customers(runId).map(async (customerId) => ({
          customerId,
          runId,
          outcome: await runStore.claim(request(customerId, runId, day(150, '12:00:00.000'), { dailyBudget: 5 })),
        })),
      ),
    );
    // Assess
    const granted = outcomes.filter((o) => o.outcome === 'claimed');
    expect(granted).toHaveLength(2);
    expect(outcomes.filter((o) => o.outcome === 'over-budget')).toHaveLength(6);
    expect(await s.budgetUsed(budgetDay)).toBe(5);
    for (const { customerId, runId, outcome } of outcomes) {
      const record = await s.get(customerId, runId);
      if (outcome === 'claimed') expect(record).toMatchObject({ status: 'claimed', budgetDay });
      else {
        expect(record).toBeUndefined();
        expect(await lockOf(customerId)).toBeUndefined();
      }
    }
    expect(await openOf(...outcomes.map((o) => o.customerId))).toEqual(granted.map((o) => `${o.runId}/${o.customerId}`).sort());
  });

  it('is per UTC day of the claim: a new day has its whole budget', async () => {
    const s = store();
    expect(await s.claim(request('days-1', 'run-d', day(160, '23:59:59.999'), { dailyBudget: 1 }))).toBe('claimed');
    expect(await s.claim(request('days-2', 'run-d', day(160, '23:59:59.999'), { dailyBudget: 1 }))).toBe('over-budget');
    expect(await s.claim(request('days-2', 'run-d', day(161), { dailyBudget: 1 }))).toBe('claimed');
    expect(await s.budgetUsed(day(162).slice(0, 10))).toBe(0);
  });
});

describe('the delivery ledger', () => {
  it('moves claimed → queued once, and never moves a delivered record back', async () => {
    const s = store();
    const before = new Date().toISOString();
    await s.claim(request('q-1', 'run-q', day(170)));
    await s.markQueued('q-1', 'run-q', 'msg-1');
    const queued = await s.get('q-1', 'run-q');
    expect(queued).toMatchObject({ status: 'queued', messageId: 'msg-1', sends: 1 });
    expect(queued?.queuedAt).toBe(queued?.sentAt);
    expect(Date.parse(queued?.sentAt ?? '')).toBeGreaterThanOrEqual(Date.parse(before));
    await s.markQueued('q-1', 'run-q', 'msg-2'); // not claimed any more: nothing changes
    expect(await s.get('q-1', 'run-q')).toMatchObject({ messageId: 'msg-1', sends: 1 });
    // The consumer delivered before the job noted the send: the record stays delivered.
    await s.claim(request('q-2', 'run-q', day(170)));
    await s.recordAttempt('q-2', 'run-q', { ok: true, at: day(170, '00:00:01.000') });
    await s.markQueued('q-2', 'run-q', 'msg-3');
    expect(await s.get('q-2', 'run-q')).toMatchObject({ status: 'delivered' });
    expect(await s.get('q-2', 'run-q')).not.toHaveProperty('messageId');
    // No record: nothing is created.
    await s.markQueued('q-3', 'run-q', 'msg-4');
    expect(await s.get('q-3', 'run-q')).toBeUndefined();
  });

  it('records failed attempts, then the first delivery with its time and status, and closes the open entry', async () => {
    // Prepare
    const s = store();
    await s.claim(request('att-1', 'run-att', day(180)));
    await s.markQueued('att-1', 'run-att', 'msg');
    // Act + Assess: a 503
    await s.recordAttempt('att-1', 'run-att', { ok: false, at: day(180, '01:00:00.000'), error: `x${'e'.repeat(600)}`, httpStatus: 503 });
    const afterFirst = await s.get('att-1', 'run-att');
    expect(afterFirst).toMatchObject({ status: 'queued', attempts: 1, lastAttemptAt: day(180, '01:00:00.000'), lastHttpStatus: 503 });
    expect(afterFirst?.lastError).toBe(`x${'e'.repeat(499)}`);
    // a network error: no HTTP status any more
    await s.recordAttempt('att-1', 'run-att', { ok: false, at: day(180, '02:00:00.000'), error: 'ECONNRESET' });
    expect(await s.get('att-1', 'run-att')).toMatchObject({ attempts: 2, lastError: 'ECONNRESET' });
    expect(await s.get('att-1', 'run-att')).not.toHaveProperty('lastHttpStatus');
    expect(await openOf('att-1')).toEqual(['run-att/att-1']);
    // delivered
    await s.recordAttempt('att-1', 'run-att', { ok: true, at: day(180, '03:00:00.000'), httpStatus: 204 });
    const delivered = await s.get('att-1', 'run-att');
    expect(delivered).toMatchObject({
      status: 'delivered',
      attempts: 3,
      deliveredAt: day(180, '03:00:00.000'),
      lastAttemptAt: day(180, '03:00:00.000'),
      httpStatus: 204,
      lastHttpStatus: 204,
      dedupId: 'run-att:att-1',
    });
    expect(delivered).not.toHaveProperty('lastError');
    expect(await openOf('att-1')).toEqual([]);
    // a duplicate delivery does not count
    await s.recordAttempt('att-1', 'run-att', { ok: true, at: day(180, '04:00:00.000'), httpStatus: 200 });
    expect(await s.get('att-1', 'run-att')).toMatchObject({ attempts: 3, deliveredAt: day(180, '03:00:00.000'), httpStatus: 204 });
  });

  it('a delivery wins over failed, and one without an OUT# item gets a readable record with an unambiguous dedupId', async () => {
    const s = store();
    await s.claim(request('win-1', 'run-w', day(190)));
    expect(await s.markFailed('win-1', 'run-w', 'r'.repeat(1200), day(191))).toBe(true);
    const failed = await s.get('win-1', 'run-w');
    expect(failed).toMatchObject({ status: 'failed', failedAt: day(191) });
    expect(failed?.failureReason).toHaveLength(1000);
    expect(await s.markFailed('win-1', 'run-w', 'again', day(192))).toBe(false);
    await s.recordAttempt('win-1', 'run-w', { ok: true, at: day(193) });
    const delivered = await s.get('win-1', 'run-w');
    expect(delivered).toMatchObject({ status: 'delivered', deliveredAt: day(193) });
    expect(delivered).not.toHaveProperty('failedAt');
    expect(delivered).not.toHaveProperty('failureReason');
    expect(delivered).not.toHaveProperty('httpStatus');
    // Sent by hand under ids containing ':' (no claim): both records are readable and distinct.
    await s.recordAttempt('b:c', 'a', { ok: true, at: day(194) });
    await s.recordAttempt('c', 'a:b', { ok: false, at: day(194), error: 'boom' });
    expect(await s.get('b:c', 'a')).toMatchObject({ customerId: 'b:c', runId: 'a', dedupId: 'a:b%3Ac', status: 'delivered', attempts: 1 });
    expect(await s.get('c', 'a:b')).toMatchObject({ customerId: 'c', runId: 'a:b', dedupId: 'a%3Ab:c', attempts: 1 });
  });

  it('leases a re-send only to the reconcile that read the current number of sends, and only while open', async () => {
    const s = store();
    await s.claim(request('lease-1', 'run-l', day(200)));
    expect(await s.leaseResend('lease-1', 'run-l', 1, day(201))).toBe(false);
    expect(await s.leaseResend('lease-1', 'run-l', 0, day(201))).toBe(true);
    expect(await s.get('lease-1', 'run-l')).toMatchObject({ status: 'queued', sends: 1, sentAt: day(201), queuedAt: day(201) });
    expect(await s.leaseResend('lease-1', 'run-l', 0, day(202))).toBe(false);
    expect(await s.leaseResend('lease-1', 'run-l', 1, day(202))).toBe(true);
    expect(await s.get('lease-1', 'run-l')).toMatchObject({ sends: 2, sentAt: day(202), queuedAt: day(201) });
    await s.noteMessageId('lease-1', 'run-l', 'msg-resent');
    expect(await s.get('lease-1', 'run-l')).toMatchObject({ messageId: 'msg-resent' });
    await s.recordAttempt('lease-1', 'run-l', { ok: true, at: day(203) });
    expect(await s.leaseResend('lease-1', 'run-l', 2, day(204))).toBe(false);
    // queued by the job (sends 1): the lease needs exactly that count
    await s.claim(request('lease-2', 'run-l', day(200)));
    await s.markQueued('lease-2', 'run-l', 'msg');
    expect(await s.leaseResend('lease-2', 'run-l', 0, day(201))).toBe(false);
    expect(await s.leaseResend('lease-2', 'run-l', 1, day(201))).toBe(true);
    // no record: no message id is noted on nothing
    await s.noteMessageId('lease-3', 'run-l', 'msg-x');
    expect(await s.get('lease-3', 'run-l')).toBeUndefined();
  });

  it('lists every open outreach across pages, and every OUT# record of a run, of customers only', async () => {
    // Prepare: three open claims of a run named "OUT" (its open entries' sort keys start with OUT#), one settled
    const s = store();
    for (const id of ['page-1', 'page-2', 'page-3', 'page-4']) await s.claim(request(id, 'OUT', day(210)));
    await s.recordAttempt('page-4', 'OUT', { ok: true, at: day(211) });
    await clients.documents.send(
      new PutCommand({ TableName: table(), Item: { PK: 'NOT-A-CUSTOMER', SK: outreachSk('OUT'), runId: 'OUT' } }),
    );
    // Act: a client that reads one item per page
    const paged = hooked((call) => {
      if (call.name === 'QueryCommand' || call.name === 'ScanCommand') call.input.Limit = 1;
    });
    const open = (await paged.openOutreach()).filter((o) => o.runId === 'OUT');
    const records = await paged.records({ runId: 'OUT' });
    const all = await paged.records();
    // Assess
    expect(open.map((o) => o.customerId).sort()).toEqual(['page-1', 'page-2', 'page-3']);
    expect(open.every((o) => Date.parse(o.openedAt) > 0)).toBe(true);
    expect(records.map((r) => [r.customerId, r.status]).sort()).toEqual([
      ['page-1', 'claimed'],
      ['page-2', 'claimed'],
      ['page-3', 'claimed'],
      ['page-4', 'delivered'],
    ]);
    expect(all.filter((r) => r.runId === 'OUT')).toHaveLength(4);
    expect(all.every((r) => typeof r.customerId === 'string' && !('PK' in r))).toBe(true);
    expect(await s.list('page-1')).toEqual([expect.objectContaining({ runId: 'OUT', status: 'claimed' })]);
  });

  it('ignores an open entry without its identity, and closes the entry of a record it marks failed', async () => {
    const s = store();
    const put = (Item: Record<string, unknown>) =>
      clients.documents.send(new PutCommand({ TableName: table(), Item: { PK: OPEN_PK, ...Item } }));
    await put({ SK: 'broken#1', openedAt: day(0) });
    await put({ SK: 'broken#2', customerId: 'broken-2', openedAt: day(0) });
    await put({ SK: 'broken#3', runId: 'broken-3', openedAt: day(0) });
    await put({ SK: 'broken#4', runId: 'run-broken', customerId: 'broken-4' });
    const open = await s.openOutreach();
    expect(open.every((o) => typeof o.customerId === 'string' && typeof o.runId === 'string')).toBe(true);
    expect(open.filter((o) => o.customerId.startsWith('broken-'))).toEqual([{ customerId: 'broken-4', runId: 'run-broken', openedAt: '' }]);
    await s.claim(request('fail-1', 'run-f', day(220)));
    await s.markFailed('fail-1', 'run-f', 'no stored message', day(221));
    expect(await openOf('fail-1')).toEqual([]);
  });
});
