import type { RunSummary } from '../runSummary.ts';

/** A Vega-Lite specification (kept as plain JSON: the report embeds it verbatim). */
export type VegaLiteSpec = Record<string, unknown>;

/** One chart of the report: where it goes, what it is called, what it shows and its spec. */
export interface ReportChart {
  id: string;
  title: string;
  /** One sentence on how to read the chart. */
  caption: string;
  spec: VegaLiteSpec;
}

export const COLORS = {
  accent: '#2563eb',
  muted: '#94a3b8',
  grid: '#e5e7eb',
  text: '#334155',
  voluntary: '#6366f1',
  involuntary: '#f59e0b',
  passive: '#94a3b8',
  danger: '#dc2626',
} as const;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const HEIGHT = 220;

/** Shared look: system font, quiet axes, no chart border; charts fill their card's width. */
export const base = (spec: VegaLiteSpec): VegaLiteSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: 'container',
  height: HEIGHT,
  autosize: { type: 'fit', contains: 'padding' },
  config: {
    font: FONT,
    view: { stroke: null },
    axis: {
      labelColor: COLORS.text,
      titleColor: COLORS.text,
      gridColor: COLORS.grid,
      domainColor: COLORS.grid,
      tickColor: COLORS.grid,
      titleFontWeight: 500,
      labelFontSize: 11,
      titleFontSize: 11,
    },
    legend: { labelColor: COLORS.text, titleColor: COLORS.text, orient: 'top', labelFontSize: 11, titleFontSize: 11 },
  },
  ...spec,
});

/** Histogram of calibrated risk over 20 bins; warmer bars for riskier bins. */
export function riskDistributionChart(summary: RunSummary): ReportChart {
  return {
    id: 'chart-risk',
    title: 'Risk distribution',
    caption: `Calibrated churn risk of the ${summary.scoring.customersScored.toLocaleString('en-US')} customers scored in this run.`,
    spec: base({
      // Ranged bars with a hair of space between bins (Vega-Lite's pre-binned mode ignores x2 here).
      data: { values: summary.scoring.riskHistogram.map((b) => ({ ...b, x0: b.from + 0.002, x1: b.to - 0.002 })) },
      mark: { type: 'bar', cornerRadiusTopLeft: 2, cornerRadiusTopRight: 2 },
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: 'churn risk', axis: { format: '.0%', tickCount: 10 }, scale: { domain: [0, 1] } },
        x2: { field: 'x1' },
        // Square-root scale: most customers sit in the lowest bins; the risky tail must stay visible.
        y: { field: 'count', type: 'quantitative', title: 'customers (√ scale)', scale: { type: 'sqrt' } },
        y2: { datum: 0 },
        color: { field: 'from', type: 'quantitative', scale: { scheme: 'yelloworangered', domain: [0, 1] }, legend: null },
        tooltip: [
          { field: 'from', title: 'risk from', format: '.0%' },
          { field: 'to', title: 'risk to', format: '.0%' },
          { field: 'count', title: 'customers' },
        ],
      },
    }),
  };
}

/** Cumulative gains of the model against targeting customers at random (the diagonal). */
export function gainsChart(training: NonNullable<RunSummary['training']>): ReportChart {
  const values = [
    ...training.gains.map((p) => ({ ...p, series: 'model' })),
    { populationShare: 0, churnersFound: 0, series: 'random' },
    { populationShare: 1, churnersFound: 1, series: 'random' },
  ];
  return {
    id: 'chart-gains',
    title: 'Gains: churners found vs customers contacted',
    caption: `Contacting the riskiest 10% finds ${Math.round(training.model.topDecileRecall * 100)}% of churners (lift ${training.model.topDecileLift.toFixed(1)}×); the dashed line is random outreach.`,
    spec: base({
      data: { values },
      mark: { type: 'line', point: { size: 18, filled: true }, strokeWidth: 2.5, interpolate: 'monotone' },
      encoding: {
        x: {
          field: 'populationShare',
          type: 'quantitative',
          title: 'share of customers contacted (riskiest first)',
          axis: { format: '.0%' },
          scale: { domain: [0, 1] },
        },
        y: {
          field: 'churnersFound',
          type: 'quantitative',
          title: 'share of churners found',
          axis: { format: '.0%' },
          scale: { domain: [0, 1] },
        },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: ['model', 'random'], range: [COLORS.accent, COLORS.muted] },
        },
        strokeDash: {
          field: 'series',
          type: 'nominal',
          scale: {
            domain: ['model', 'random'],
            range: [
              [1, 0],
              [5, 4],
            ],
          },
          legend: null,
        },
        tooltip: [
          { field: 'series' },
          { field: 'populationShare', title: 'contacted', format: '.0%' },
          { field: 'churnersFound', title: 'churners found', format: '.0%' },
        ],
      },
    }),
  };
}

/** Predicted vs observed churn per risk bin; on the diagonal, "risk 0.3" means 30%. */
export function calibrationChart(training: NonNullable<RunSummary['training']>): ReportChart {
  const top = Math.min(1, Math.max(0.1, ...training.calibration.flatMap((b) => [b.predicted, b.observed])) * 1.1);
  return {
    id: 'chart-calibration',
    title: 'Calibration: predicted vs observed churn',
    caption: `Each dot is a risk bin of the validation set (size = customers); expected calibration error ${(training.model.ece * 100).toFixed(1)} points.`,
    spec: base({
      layer: [
        {
          data: {
            values: [
              { x: 0, y: 0 },
              { x: top, y: top },
            ],
          },
          mark: { type: 'line', strokeDash: [5, 4], color: COLORS.muted },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values: training.calibration },
          mark: { type: 'line', color: COLORS.accent, strokeWidth: 2, point: false },
          encoding: {
            x: {
              field: 'predicted',
              type: 'quantitative',
              title: 'predicted churn risk',
              axis: { format: '.0%' },
              scale: { domain: [0, top] },
            },
            y: {
              field: 'observed',
              type: 'quantitative',
              title: 'observed churn rate',
              axis: { format: '.0%' },
              scale: { domain: [0, top] },
            },
          },
        },
        {
          data: { values: training.calibration },
          mark: { type: 'circle', color: COLORS.accent, opacity: 0.85 },
          encoding: {
            x: { field: 'predicted', type: 'quantitative' },
            y: { field: 'observed', type: 'quantitative' },
            size: { field: 'count', type: 'quantitative', title: 'customers', scale: { range: [30, 400] }, legend: null },
            tooltip: [
              { field: 'predicted', format: '.1%' },
              { field: 'observed', format: '.1%' },
              { field: 'count', title: 'customers' },
            ],
          },
        },
      ],
    }),
  };
}

const CHURN_TYPES = ['involuntary', 'voluntary', 'passive'] as const;

/**
 * The months worth charting: from the first month anyone churned (years of sign-ups before the
 * event history begins would be a long run of empty bars), at most the last `max` of them.
 */
export function chartedMonths<T>(months: readonly T[], lost: (month: T) => number, max = 12): T[] {
  const first = months.findIndex((m) => lost(m) > 0);
  if (first === -1) return months.slice(-max);
  return months.slice(Math.max(first, months.length - max));
}

/** Monthly churn rate stacked by type: failed payments, decisions to leave, fading usage. */
export function churnByMonthChart(summary: RunSummary): ReportChart {
  const months = chartedMonths(summary.churnByMonth, (m) => m.voluntary + m.involuntary + m.passive);
  const values = months.flatMap((m) =>
    CHURN_TYPES.map((type) => ({
      month: m.month,
      type,
      customers: m[type],
      rate: m.customersAtStart === 0 ? 0 : m[type] / m.customersAtStart,
      customersAtStart: m.customersAtStart,
    })),
  );
  return {
    id: 'chart-churn',
    title: 'Churn rate per month, by type',
    caption: `Customers lost in the month ÷ customers at its start, ${months[0]?.month ?? ''} to ${months.at(-1)?.month ?? ''}: involuntary (failed payments), voluntary (cancelled), passive (went quiet).`,
    spec: base({
      data: { values },
      mark: { type: 'bar', cornerRadiusEnd: 0 },
      encoding: {
        x: { field: 'month', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
        y: { field: 'rate', type: 'quantitative', stack: 'zero', title: 'monthly churn', axis: { format: '.1%' } },
        color: {
          field: 'type',
          type: 'nominal',
          title: null,
          scale: { domain: [...CHURN_TYPES], range: [COLORS.involuntary, COLORS.voluntary, COLORS.passive] },
        },
        order: { field: 'type', sort: 'ascending' },
        tooltip: [
          { field: 'month' },
          { field: 'type' },
          { field: 'customers', title: 'customers lost' },
          { field: 'customersAtStart', title: 'customers at start' },
          { field: 'rate', title: 'rate', format: '.2%' },
        ],
      },
    }),
  };
}

/** Population stability index per feature, training vs scoring; above 0.2 the feature has shifted. Shows the `max` most shifted. */
export function driftChart(summary: RunSummary, threshold = 0.2, max = 15): ReportChart {
  const values = [...summary.drift]
    .sort((a, b) => b.psi - a.psi)
    .slice(0, max)
    .map((d) => ({ ...d, status: d.flagged ? 'shifted' : 'stable' }));
  const shown = values.length < summary.drift.length ? ` The ${values.length} most shifted are shown.` : '';
  const height = Math.max(HEIGHT, values.length * 18);
  return {
    id: 'chart-drift',
    title: 'Feature drift (PSI)',
    caption: `${summary.drift.filter((d) => d.flagged).length} of ${summary.drift.length} features shifted beyond PSI ${threshold} between training and scoring.${shown}`,
    spec: base({
      height,
      layer: [
        {
          data: { values },
          mark: { type: 'bar', cornerRadiusEnd: 2, height: { band: 0.7 } },
          encoding: {
            y: { field: 'feature', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 220 } },
            x: { field: 'psi', type: 'quantitative', title: 'population stability index', axis: { tickCount: 5, format: '.2f' } },
            color: {
              field: 'status',
              type: 'nominal',
              title: null,
              scale: { domain: ['stable', 'shifted'], range: [COLORS.muted, COLORS.danger] },
            },
            tooltip: [{ field: 'feature' }, { field: 'psi', title: 'PSI', format: '.3f' }, { field: 'status' }],
          },
        },
        {
          data: { values: [{ psi: threshold }] },
          mark: { type: 'rule', color: COLORS.danger, strokeDash: [4, 3], strokeWidth: 1.5 },
          encoding: { x: { field: 'psi', type: 'quantitative' } },
        },
        {
          data: { values: [{ psi: threshold, label: `${threshold} = shifted` }] },
          mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'bottom', color: COLORS.danger, fontSize: 10 },
          encoding: { x: { field: 'psi', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
        },
      ],
    }),
  };
}

/** Messages queued this run per playbook. */
export function playbookChart(summary: RunSummary, label: (playbook: string) => string): ReportChart {
  const values = Object.entries(summary.outreach.byPlaybook).map(([playbook, messages]) => ({ playbook: label(playbook), messages }));
  return {
    id: 'chart-playbooks',
    title: 'Outreach by playbook',
    caption: `${summary.outreach.sent.toLocaleString('en-US')} messages queued; ${summary.outreach.skippedCooldown} skipped by the cooldown, ${summary.outreach.skippedBudget} by the budget.`,
    spec: base({
      height: Math.max(120, values.length * 30),
      data: { values },
      mark: { type: 'bar', cornerRadiusEnd: 2, color: COLORS.accent, height: { band: 0.7 } },
      encoding: {
        y: { field: 'playbook', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 180 } },
        x: { field: 'messages', type: 'quantitative', title: 'messages', axis: { tickMinStep: 1 } },
        tooltip: [{ field: 'playbook' }, { field: 'messages' }],
      },
    }),
  };
}
