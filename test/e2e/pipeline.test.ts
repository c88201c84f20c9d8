import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runDemo, type DemoResult } from '../../cli/commands/demo.ts';

/**
 * The whole pipeline on the embedded stack, on a small simulated business whose truth we know:
 * simulate → ingest → train → score → outreach → signed webhook → report, then a second run on
 * the same data dir. Slow by nature (about a minute on two busy cores): one business per file.
 */
const BUSINESS = { customers: 600, days: 120, seed: 42 };
const TIMEOUT = 300_000;

let dataDir: string;
let first: DemoResult;
let second: DemoResult;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-e2e-'));
  first = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: 60 });
  second = await runDemo({ ...BUSINESS, dataDir, progress: false, budget: 60 });
}, TIMEOUT);

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the demo pipeline end to end', () => {
  it('ingests every simulated event', () => {
    expect(first.ingest.skipped).toBe(false);
    expect(first.ingest.events).toBeGreaterThan(50_000);
    expect(first.ingest.accepted).toBe(first.ingest.events);
  });

  it('trains a model whose validation ROC AUC beats the logistic baseline', () => {
    const training = first.job.summary.training;
    expect(training).not.toBeNull();
    expect(training!.model.rocAuc).toBeGreaterThan(training!.baseline.rocAuc);
    expect(training!.model.rocAuc).toBeGreaterThan(0.7);
  });

  it('sends most at-risk customers who are failing on payments (true cause: involuntary) to payment_recovery (≥ 60%)', () => {
    // Prepare: customers the simulator had in an involuntary churn process when the window ended
    const involuntary = new Set(first.truth.filter((t) => t.atEnd?.cause === 'involuntary').map((t) => t.customerId));
    // Act: the playbooks the job chose for those of them it scored at risk
    const chosen = first.atRisk.filter((row) => involuntary.has(row.customerId)).map((row) => row.playbook);
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
