import type { RunSummary } from '../runSummary.ts';
import type { ReportChart } from './charts.ts';
import { avoidableChurnChart, churnByReasonChart, churnBySegmentChart, winBackFunnelChart } from './exitCharts.ts';
import { escapeHtml, metric } from './html.ts';

type Panel = { chart: ReportChart } | { title: string; note: string };

/** The report's after-exit chart cards: churn avoidable/unavoidable and by reason, by segment, the win-back funnel. */
export function exitPanels(summary: RunSummary): Panel[] {
  const panels: Panel[] = [];
  const byReason = summary.churnByReason ?? [];
  if (byReason.some((m) => m.lost > 0)) panels.push({ chart: avoidableChurnChart(byReason) }, { chart: churnByReasonChart(byReason) });
  else if (summary.churnByReason) panels.push({ title: 'Churn by exit reason', note: 'No customers were lost in the months of this run.' });
  if (summary.churnBySegment) {
    panels.push(
      summary.churnBySegment.segments.length > 0
        ? { chart: churnBySegmentChart(summary.churnBySegment) }
        : {
            title: 'Churn rate by segment',
            note: `No segment had ${summary.churnBySegment.minCustomers} customers or more at the period's start.`,
          },
    );
  }
  if (summary.afterExit) panels.push({ chart: winBackFunnelChart(summary.afterExit) });
  return panels;
}

/** The after-exit card: what the step sent and the P(return) rates it ranked by, with where each comes from. */
export function afterExitCard(summary: RunSummary): string {
  const a = summary.afterExit;
  if (!a) return '';
  const rates = Object.entries(a.returnModel)
    .map(
      ([reason, r]) =>
        `<tr><td>${escapeHtml(reason)}</td><td class="right">${metric(`afterExit.returnModel.${reason}.pReturn`, r.pReturn, 'percent1')}</td><td class="right">${r.labelled}</td><td class="right">${r.returned}</td><td>${r.source === 'prior' ? 'stated prior (fewer than 30 labelled cancellations)' : 'history, shrunk towards the prior'}</td></tr>`,
    )
    .join('\n');
  return `<section class="card" aria-label="after exit" style="margin-bottom:14px">
<h2>After exit: exit surveys and win-back</h2>
<p class="caption">Run ${escapeHtml(summary.runId)}: ${metric('afterExit.exitSurveys.sent', a.exitSurveys.sent, 'int')} exit surveys sent (of ${a.exitSurveys.candidates} cancellations without a reason), ${metric('afterExit.winBack.sent', a.winBack.sent, 'int')} win-back messages (of ${a.winBack.candidates} avoidable cancellations ${a.windowMinDays}–${a.windowMaxDays} days ago; ${a.winBack.heldOut} held out), ${a.alreadyContacted} already contacted for the same cancellation, ${a.skippedCooldown} in cooldown, ${a.skippedBudget} over budget. Ranked by P(return within ${a.returnHorizonDays} days) × MRR:</p>
<div class="table-scroll"><table id="return-model">
<thead><tr><th>Reason</th><th class="right">P(return)</th><th class="right">Labelled</th><th class="right">Returned</th><th>Source</th></tr></thead>
<tbody>
${rates}
</tbody></table></div>
</section>`;
}

/** Churn by segment as a table: customers at the start, lost, rate and its 95% interval. */
export function segmentTable(summary: RunSummary): string {
  const s = summary.churnBySegment;
  if (!s || s.segments.length === 0) return '';
  const rows = s.segments
    .map(
      (g, i) =>
        `<tr><td>${escapeHtml(g.dimension)}</td><td>${escapeHtml(g.segment)}</td><td class="right">${metric(`churnBySegment.segments.${i}.customersAtStart`, g.customersAtStart, 'int')}</td><td class="right">${metric(`churnBySegment.segments.${i}.lost`, g.lost, 'int')}</td><td class="right">${metric(`churnBySegment.segments.${i}.churnRate`, g.churnRate, 'percent1')}</td><td class="right">${metric(`churnBySegment.segments.${i}.low`, g.low, 'percent1')} – ${metric(`churnBySegment.segments.${i}.high`, g.high, 'percent1')}</td></tr>`,
    )
    .join('\n');
  return `<section class="card" aria-label="churn by segment" style="margin-bottom:14px">
<h2>Churn by segment</h2>
<p class="caption">${escapeHtml(s.periodStart.slice(0, 10))} to ${escapeHtml(s.periodEnd.slice(0, 10))}: customers in each segment at the start (plan, channel, size, country as they stood then; tenure band then), how many were lost by the end, the rate and its 95% Wilson interval. Only segments with at least ${s.minCustomers} customers are shown (${s.hidden} smaller ones are not).</p>
<div class="table-scroll"><table id="segments">
<thead><tr><th>Dimension</th><th>Segment</th><th class="right">Customers</th><th class="right">Lost</th><th class="right">Churn rate</th><th class="right">95% interval</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>`;
}
