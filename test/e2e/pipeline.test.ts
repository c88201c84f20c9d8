import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { scanCustomerHistories } from '../../adapters/aws/customerScan.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import type { OutreachRecord, ScoreRow } from '../../app/ports.ts';
import { type DemoResult, runDemo } from '../../cli/commands/demo.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { simulateBusiness } from '../../model/simulate/index.ts';

/**
 * The whole pipeline on the embedded stack, on a small simulated business whose truth we know:
 * simulate → ingest → train → score → outreach → signed webhook → report, then a second run on
 * the same data dir. One business per file, kept as small as the assertions allow: 90 days (the
 * training cutoffs then fall inside the simulated history) and BUSINESS.customers customers, which
 * gives the validation month 22 churners (1,443 training rows, 39 churners); 25–35 s for both runs.
 */
const BUSINESS = { customers: 600, days: 90, seed: 1 };
/**
 * Feature rows are ordered by customer id, so the model does not depend on the Scan; one segment
 * keeps this small test's reads simple.
 */
const SCAN_SEGMENTS = 1;
const TIMEOUT = 300_000;
/** The same business again, in memory: the events behind the truth (simulating it takes ~0.3 s). */
const simulated = simulateBusiness(BUSINESS);

const BUDGET = 60;

let dataDir: string;
let first: DemoResult;
let second: DemoResult;
/** What the data dir holds after both runs, read back through the stack. */
const stored = {
  eventIds: [] as string[],
  invalidItems: 0,
  scores: [] as ScoreRow[],
  outreach: [] as OutreachRecord[],
  budgetUsed: 0,
};
let stack: LocalStack | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-e2e-'));
  first = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: BUDGET, scanSegments: SCAN_SEGMENTS });
  second = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: BUDGET, scanSegments: SCAN_SEGMENTS });
  // Read back what the runs left in the data dir, through the project's own readers.
  stack = await openLocalStack(dataDir, { warn: () => {} });
  const clients = createAwsClients();
  const tableName = z.string().parse(process.env.TABLE_NAME);
  for await (const history of scanCustomerHistories(clients.documents, {
    tableName,
    totalSegments: 1,
    onInvalidItem: () => stored.invalidItems++,
  })) {
    stored.eventIds.push(...history.events.map((e) => e.eventId));
  }
  stored.scores = await new S3RunStore(clients.s3, z.string().parse(process.env.BUCKET_NAME)).getScores(first.job.scoresKey as string);
  const ledger = new DynamoOutreachLedger(clients.documents, tableName);
  stored.outreach = await ledger.records({ runId: first.job.summary.runId });
  stored.budgetUsed = await ledger.budgetUsed(first.window.end.slice(0, 10));
}, TIMEOUT);

afterAll(async () => {
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the demo pipeline end to end', () => {
  it('stores every simulated event: the table, read back, holds each of them exactly once', () => {
    expect(first.ingest.skipped).toBe(false);
    expect(first.ingest.accepted).toBe(simulated.events.length);
    expect(stored.invalidItems).toBe(0);
    expect(stored.eventIds).toHaveLength(simulated.events.length);
    expect(new Set(stored.eventIds)).toEqual(new Set(simulated.events.map((e) => e.eventId)));
  });

  it("ranks by the simulator's truth: the at-risk bands churn after the as-of far more often than the low band", () => {
    // The simulator's answer key: a churn process under way at the end of the window that ends in
    // churn (after the as-of). Here 29 of the 536 scored customers; the high band holds 60 (18 churners,
    // 30%), the low band 470 (9, 1.9%), the medium band only 6 (2). Six customers cannot order medium
    // against high (one churner more or less moves its rate by 17 points), so what is asserted is what
    // this data can show: high above everyone outside it, medium above low, and a strong lift.
    const churns = new Set(simulated.truth.filter((t) => t.atEnd?.churnsAt != null).map((t) => t.customerId));
    const rate = (rows: ScoreRow[]) => rows.filter((row) => churns.has(row.customerId)).length / rows.length;
    const inBand = (...bands: ScoreRow['band'][]) => stored.scores.filter((row) => bands.includes(row.band));
    expect(stored.scores).toHaveLength(first.job.summary.scoring.customersScored);
    expect(inBand('high').length).toBeGreaterThanOrEqual(30);
    expect(inBand('medium').length).toBeGreaterThan(0);
    expect(inBand('low').length).toBeGreaterThanOrEqual(100);
    expect(rate(inBand('high'))).toBeGreaterThan(rate(inBand('medium', 'low')));
    expect(rate(inBand('medium'))).toBeGreaterThan(rate(inBand('low')));
    expect(rate(inBand('high'))).toBeGreaterThan(5 * rate(inBand('low')));
  });

  it('delivers exactly the customers it selected, within the daily budget, and a second run takes none of it', () => {
    const { outreach } = first.job.summary;
    const contacted = stored.outreach.filter((r) => r.status !== 'control');
    const heldOut = stored.outreach.filter((r) => r.status === 'control');
    const selected = contacted.map((r) => r.customerId).sort();
    const delivered = first.delivery.messages.map((m) => (m.body as { customerId: string }).customerId).sort();
    const atRisk = new Set(stored.scores.filter((row) => row.band !== 'low').map((row) => row.customerId));
    expect(selected).toHaveLength(outreach.selected);
    expect(delivered).toEqual(selected);
    expect(contacted.every((r) => r.status === 'delivered')).toBe(true);
    expect(selected.every((id) => atRisk.has(id))).toBe(true);
    // The control group: held out (10% by default), recorded, never delivered, outside the budget.
    expect(heldOut).toHaveLength(outreach.control ?? 0);
    expect(heldOut.every((r) => atRisk.has(r.customerId) && !delivered.includes(r.customerId))).toBe(true);
    // More customers are at risk (66 here) than the budget allows: it binds, and holds.
    expect(atRisk.size).toBeGreaterThan(BUDGET);
    expect(outreach.selected + (outreach.control ?? 0) + outreach.skippedBudget + outreach.skippedCooldown).toBe(atRisk.size);
    expect(outreach.skippedBudget).toBeGreaterThan(0);
    // The day's budget ledger, read after both runs: one unit per selected customer, the second run took none.
    expect(stored.budgetUsed).toBe(BUDGET);
    expect(selected).toHaveLength(BUDGET);
  });

  it('measures the weekly outreach runs: treated and control per playbook, beside the true effect', () => {
    const effect = first.outreachEffect;
    expect(effect?.method).toBe('newcombe-hybrid-wilson');
    expect(effect?.playbooks.length).toBeGreaterThan(0);
    for (const playbook of effect?.playbooks ?? []) {
      expect(playbook.treated.resolved + playbook.control.resolved).toBeGreaterThan(0);
      expect(typeof playbook.trueUplift).toBe('number');
      if (playbook.shown) expect(playbook.interval?.[0]).toBeLessThanOrEqual(playbook.uplift as number);
    }
    expect(effect?.overall.trueUplift).toBeGreaterThan(0);
  });

  it('trains a model whose validation ROC AUC beats or ties the logistic baseline, which is trained the same way', () => {
    // The promise of issue 15: the MLP keeps beating or tying its baseline on the simulated business.
    // (With 22 churners in the validation month an AUC carries a standard error of about 0.03; since
    // the baseline got the one-cycle schedule too it is a stronger reference: 0.917 → 0.930 here.)
    const training = first.job.summary.training;
    expect(training).not.toBeNull();
    expect(training!.model.rocAuc).toBeGreaterThanOrEqual(training!.baseline.rocAuc);
    // Far above chance (0.5) and above what a coin-flip-plus-noise model reaches on 22 churners.
    expect(training!.model.rocAuc).toBeGreaterThan(0.8);
  });

  it('reports churn of all three kinds in the run summary, passive included', () => {
    const months = first.job.summary.churnByMonth;
    const total = (kind: 'voluntary' | 'involuntary' | 'passive') => months.reduce((sum, month) => sum + month[kind], 0);
    expect(total('voluntary')).toBeGreaterThan(0);
    expect(total('involuntary')).toBeGreaterThan(0);
    expect(total('passive')).toBeGreaterThan(0);
  });

  it('sends most at-risk customers who are failing on payments (true cause: involuntary) to payment_recovery (≥ 60%)', () => {
    // Prepare: customers in an involuntary churn process at the end of the window whose payments
    // have already failed (a process starts before the first failed charge, up to a billing cycle)
    const failing = new Set(
      first.truth
        .filter((t) => t.atEnd?.cause === 'involuntary')
        .filter((t) =>
          simulated.events.some((e) => e.customerId === t.customerId && e.type === 'payment_failed' && e.occurredAt >= t.atEnd!.startedAt),
        )
        .map((t) => t.customerId),
    );
    // Act: the playbooks the job chose for those of them it scored at risk
    const chosen = first.atRisk.filter((row) => failing.has(row.customerId)).map((row) => row.playbook);
    // Assess
    expect(chosen.length).toBeGreaterThanOrEqual(3);
    expect(chosen.filter((p) => p === 'payment_recovery').length / chosen.length).toBeGreaterThanOrEqual(0.6);
  });

  it('delivers every queued message once, signed, and each validates against the published JSON Schema', async () => {
    const schema = z.fromJSONSchema(JSON.parse(await readFile(path.resolve('schemas/outreach-message.v1.json'), 'utf8')));
    const { delivery, job } = first;
    expect(job.summary.outreach.sent).toBeGreaterThan(0);
    expect(delivery.badSignatures).toBe(0);
    expect(delivery.verified).toBe(job.summary.outreach.sent);
    expect(new Set(delivery.messages.map((m) => m.dedupId)).size).toBe(delivery.messages.length);
    for (const message of delivery.messages) {
      const result = schema.safeParse(message.body);
      expect(result.success, `${message.dedupId}: ${result.error?.message}`).toBe(true);
    }
  });

  it('writes the report of the run', async () => {
    const html = await readFile(first.report.path, 'utf8');
    expect(html).toContain(first.job.summary.runId);
    expect(html).toContain(`data-metric="outreach.sent" data-value="${first.job.summary.outreach.sent}"`);
  });

  it('continues from the stored state on a second run: nothing re-ingested, the model decision reused, no message sent twice', () => {
    expect(second.ingest.skipped).toBe(true);
    expect(second.job.summary.runId).toBe(first.job.summary.runId);
    expect(second.job.summary.training?.candidateVersion).toBe(first.job.summary.training?.candidateVersion);
    expect(second.delivery.verified).toBe(0);
    expect(second.delivery.messages).toEqual([]);
    expect(second.job.summary.outreach.sent).toBe(first.job.summary.outreach.sent);
  });
});
