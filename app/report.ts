import { renderReport } from '../model/report/index.ts';
import type { RunSummary } from '../model/runSummary.ts';
import type { RunStore } from './ports.ts';

/**
 * Reads a run's summary (the latest run's when `runId` is not given) and validates it.
 *
 * @throws Error saying how to make a run when there is none, or naming the run without a summary
 */
export async function loadRunSummary(runs: RunStore, runId?: string): Promise<RunSummary> {
  const id = runId ?? (await runs.latestRunId());
  if (id === undefined) throw new Error('no run summary found under runs/: run the job first (churnguard run)');
  const summary = await runs.getSummary(id);
  if (!summary) throw new Error(`run "${id}" has no summary at runs/${id}/summary.json`);
  return summary;
}

/**
 * `churnguard report`: the self-contained HTML report of a run (charts, headline numbers,
 * customers most at risk), from its stored summary.
 */
export async function reportOfRun(runs: RunStore, runId?: string): Promise<{ summary: RunSummary; html: string }> {
  const summary = await loadRunSummary(runs, runId);
  return { summary, html: renderReport(summary) };
}
