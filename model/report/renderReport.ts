import type { ModelMetrics } from '../nn/metricSchemas.ts';
import { RunSummary } from '../runSummary.ts';
import {
  calibrationChart,
  churnByMonthChart,
  driftChart,
  gainsChart,
  playbookChart,
  type ReportChart,
  riskDistributionChart,
} from './charts.ts';
import { outreachEffectChart } from './effectChart.ts';
import { afterExitCard, exitPanels, segmentTable } from './exitSections.ts';
import { escapeHtml, humanise, jsonForScript, metric, type NumberFormat, scriptForHtml } from './html.ts';
import { REPORT_CSS } from './styles.ts';
import { loadVegaScripts, type VegaScripts } from './vegaScripts.ts';

export interface RenderReportOptions {
  /** Browser builds to inline; read from node_modules by default. */
  scripts?: VegaScripts;
  /** Rows of the at-risk table (default: all in the summary). */
  maxAtRisk?: number;
}

/** A card with a chart, or a note saying why there is none (an empty chart would mislead). */
type Panel = { chart: ReportChart } | { title: string; note: string };

/**
 * Renders a run summary as one self-contained HTML page: headline numbers, Vega-Lite charts
 * (risk distribution, gains, calibration, churn by month and type, drift, outreach) and the
 * customers most at risk with their drivers and playbook. Everything (Vega included) is inlined,
 * so the file opens offline and makes no network request. All text from the summary is escaped.
 *
 * @example
 * await writeFile('report.html', renderReport(RunSummary.parse(json)));
 */
export function renderReport(input: RunSummary, options: RenderReportOptions = {}): string {
  const summary = RunSummary.parse(input);
  const scripts = options.scripts ?? loadVegaScripts();
  const panels = reportPanels(summary);
  const charts = panels.flatMap((p) => ('chart' in p ? [p.chart] : []));
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>churnguard run ${escapeHtml(summary.runId)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${header(summary)}
${notices(summary)}
${headline(summary)}
${bandsCard(summary)}
<section class="grid" aria-label="charts">
${panels.map(panelHtml).join('\n')}
</section>
${atRiskTable(summary, options.maxAtRisk)}
${afterExitCard(summary)}
${segmentTable(summary)}
${summary.training ? metricsTable(summary.training.model, summary.training.baseline) : ''}
<footer>churnguard · run <span>${escapeHtml(summary.runId)}</span> · generated from runs/${escapeHtml(summary.runId)}/summary.json (summary v${summary.summaryVersion})</footer>
</main>
<script type="application/json" id="churnguard-specs">${jsonForScript(specs)}</script>
<script>${scriptForHtml(scripts.vega)}</script>
<script>${scriptForHtml(scripts.vegaLite)}</script>
<script>${scriptForHtml(scripts.vegaEmbed)}</script>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;
}

/** Embeds each chart; a chart that fails says so in its card instead of leaving a blank. */
const BOOTSTRAP = `
(function () {
  var specs = JSON.parse(document.getElementById('churnguard-specs').textContent);
  Object.keys(specs).forEach(function (id) {
    var el = document.getElementById(id);
    vegaEmbed(el, specs[id], { actions: false, renderer: 'svg' })
      .then(function () { el.setAttribute('data-rendered', 'true'); })
      .catch(function (error) { el.setAttribute('data-rendered', 'error'); el.textContent = 'This chart could not be drawn: ' + error.message; console.error(error); });
  });
})();
`;

/** The chart cards in page order, with notes where a run has nothing to draw. */
export function reportPanels(summary: RunSummary): Panel[] {
  const panels: Panel[] = [];
  panels.push(
    summary.scoring.customersScored > 0
      ? { chart: riskDistributionChart(summary) }
      : { title: 'Risk distribution', note: 'No customers were scored in this run.' },
  );
  if (summary.training) {
    panels.push({ chart: gainsChart(summary.training) }, { chart: calibrationChart(summary.training) });
  } else {
    panels.push({
      title: 'Gains and calibration',
      note: 'Score-only run: the model was not retrained, so there are no new validation curves. See the run that trained the champion.',
    });
  }
  panels.push(
    summary.churnByMonth.length > 0
      ? { chart: churnByMonthChart(summary) }
      : { title: 'Churn rate per month, by type', note: 'No whole month of history yet.' },
  );
  panels.push(
    summary.drift.length > 0
      ? { chart: driftChart(summary) }
      : { title: 'Feature drift (PSI)', note: 'Drift was not computed in this run (no training distribution to compare with).' },
  );
  panels.push(
    Object.keys(summary.outreach.byPlaybook).length > 0
      ? { chart: playbookChart(summary, humanise) }
      : { title: 'Outreach by playbook', note: 'No outreach messages were queued in this run.' },
  );
  panels.push(...exitPanels(summary));
  if (summary.outreachEffect) {
    const chart = outreachEffectChart(summary.outreachEffect, humanise);
    panels.push(chart ? { chart } : { title: 'Did the outreach help?', note: effectNote(summary.outreachEffect) });
  }
  return panels;
}

/** Why the effect chart is not drawn yet: what the rule still waits for. */
const effectNote = (effect: NonNullable<RunSummary['outreachEffect']>): string =>
  `Not enough outcomes yet: an estimate is shown once both the contacted and the held-out customers of a playbook have ${effect.rule.minResolvedPerArm} resolved outcomes and ${effect.rule.minChurned} churned. So far: ${effect.overall.treated.resolved} contacted and ${effect.overall.control.resolved} held out resolved, ${effect.overall.treated.pending + effect.overall.control.pending} within their horizon.`;

function panelHtml(panel: Panel): string {
  if ('note' in panel) {
    return `<article class="card"><h2>${escapeHtml(panel.title)}</h2><p class="empty">${escapeHtml(panel.note)}</p></article>`;
  }
  const { chart } = panel;
  return `<article class="card"><h2>${escapeHtml(chart.title)}</h2><p class="caption">${escapeHtml(chart.caption)}</p><div class="chart" id="${escapeHtml(chart.id)}" data-chart="${escapeHtml(chart.id)}"></div></article>`;
}

function header(summary: RunSummary): string {
  const seconds = (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000;
  const facts: Array<[string, string]> = [
    ['Run', summary.runId],
    ['Mode', summary.mode],
    ['As of', summary.asOf.slice(0, 10)],
    ['Model', summary.modelVersion ?? 'none'],
    ...(summary.training ? ([['Backend', summary.training.backend]] as Array<[string, string]>) : []),
    ['Took', Number.isFinite(seconds) ? `${seconds.toFixed(1)} s` : 'unknown'],
  ];
  return `<header class="page">
<div><div class="brand">churnguard</div><h1>Churn risk report</h1></div>
<div class="meta">${facts.map(([k, v]) => `<span>${escapeHtml(k)} <b>${escapeHtml(v)}</b></span>`).join('')}</div>
</header>`;
}

function notices(summary: RunSummary): string {
  const out: string[] = [];
  if (summary.training) {
    const t = summary.training;
    const cls = t.promoted ? 'notice' : 'notice warn';
    const verdict = t.promoted
      ? `Candidate ${t.candidateVersion} was promoted to champion`
      : `Candidate ${t.candidateVersion} was not promoted`;
    out.push(`<div class="${cls}"><b>${escapeHtml(verdict)}.</b> ${escapeHtml(t.reason)}</div>`);
  } else {
    out.push(
      `<div class="notice">Score-only run: customers were scored with the champion model ${escapeHtml(summary.modelVersion ?? '(none)')}; no training this run.</div>`,
    );
  }
  const shifted = summary.drift.filter((d) => d.flagged);
  if (shifted.length > 0) {
    out.push(
      `<div class="notice warn"><b>${shifted.length} feature${shifted.length === 1 ? '' : 's'} drifted</b> (PSI above 0.2): ${shifted.map((d) => escapeHtml(d.feature)).join(', ')}. Check the data feed before trusting the scores.</div>`,
    );
  }
  return out.join('\n');
}

function kpi(label: string, value: string, sub: string): string {
  return `<div class="card kpi"><div class="label">${escapeHtml(label)}</div><div class="value">${value}</div><div class="sub">${sub}</div></div>`;
}

function headline(summary: RunSummary): string {
  const s = summary.scoring;
  const o = summary.outreach;
  const cards: string[] = [];
  if (summary.training) {
    const { model, baseline } = summary.training;
    const delta = model.rocAuc - baseline.rocAuc;
    const deltaHtml = `<span class="${delta >= 0 ? 'delta-up' : 'delta-down'}">${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(3)}</span>`;
    cards.push(
      kpi(
        'Model ROC AUC',
        metric('training.model.rocAuc', model.rocAuc, 'decimal3'),
        `baseline ${metric('training.baseline.rocAuc', baseline.rocAuc, 'decimal3')} · ${deltaHtml}`,
      ),
    );
  } else {
    cards.push(
      kpi('Model', `<span style="font-size:18px">${escapeHtml(summary.modelVersion ?? 'none')}</span>`, 'champion · score-only run'),
    );
  }
  cards.push(
    kpi(
      'Customers scored',
      metric('scoring.customersScored', s.customersScored, 'int'),
      `${metric('scoring.bands.high', s.bands.high, 'int')} high · ${metric('scoring.bands.medium', s.bands.medium, 'int')} medium risk`,
    ),
  );
  cards.push(
    kpi(
      'Outreach messages sent',
      metric('outreach.sent', o.sent, 'int'),
      `of ${metric('outreach.selected', o.selected, 'int')} selected · ${metric('outreach.failed', o.failed, 'int')} failed`,
    ),
  );
  cards.push(
    kpi(
      'Expected MRR at risk',
      metric('scoring.expectedMrrAtRiskCents', s.expectedMrrAtRiskCents, 'money'),
      'per month: Σ risk × MRR over scored customers',
    ),
  );
  return `<section class="kpis" aria-label="headline numbers">${cards.join('\n')}</section>`;
}

/** What each band means in this run, how many customers it holds, the churn the model expects there and its lift. */
function bandsCard(summary: RunSummary): string {
  const guide = summary.scoring.bandGuide;
  if (!guide || guide.length === 0) return '';
  const rows = guide
    .map(
      (b, i) =>
        `<tr><td><span class="badge band-${escapeHtml(b.band)}">${escapeHtml(b.band)}</span></td><td class="right">${metric(`scoring.bandGuide.${i}.customers`, b.customers, 'int')}</td><td>${escapeHtml(b.meaning)}</td><td class="right">${metric(`scoring.bandGuide.${i}.meanRisk`, b.meanRisk, 'percent1')}</td><td class="right">${metric(`scoring.bandGuide.${i}.lift`, b.lift, 'decimal1')}×</td></tr>`,
    )
    .join('\n');
  return `<section class="card" aria-label="risk bands" style="margin-bottom:14px">
<h2>Risk bands: whom to contact first</h2>
<p class="caption">A band follows the model's cost threshold and what the outreach budget reaches, ranked by expected loss (risk × MRR). Expected churn is the mean calibrated risk in the band; lift is that against the mean of all scored customers.</p>
<div class="table-scroll"><table id="bands">
<thead><tr><th>Band</th><th class="right">Customers</th><th>Meaning</th><th class="right">Expected churn</th><th class="right">Lift</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>`;
}

function atRiskTable(summary: RunSummary, max?: number): string {
  const rows = summary.topAtRisk.slice(0, max ?? summary.topAtRisk.length);
  const body =
    rows.length === 0
      ? `<tr><td colspan="7" class="empty">No customers at risk in this run.</td></tr>`
      : rows
          .map((c, i) => {
            const width = Math.max(0, Math.min(100, c.risk * 100)).toFixed(1);
            return `<tr data-customer="${escapeHtml(c.customerId)}">
<td class="right">${i + 1}</td>
<td class="id">${escapeHtml(c.customerId)}</td>
<td><div class="riskbar">${metric(`topAtRisk.${i}.risk`, c.risk, 'percent')}<div class="track"><div class="fill" style="width:${width}%"></div></div></div></td>
<td><span class="badge band-${escapeHtml(c.band)}">${escapeHtml(c.band)}</span>${c.bandReason ? `<div class="caption band-reason">${escapeHtml(c.bandReason)}</div>` : ''}</td>
<td class="right">${metric(`topAtRisk.${i}.mrrAtRisk`, c.mrrAtRisk, 'money')}</td>
<td><ul>${c.drivers.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul></td>
<td><span class="badge playbook">${escapeHtml(humanise(c.playbook))}</span></td>
</tr>`;
          })
          .join('\n');
  return `<section class="card" aria-label="customers most at risk" style="margin-bottom:14px">
<h2>Customers most at risk</h2>
<p class="caption">Riskiest customers of this run, with what drives their risk and the playbook chosen for them. MRR at risk = risk × monthly revenue.</p>
<div class="table-scroll"><table id="at-risk">
<thead><tr><th class="right">#</th><th>Customer</th><th>Risk</th><th>Band</th><th class="right">MRR at risk</th><th>Why</th><th>Playbook</th></tr></thead>
<tbody>
${body}
</tbody></table></div>
</section>`;
}

const METRIC_ROWS: Array<{ key: keyof ModelMetrics; label: string; format: NumberFormat }> = [
  { key: 'rocAuc', label: 'ROC AUC', format: 'decimal3' },
  { key: 'prAuc', label: 'PR AUC', format: 'decimal3' },
  { key: 'logLoss', label: 'Log loss', format: 'decimal3' },
  { key: 'brier', label: 'Brier score', format: 'decimal3' },
  { key: 'ece', label: 'Expected calibration error', format: 'decimal3' },
  { key: 'topDecileLift', label: 'Top-decile lift', format: 'decimal1' },
  { key: 'topDecileRecall', label: 'Churners found in the top decile', format: 'percent1' },
  { key: 'threshold', label: 'Outreach threshold (cost-based)', format: 'decimal3' },
  { key: 'precisionAtThreshold', label: 'Precision at threshold', format: 'percent1' },
  { key: 'recallAtThreshold', label: 'Recall at threshold', format: 'percent1' },
];

function metricsTable(model: ModelMetrics, baseline: ModelMetrics): string {
  const rows = METRIC_ROWS.map(
    (r) =>
      `<tr><td>${escapeHtml(r.label)}</td><td class="right">${metric(`training.model.${r.key}`, model[r.key], r.format)}</td><td class="right">${metric(`training.baseline.${r.key}`, baseline[r.key], r.format)}</td></tr>`,
  ).join('\n');
  return `<section class="card metrics" aria-label="validation metrics">
<h2>Validation metrics</h2>
<p class="caption">On the latest fully observed cutoff (${metric('training.model.rows', model.rows, 'int')} customers, ${metric('training.model.positives', model.positives, 'int')} churned), never a random split.</p>
<div class="table-scroll"><table>
<thead><tr><th>Metric</th><th class="right">Model</th><th class="right">Logistic baseline</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>`;
}
