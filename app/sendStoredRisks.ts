import { ScoringSummaryAccumulator } from '../model/analytics/scoringSummary.ts';
import { rankForOutreach } from '../model/outreach/selection.ts';
import { type RunSummary, SUMMARY_VERSION } from '../model/runSummary.ts';
import { atRiskEntry, type JobResult, type Run } from './job.ts';
import type { JobDependencies } from './ports.ts';
import type { Scored } from './scoreCustomers.ts';
import { selectAndSend } from './selectAndSend.ts';

/**
 * The send step of a fan-out run (`mode: 'send'`, after every `score-segment` worker finished):
 * reads back the RISK items the workers wrote for this runId, ranks them with the same selection
 * (each against the threshold of the model that scored it), then claims and sends exactly as a
 * whole-table run does, so re-running it sends nothing twice. Its summary is the run's summary
 * (`runs/<runId>/summary.json`): scoring counts from the RISK items, outreach from this step.
 * churnByMonth and drift stay empty here: they need the histories and feature matrices, which only
 * the segment workers read; each worker's summary (`runs/<runId>/segment-<i>-of-<n>/summary.json`)
 * has them for its segment.
 *
 * A customer whose RISK item a later run overwrote before this step is not selected by this run
 * (the item no longer names it); the later run is responsible for them.
 */
export async function sendFromStoredRisks(run: Run, deps: JobDependencies): Promise<JobResult> {
  const scoring = new ScoringSummaryAccumulator();
  const candidates: Array<Scored & { threshold: number }> = [];
  const models = new Map<string, number>();
  const { read, invalid } = await deps.risks.forEachRunRisk(
    run.runId,
    {
      totalSegments: run.totalSegments,
      onInvalidItem: (item) => deps.log('RISK item skipped: not a valid RISK item', { runId: run.runId, pk: item.pk, error: item.message }),
    },
    ({ customer, playbook, threshold }) => {
      scoring.add(customer);
      models.set(customer.modelVersion, (models.get(customer.modelVersion) ?? 0) + 1);
      // Only customers at or above their model's threshold can be selected: keep just those in memory.
      if (!(customer.risk >= threshold)) return;
      candidates.push({ ...customer, playbook, threshold });
    },
  );
  if (read === 0) deps.log('no RISK items for this run: did its score-segment workers run?', { runId: run.runId, invalid });
  if (models.size > 1)
    deps.log('RISK items of this run come from several models (a promotion during the fan-out)', {
      runId: run.runId,
      models: Object.fromEntries(models),
    });
  const ranked = rankForOutreach(candidates, {
    threshold: (c) => c.threshold,
    unknownMrrValueCents: deps.config.unknownMrrValueCents,
  }).ranked;
  const outreach = await selectAndSend(ranked, run, deps);
  const summary: RunSummary = {
    summaryVersion: SUMMARY_VERSION,
    runId: run.runId,
    mode: 'send',
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: deps.now().toISOString(),
    // The model that scored most of the run's customers (normally the only one).
    modelVersion: [...models].sort(([, a], [, b]) => b - a)[0]?.[0] ?? null,
    training: null,
    scoring: scoring.result(),
    outreach,
    // Not available to this step: see the segment workers' summaries.
    churnByMonth: [],
    drift: [],
    topAtRisk: ranked.slice(0, deps.config.topAtRisk).map(atRiskEntry),
  };
  const summaryKey = await deps.runs.putSummary(summary);
  deps.log('run finished', { runId: run.runId, scored: read, sent: outreach.sent, summaryKey });
  return { summary, summaryKey };
}
