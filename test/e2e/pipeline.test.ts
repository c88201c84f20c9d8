import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type DemoResult, runDemo } from '../../cli/commands/demo.ts';
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

let dataDir: string;
let first: DemoResult;
let second: DemoResult;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-e2e-'));
  first = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: 60, scanSegments: SCAN_SEGMENTS });
  second = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: 60, scanSegments: SCAN_SEGMENTS });
}, TIMEOUT);

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the demo pipeline end to end', () => {
  it('ingests every simulated event', () => {
    expect(first.ingest.skipped).toBe(false);
    expect(first.ingest.events).toBe(simulated.events.length);
    expect(first.ingest.accepted).toBe(first.ingest.events);
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
