import { QueryCommand, type QueryCommandInput, ScanCommand, type ScanCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OpenOutreach, OutreachLedger, OutreachRecord } from '../../app/ports.ts';
import { customerPk, OUTREACH_SK_PREFIX, outreachSk } from './keys.ts';
import { DynamoOutreachStore, isConditionFailure, OPEN_PK, toRecord } from './outreachStore.ts';

const OPEN = [':claimed', ':queued'] as const;
const OPEN_VALUES = { ':claimed': 'claimed', ':queued': 'queued' };

/**
 * The delivery ledger on the OUT# items, with what reconcile and `outreach status` need on top of
 * the claims: the open list, a conditional lease before each re-send (two reconciles never send the
 * same record twice), and `failed` with its reason. Every state change is a conditional write that
 * never moves a settled record back.
 */
export class DynamoOutreachLedger extends DynamoOutreachStore implements OutreachLedger {
  async openOutreach(): Promise<OpenOutreach[]> {
    const open: OpenOutreach[] = [];
    for await (const item of this.#pages<QueryCommandInput>(QueryCommand, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': OPEN_PK },
      // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
      ConsistentRead: true,
    })) {
      if (typeof item.customerId === 'string' && typeof item.runId === 'string')
        open.push({ customerId: item.customerId, runId: item.runId, openedAt: String(item.openedAt ?? '') });
    }
    return open;
  }

  async leaseResend(customerId: string, runId: string, sends: number, at: string): Promise<boolean> {
    return this.#conditional({
      Key: { PK: customerPk(customerId), SK: outreachSk(runId) },
      UpdateExpression: 'SET #status = :queued, sends = :next, sentAt = :at, queuedAt = if_not_exists(queuedAt, :at)',
      ConditionExpression: `#status IN (${OPEN.join(', ')}) AND ${sends === 0 ? '(attribute_not_exists(sends) OR sends = :sends)' : 'sends = :sends'}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ...OPEN_VALUES, ':sends': sends, ':next': sends + 1, ':at': at },
    });
  }

  async noteMessageId(customerId: string, runId: string, messageId: string): Promise<void> {
    await this.#conditional({
      Key: { PK: customerPk(customerId), SK: outreachSk(runId) },
      UpdateExpression: 'SET messageId = :id',
      ConditionExpression: 'attribute_exists(SK)',
      ExpressionAttributeValues: { ':id': messageId },
    });
  }

  async markFailed(customerId: string, runId: string, reason: string, at: string): Promise<boolean> {
    const failed = await this.#conditional({
      Key: { PK: customerPk(customerId), SK: outreachSk(runId) },
      UpdateExpression: 'SET #status = :failed, failedAt = :at, failureReason = :reason',
      ConditionExpression: `#status IN (${OPEN.join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ...OPEN_VALUES, ':failed': 'failed', ':at': at, ':reason': reason.slice(0, 1000) },
    });
    await this.closeOpen(customerId, runId);
    return failed;
  }

  async abandonClaim(customerId: string, runId: string): Promise<void> {
    await this.undoClaim(customerId, runId);
  }

  async records(filter: { runId?: string } = {}): Promise<OutreachRecord[]> {
    const records: OutreachRecord[] = [];
    for await (const item of this.#pages<ScanCommandInput>(ScanCommand, {
      TableName: this.tableName,
      FilterExpression: filter.runId === undefined ? 'begins_with(SK, :prefix)' : 'SK = :sk',
      ExpressionAttributeValues: filter.runId === undefined ? { ':prefix': OUTREACH_SK_PREFIX } : { ':sk': outreachSk(filter.runId) },
      // Stryker disable next-line BooleanLiteral: dynalite is one node, every read is consistent; on DynamoDB this read must see the latest write
      ConsistentRead: true,
    })) {
      if (String(item.PK).startsWith('C#')) records.push(toRecord(item));
    }
    return records;
  }

  async #conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.documents.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async *#pages<I extends QueryCommandInput | ScanCommandInput>(
    Command: new (input: I) => QueryCommand | ScanCommand,
    input: I,
  ): AsyncGenerator<Record<string, unknown>> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new Command({ ...input, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) }) as never);
      const { Items = [], LastEvaluatedKey } = page as { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };
      yield* Items;
      ExclusiveStartKey = LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
}
