import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimRequest, DeliveryAttempt, OutreachRecord, OutreachStore } from '../../app/ports.ts';
import { outreachDedupId } from '../../model/outreach/message.ts';
import type { ClaimOutcome } from '../../model/outreach/selection.ts';
import { customerPk, OUTREACH_SK_PREFIX, outreachSk } from './keys.ts';
import { storableNumber } from './storableNumber.ts';

/** The per-customer claim index: one item holding the time of the latest claim. */
export const OUTREACH_LOCK_SK = 'OUTLOCK';
/** The daily budget ledger: one item per day, `used` counts claims of that day's runs. */
export const budgetPk = (day: string) => `BUDGET#${day}`;
export const BUDGET_SK = 'OUTREACH';
/**
 * The open list: one item per outreach that is claimed or queued (`OUTREACH#open`, SK
 * `<runId>#<customerId>`), written before the claim and deleted when the record settles, so that
 * reconcile finds unsettled records with one Query instead of a Scan. Not a `C#` partition.
 */
export const OPEN_PK = 'OUTREACH#open';
export const openSk = (runId: string, customerId: string) => `${runId}#${customerId}`;

const DAY_MS = 86_400_000;
const IDENTITY =
  'customerId = if_not_exists(customerId, :customerId), runId = if_not_exists(runId, :runId), dedupId = if_not_exists(dedupId, :dedupId)';
const identityValues = (customerId: string, runId: string) => ({
  ':customerId': customerId,
  ':runId': runId,
  ':dedupId': outreachDedupId(runId, customerId),
});

export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/**
 * Outreach claims in the single table, exactly one message per customer per cooldown even when two
 * runs overlap. dynalite has no transactions, so the claim is two conditional writes:
 *
 * 1. `OUTLOCK` (per customer): put `{ runId, lastClaimAt }` only if there is none, or the last claim
 *    is older than the cooldown (`lastClaimAt < :cooldownStart`), or it is this run's own claim
 *    (a resumed run). DynamoDB evaluates the condition and writes atomically on the item, so of two
 *    overlapping runs exactly one wins; the loser sees `cooldown`. The previous claim time is kept
 *    on the new lock (`previousClaimAt`), so a release can restore it.
 * 2. `OUT#<runId>`: put with `attribute_not_exists(SK)`. If it exists this run claimed before:
 *    `queued` → `already-sent`, `claimed` → `resumed` (crashed between claim and send).
 *
 * A `control` claim (the held-out group) writes the same lock and record with status `control`,
 * leaves the open list at once and takes no budget.
 *
 * 3. With a daily budget, a new claim then takes one unit of the day's ledger (`BUDGET#<day>`,
 *    `ADD used 1` if `used < :max`: atomic, so overlapping runs of one day share the budget). When
 *    the day is spent the claim is undone and the outcome is `over-budget`.
 *
 * Before step 1 the outreach goes on the open list (`OUTREACH#open`), and it leaves it when its
 * record settles (delivered or failed) or the claim is undone: reconcile reads that list. A crash
 * between 1 and 2 leaves a lock naming this run, which step 1 lets the same run pass again, and
 * which reconcile undoes when the run does not come back. The OUT# item then moves claimed →
 * queued (`markQueued`) → delivered (`recordAttempt`, the consumer) or failed (reconcile).
 * The OUT# items are the outreach history; the lock is their index for the cooldown check, so a
 * claim costs two writes instead of a query over every OUT# item.
 */
export class DynamoOutreachStore implements OutreachStore {
  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const pk = customerPk(request.customerId);
    const cooldownStart = new Date(Date.parse(request.claimAt) - request.cooldownDays * DAY_MS).toISOString();
    let previous: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
        new GetCommand({ TableName: this.tableName, Key: { PK: pk, SK: OUTREACH_LOCK_SK }, ConsistentRead: true }),
      );
      previous = result.Item;
      // Plainly in another run's cooldown: nothing to write (the conditional put below is the real check).
      // (A lock without lastClaimAt compares false here, and the conditional put refuses it.)
      if (previous && previous.runId !== request.runId && (previous.lastClaimAt as string) >= cooldownStart) return 'cooldown';
      // A control customer's horizon not over yet: held out until it is.
      if (previous && previous.runId !== request.runId && typeof previous.holdUntil === 'string' && previous.holdUntil > request.claimAt)
        return 'cooldown';
      await this.#open(request.customerId, request.runId);
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: pk,
            SK: OUTREACH_LOCK_SK,
            runId: request.runId,
            lastClaimAt: request.claimAt,
            // What to restore if this claim is released; the lock it replaces.
            previousClaimAt: previous?.runId === request.runId ? previous.previousClaimAt : previous?.lastClaimAt,
            ...(request.arm === 'control' && request.holdUntil !== undefined ? { holdUntil: request.holdUntil } : {}),
          },
          ConditionExpression:
            'attribute_not_exists(PK) OR runId = :runId OR (lastClaimAt < :cooldownStart AND (attribute_not_exists(holdUntil) OR holdUntil <= :claimAt))',
          ExpressionAttributeValues: { ':cooldownStart': cooldownStart, ':runId': request.runId, ':claimAt': request.claimAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Lost a race for the lock: this run has no claim on the customer (unless it claimed before and settled it).
      if ((await this.get(request.customerId, request.runId)) === undefined) await this.closeOpen(request.customerId, request.runId);
      return 'cooldown';
    }
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: pk,
            SK: outreachSk(request.runId),
            customerId: request.customerId,
            runId: request.runId,
            dedupId: request.dedupId,
            status: request.arm === 'control' ? 'control' : 'claimed',
            claimAt: request.claimAt,
            claimedAt: new Date().toISOString(),
            playbook: request.playbook,
            risk: storableNumber(request.risk),
            modelVersion: request.modelVersion,
            ...(request.body === undefined ? {} : { body: request.body }),
          },
          ConditionExpression: 'attribute_not_exists(SK)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = (await this.get(request.customerId, request.runId)) as (OutreachRecord & { budgetDay?: string }) | undefined;
      if (existing?.status === 'delivered' || existing?.status === 'failed' || existing?.status === 'control')
        await this.closeOpen(request.customerId, request.runId);
      if (existing !== undefined && existing.status !== 'claimed') return 'already-sent';
      // A crash right after step 2 left a claim without its unit of budget: take it now.
      if (existing?.budgetDay === undefined) return this.#takeBudget(request, 'resumed');
      return 'resumed';
    }
    // The control group is settled at once: never sent, so nothing for reconcile, and no budget.
    if (request.arm === 'control') {
      await this.closeOpen(request.customerId, request.runId);
      return 'claimed';
    }
    return this.#takeBudget(request, 'claimed');
  }

  /** Step 3: the claim stands only with a unit of the day's budget. */
  async #takeBudget(request: ClaimRequest, outcome: 'claimed' | 'resumed'): Promise<ClaimOutcome> {
    if (request.dailyBudget === undefined) return outcome;
    const day = request.claimAt.slice(0, 10);
    if (await this.#reserve(day, request.dailyBudget)) {
      await this.#update(request.customerId, request.runId, 'SET budgetDay = :day', { ':day': day });
      return outcome;
    }
    await this.undoClaim(request.customerId, request.runId);
    return 'over-budget';
  }

  /** Takes one unit of the day's budget; false when it is spent. */
  async #reserve(day: string, max: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: budgetPk(day), SK: BUDGET_SK },
          UpdateExpression: 'ADD used :one',
          ConditionExpression: 'attribute_not_exists(used) OR used < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': max },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #update(customerId: string, runId: string, expression: string, values: Record<string, unknown>): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: customerPk(customerId), SK: outreachSk(runId) },
        UpdateExpression: expression,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** How much of a day's budget is used (for reports and tests). */
  async budgetUsed(day: string): Promise<number> {
    const result = await this.documents.send(
      // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
      new GetCommand({ TableName: this.tableName, Key: { PK: budgetPk(day), SK: BUDGET_SK }, ConsistentRead: true }),
    );
    return typeof result.Item?.used === 'number' ? result.Item.used : 0;
  }

  async markQueued(customerId: string, runId: string, messageId: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: customerPk(customerId), SK: outreachSk(runId) },
          UpdateExpression:
            'SET #status = :queued, messageId = :messageId, queuedAt = if_not_exists(queuedAt, :now), sentAt = :now, sends = if_not_exists(sends, :zero) + :one',
          // Only from claimed: the consumer may have delivered the message before this write.
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':claimed': 'claimed',
            ':messageId': messageId,
            ':now': new Date().toISOString(),
            ':zero': 0,
            ':one': 1,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async release(customerId: string, runId: string): Promise<void> {
    const claim = await this.get(customerId, runId);
    await this.undoClaim(customerId, runId);
    const day = (claim as { budgetDay?: unknown } | undefined)?.budgetDay;
    if (typeof day === 'string') {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: budgetPk(day), SK: BUDGET_SK },
          UpdateExpression: 'ADD used :minusOne',
          ExpressionAttributeValues: { ':minusOne': -1 },
        }),
      );
    }
  }

  /** Deletes the OUT# item and puts the lock back as it was before this run's claim. */
  protected async undoClaim(customerId: string, runId: string): Promise<void> {
    const pk = customerPk(customerId);
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { PK: pk, SK: outreachSk(runId) } }));
    await this.closeOpen(customerId, runId);
    const lockRead = await this.documents.send(
      // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
      new GetCommand({ TableName: this.tableName, Key: { PK: pk, SK: OUTREACH_LOCK_SK }, ConsistentRead: true }),
    );
    const lock = lockRead.Item;
    if (lock?.runId !== runId) return;
    try {
      if (typeof lock.previousClaimAt === 'string') {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { PK: pk, SK: OUTREACH_LOCK_SK },
            UpdateExpression: 'SET lastClaimAt = :previous, runId = :released REMOVE previousClaimAt',
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':previous': lock.previousClaimAt, ':released': `released:${runId}`, ':runId': runId },
          }),
        );
      } else {
        await this.documents.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { PK: pk, SK: OUTREACH_LOCK_SK },
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':runId': runId },
          }),
        );
      }
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // another run claimed meanwhile: its lock stands
    }
  }

  /**
   * One delivery attempt. A success settles the record: `delivered` with its time and HTTP status,
   * unless an earlier attempt already did (the first delivery counts). It wins over `failed`: a
   * message redriven after reconcile gave up still reached the customer. A failure only counts.
   * A message whose OUT# item is missing (sent by hand, or the item was deleted) still gets a
   * readable record (`if_not_exists` on its identity).
   */
  async recordAttempt(customerId: string, runId: string, attempt: DeliveryAttempt): Promise<void> {
    const Key = { PK: customerPk(customerId), SK: outreachSk(runId) };
    const common = { ':one': 1, ':at': attempt.at, ...identityValues(customerId, runId) };
    if (!attempt.ok) {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `ADD attempts :one SET lastAttemptAt = :at, lastError = :error, ${IDENTITY}${attempt.httpStatus === undefined ? ' REMOVE lastHttpStatus' : ', lastHttpStatus = :status'}`,
          ExpressionAttributeValues: {
            ...common,
            ':error': attempt.error.slice(0, 500),
            ...(attempt.httpStatus === undefined ? {} : { ':status': attempt.httpStatus }),
          },
        }),
      );
      return;
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `ADD attempts :one SET #status = :delivered, deliveredAt = :at, lastAttemptAt = :at, ${IDENTITY}${
            attempt.httpStatus === undefined ? '' : ', httpStatus = :status, lastHttpStatus = :status'
          } REMOVE lastError, failedAt, failureReason`,
          ConditionExpression: 'attribute_not_exists(#status) OR #status <> :delivered',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ...common,
            ':delivered': 'delivered',
            ...(attempt.httpStatus === undefined ? {} : { ':status': attempt.httpStatus }),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    await this.closeOpen(customerId, runId);
  }

  async get(customerId: string, runId: string): Promise<OutreachRecord | undefined> {
    const result = await this.documents.send(
      // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
      new GetCommand({ TableName: this.tableName, Key: { PK: customerPk(customerId), SK: outreachSk(runId) }, ConsistentRead: true }),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  /** Puts the outreach on the open list (idempotent). */
  async #open(customerId: string, runId: string): Promise<void> {
    await this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: OPEN_PK, SK: openSk(runId, customerId), customerId, runId, openedAt: new Date().toISOString() },
          // A resumed claim keeps the first opening time.
          ConditionExpression: 'attribute_not_exists(SK)',
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async closeOpen(customerId: string, runId: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { PK: OPEN_PK, SK: openSk(runId, customerId) } }));
  }

  async list(customerId: string): Promise<OutreachRecord[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': OUTREACH_SK_PREFIX },
        // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []).map(toRecord);
  }
}

/** An OUT# item as a record (without its keys). */
export const toRecord = ({ PK: _pk, SK: _sk, ...record }: Record<string, unknown>): OutreachRecord => record as unknown as OutreachRecord;
