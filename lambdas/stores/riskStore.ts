import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Playbook } from '../../model/outreach/playbooks.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';
import { customerPk, RISK_SK } from './keys.ts';

/** The latest verdict on a customer, as the retention team's tools read it (PK C#id, SK RISK). */
export interface RiskRecord {
  customer: ScoredCustomer;
  playbook: Playbook;
  runId: string;
  scoredAt: string;
}

export interface RiskStore {
  /** Overwrites each customer's RISK item; safe to repeat (same key, same content). */
  putRisks(records: readonly RiskRecord[]): Promise<void>;
}

const BATCH_SIZE = 25;
const MAX_ATTEMPTS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RISK items in the single table, written with BatchWriteItem; UnprocessedItems retried with capped, jittered backoff. */
export class DynamoRiskStore implements RiskStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putRisks(records: readonly RiskRecord[]): Promise<void> {
    // One item per customer per batch: DynamoDB rejects a batch with a duplicate key.
    const latest = new Map(records.map((r) => [r.customer.customerId, r]));
    const items = [...latest.values()].map((r) => ({ PutRequest: { Item: riskItem(r) } }));
    for (let start = 0; start < items.length; start += BATCH_SIZE) {
      await this.#writeBatch(items.slice(start, start + BATCH_SIZE));
    }
  }

  async #writeBatch(requests: Array<{ PutRequest: { Item: Record<string, unknown> } }>): Promise<void> {
    let pending: typeof requests = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`RISK items: ${pending.length} still unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 1) await sleep(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
      const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }
}

export function riskItem(record: RiskRecord): Record<string, unknown> {
  const { customer, playbook, runId, scoredAt } = record;
  return {
    PK: customerPk(customer.customerId),
    SK: RISK_SK,
    customerId: customer.customerId,
    risk: customer.risk,
    band: customer.band,
    drivers: customer.drivers.map((d) => ({ feature: d.feature, family: d.family, sentence: d.sentence, contribution: d.contribution, value: d.value })),
    playbook,
    modelVersion: customer.modelVersion,
    mrrCents: customer.mrrCents,
    tenureDays: customer.tenureDays,
    runId,
    scoredAt,
  };
}
