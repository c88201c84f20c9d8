import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { createJobDependencies } from '../../adapters/aws/jobDependencies.ts';
import { RISK_SK } from '../../adapters/aws/keys.ts';
import { type JobResult, runJob } from '../../app/job.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { jobSettingsFromEnv } from '../../lambdas/train-score/config.ts';
import { OutreachMessage } from '../../model/outreach/message.ts';
import { RunSummary } from '../../model/runSummary.ts';
import { simulateBusiness } from '../../model/simulate/simulateBusiness.ts';

/**
 * The real wiring of the job (scan → features → TF.js training → S3 registry → scoring → claims →
 * SQS) on the emulators, with a small simulated business so that training takes seconds.
 */

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let first: JobResult;
const asOf = '2026-06-30T00:00:00.000Z';
const business = simulateBusiness({ customers: 150, days: 100, seed: 7, end: '2026-06-30' });

/**
 * An intervention costing 1/500 of a lost customer puts the cost threshold low, so that most of this
 * small business is at risk and the budget of 25 messages binds (with the default costs everyone is
 * below the threshold, and a run queues nothing to check).
 */
const deps = () => {
  const { resources, config } = jobSettingsFromEnv(process.env, { maxMessages: 25, costIntervention: 1 });
  return createJobDependencies(clients, resources, config, () => {});
};

async function queuedMessages(): Promise<OutreachMessage[]> {
  // Peek-like: a long visibility so each message is received once; the stack is discarded afterwards.
  const seen: OutreachMessage[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: process.env.OUTREACH_QUEUE_URL,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return seen;
    seen.push(...Messages.map((m) => OutreachMessage.parse(JSON.parse(m.Body ?? ''))));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-pipeline-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  const { failed } = await new DynamoEventStore(clients.documents, { tableName: process.env.TABLE_NAME as string }).putEvents(
    business.events,
  );
  expect(failed).toEqual([]);
  first = await runJob({ mode: 'train-and-score', asOf }, deps());
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('train-and-score with the real features, model and registry', () => {
  it('records the training decision, scores every active customer with the champion and writes a valid summary', async () => {
    const { summary } = first;
    expect(RunSummary.safeParse(summary).success).toBe(true);
    expect(summary.runId).toBe('train-and-score-2026-06-30');
    expect(summary.training?.candidateVersion).toMatch(/^m-/);
    // An empty registry always promotes the first run's model (the MLP, or its logistic baseline when
    // the MLP does not beat it: model/registry/promotion.ts), so the run scores with it; model quality
    // is the model tests' business.
    expect(summary.training?.promoted).toBe(true);
    expect(summary.modelVersion).toBe(summary.training?.candidateVersion);
    const active = business.truth.filter((t) => t.churnedAt === null || t.churnedAt > asOf).length;
    // Every customer the simulator still has at the as-of (137 of 150), and only those.
    expect(summary.scoring.customersScored).toBe(active);
    expect(summary.churnByMonth.length).toBeGreaterThanOrEqual(4);
    expect(summary.drift.length).toBeGreaterThan(0);
    let riskItems = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await clients.documents.send(
        new ScanCommand({
          TableName: process.env.TABLE_NAME,
          FilterExpression: 'SK = :risk',
          ExpressionAttributeValues: { ':risk': RISK_SK },
          ExclusiveStartKey,
        }),
      );
      riskItems += page.Items?.length ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    expect(riskItems).toBe(summary.scoring.customersScored);
  });

  it('queues one valid message per selected customer within budget, and a re-run of the same runId queues nothing more', async () => {
    const later = await runJob({ mode: 'score', asOf: '2026-07-30', runId: 'later' }, deps());
    const rerun = await runJob({ mode: 'score', asOf: '2026-07-30', runId: 'later' }, deps());
    const messages = (await queuedMessages()).filter((m) => m.runId === 'later');
    expect(later.summary.training).toBeNull();
    expect(later.summary.modelVersion).toBe(first.summary.modelVersion);
    // More customers are at risk than the budget reaches: exactly the budget is queued.
    const { high, medium } = later.summary.scoring.bands;
    expect(high + medium).toBeGreaterThan(25);
    // The control group (10% by default) is held out of the ranking walk and takes no budget.
    const control = later.summary.outreach.control ?? 0;
    expect(control).toBeGreaterThan(0);
    expect(later.summary.outreach).toMatchObject({ selected: 25, sent: 25, failed: 0, skippedBudget: high + medium - 25 - control });
    expect(messages).toHaveLength(25); // each parsed against the v1 contract; after the re-run, so it queued none again
    expect(new Set(messages.map((m) => m.customerId)).size).toBe(messages.length);
    expect(messages.every((m) => m.modelVersion === first.summary.modelVersion)).toBe(true);
    expect(rerun.summary.outreach.sent).toBe(later.summary.outreach.sent); // the same ones, not queued again
  });

  it('does not retrain when the training run is resumed', async () => {
    const again = await runJob({ mode: 'train-and-score', asOf }, deps());
    expect(again.summary.training?.candidateVersion).toBe(first.summary.training?.candidateVersion);
  });
});
