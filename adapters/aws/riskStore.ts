import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { RiskRecord, RiskStore, RunRiskScan } from '../../app/ports.ts';
import type { FeatureFamily } from '../../model/features/matrix.ts';
import { PLAYBOOKS } from '../../model/outreach/playbooks.ts';
import { customerPk, RISK_SK } from './keys.ts';
import { storableNumber } from './storableNumber.ts';

/** Every feature family, checked by the compiler against the FeatureFamily union. */
const FAMILIES: Record<FeatureFamily, true> = {
  activity: true,
  adoption: true,
  payments: true,
  support: true,
  survey: true,
  plan: true,
  value: true,
  tenure: true,
  profile: true,
  custom: true,
};

/** A RISK item as read back from the table (what `riskItem` writes). */
export const StoredRiskItem = z.object({
  customerId: z.string().min(1),
  risk: z.number().min(0).max(1),
  band: z.enum(['high', 'medium', 'low']),
  drivers: z.array(
    z.object({
      feature: z.string(),
      family: z.enum(Object.keys(FAMILIES) as [FeatureFamily, ...FeatureFamily[]]),
      sentence: z.string(),
      contribution: z.number(),
      value: z.union([z.number(), z.string(), z.null()]),
    }),
  ),
  /** Why `drivers` is empty by design (a low-risk customer is not explained). */
  driversNote: z.string().optional(),
  playbook: z.enum(PLAYBOOKS),
  modelVersion: z.string().min(1),
  mrrCents: z.number().nullable(),
  tenureDays: z.number().nullable(),
  /** The processor's dunning at scoring time: the fan-out's send step holds payment_recovery by it too. */
  dunning: z.object({ lastFailureAt: z.string(), nextRetryAt: z.string().optional() }).optional(),
  runId: z.string().min(1),
  scoredAt: z.string(),
  threshold: z.number().min(0).max(1),
});

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

  async forEachRunRisk(runId: string, scan: RunRiskScan, visit: (record: RiskRecord) => void): Promise<{ read: number; invalid: number }> {
    const counts = { read: 0, invalid: 0 };
    const pending = Array.from({ length: scan.totalSegments }, (_, segment) => segment);
    const worker = async () => {
      for (let segment = pending.shift(); segment !== undefined; segment = pending.shift()) {
        await this.#scanSegment(runId, segment, scan, (item) => {
          const parsed = StoredRiskItem.safeParse(item);
          if (parsed.success) {
            counts.read++;
            visit(recordFromItem(parsed.data));
          } else {
            counts.invalid++;
            const issue = parsed.error.issues[0];
            scan.onInvalidItem?.({ pk: String(item.PK), message: `${issue?.path.join('.') || '(item)'}: ${issue?.message ?? 'invalid'}` });
          }
        });
      }
    };
    const concurrency = Math.max(1, Math.min(scan.concurrency ?? 8, scan.totalSegments));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return counts;
  }

  async #scanSegment(runId: string, segment: number, scan: RunRiskScan, onItem: (item: Record<string, unknown>) => void): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: segment,
          TotalSegments: scan.totalSegments,
          // Only this run's RISK items travel; events, profiles, claims and other runs' scores stay server side.
          FilterExpression: '#sk = :risk AND #runId = :runId',
          ExpressionAttributeNames: { '#sk': 'SK', '#runId': 'runId' },
          ExpressionAttributeValues: { ':risk': RISK_SK, ':runId': runId },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) onItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
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

/** The RiskRecord a stored item describes. */
function recordFromItem(item: z.output<typeof StoredRiskItem>): RiskRecord {
  const { playbook, runId, scoredAt, threshold, ...customer } = item;
  return { customer, playbook, runId, scoredAt, threshold };
}

export function riskItem(record: RiskRecord): Record<string, unknown> {
  const { customer, playbook, runId, scoredAt, threshold } = record;
  return {
    PK: customerPk(customer.customerId),
    SK: RISK_SK,
    customerId: customer.customerId,
    risk: storableNumber(customer.risk),
    band: customer.band,
    drivers: customer.drivers.map((d) => ({
      feature: d.feature,
      family: d.family,
      sentence: d.sentence,
      contribution: storableNumber(d.contribution),
      value: typeof d.value === 'number' ? storableNumber(d.value) : d.value,
    })),
    ...(customer.driversNote ? { driversNote: customer.driversNote } : {}),
    playbook,
    modelVersion: customer.modelVersion,
    mrrCents: customer.mrrCents,
    tenureDays: customer.tenureDays,
    ...(customer.dunning ? { dunning: customer.dunning } : {}),
    runId,
    scoredAt,
    threshold: storableNumber(threshold),
  };
}
