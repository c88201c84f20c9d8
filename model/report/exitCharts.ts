import type { MonthlyChurnByReason } from '../analytics/churnByReason.ts';
import { EXIT_REASON_CODES } from '../events/exitReasons.ts';
import type { RunSummary } from '../runSummary.ts';
import { base, COLORS, chartedMonths, type ReportChart } from './charts.ts';

const SPLIT = ['avoidable', 'unavoidable', 'unknown'] as const;

/** Monthly churn rate stacked into avoidable, unavoidable and unknown reason: the bars add up to the standard churn rate. */
export function avoidableChurnChart(rows: readonly MonthlyChurnByReason[]): ReportChart {
  const months = chartedMonths(rows, (m) => m.lost);
  const values = months.flatMap((m) =>
    SPLIT.map((part) => ({
      month: m.month,
      part,
      customers: m[part],
      rate: m.customersAtStart === 0 ? 0 : m[part] / m.customersAtStart,
      customersAtStart: m.customersAtStart,
    })),
  );
  return {
    id: 'chart-churn-avoidable',
    title: 'Churn rate per month: avoidable and unavoidable',
    caption:
      'Customers lost in the month ÷ customers at its start, split by the avoidability of their exit reason; unknown: no reason given (yet). The bar is the standard churn rate.',
    spec: base({
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'month', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
        y: { field: 'rate', type: 'quantitative', stack: 'zero', title: 'monthly churn', axis: { format: '.1%' } },
        color: {
          field: 'part',
          type: 'nominal',
          title: null,
          scale: { domain: [...SPLIT], range: [COLORS.danger, COLORS.passive, '#cbd5e1'] },
        },
        order: { field: 'part', sort: 'ascending' },
        tooltip: [
          { field: 'month' },
          { field: 'part' },
          { field: 'customers', title: 'customers lost' },
          { field: 'customersAtStart', title: 'customers at start' },
          { field: 'rate', title: 'rate', format: '.2%' },
        ],
      },
    }),
  };
}

/** Monthly churn rate stacked by exit reason. */
export function churnByReasonChart(rows: readonly MonthlyChurnByReason[]): ReportChart {
  const months = chartedMonths(rows, (m) => m.lost);
  const reasons = [...EXIT_REASON_CODES, 'unknown'];
  const values = months.flatMap((m) =>
    reasons.map((reason) => ({
      month: m.month,
      reason,
      customers: m.byReason[reason] ?? 0,
      rate: m.customersAtStart === 0 ? 0 : (m.byReason[reason] ?? 0) / m.customersAtStart,
    })),
  );
  return {
    id: 'chart-churn-reason',
    title: 'Churn rate per month, by exit reason',
    caption:
      'Customers lost in the month for each reason ÷ customers at its start (reason from the cancellation, the exit survey, or an unrecovered failed payment).',
    spec: base({
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'month', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
        y: { field: 'rate', type: 'quantitative', stack: 'zero', title: 'monthly churn', axis: { format: '.1%' } },
        color: { field: 'reason', type: 'nominal', title: null, scale: { domain: reasons, scheme: 'tableau10' } },
        tooltip: [
          { field: 'month' },
          { field: 'reason' },
          { field: 'customers', title: 'customers lost' },
          { field: 'rate', format: '.2%' },
        ],
      },
    }),
  };
}

/** Churn rate by segment with its 95% interval: a dot and a whisker per segment. */
export function churnBySegmentChart(segments: NonNullable<RunSummary['churnBySegment']>): ReportChart {
  const values = segments.segments.map((s) => ({ ...s, label: `${s.dimension}: ${s.segment}` }));
  const order = values.map((v) => v.label);
  const y = { field: 'label', type: 'nominal', title: null, sort: order };
  return {
    id: 'chart-churn-segment',
    title: 'Churn rate by segment',
    caption: `Customers lost ${segments.periodStart.slice(0, 10)} to ${segments.periodEnd.slice(0, 10)} ÷ customers in the segment at its start, with the 95% Wilson interval. Segments under ${segments.minCustomers} customers are not shown (${segments.hidden}).`,
    spec: base({
      height: Math.max(120, 16 * values.length),
      data: { values },
      layer: [
        {
          mark: { type: 'rule', color: COLORS.muted },
          encoding: { y, x: { field: 'low', type: 'quantitative', title: 'churn rate', axis: { format: '.0%' } }, x2: { field: 'high' } },
        },
        {
          mark: { type: 'point', filled: true, color: COLORS.accent },
          encoding: {
            y,
            x: { field: 'churnRate', type: 'quantitative' },
            tooltip: [
              { field: 'label', title: 'segment' },
              { field: 'customersAtStart', title: 'customers at start' },
              { field: 'lost', title: 'lost' },
              { field: 'churnRate', title: 'rate', format: '.1%' },
              { field: 'low', title: '95% from', format: '.1%' },
              { field: 'high', title: '95% to', format: '.1%' },
            ],
          },
        },
      ],
    }),
  };
}

/** The win-back funnel: selected → contacted → reactivated (and held out, when a control group holds some back). */
export function winBackFunnelChart(afterExit: NonNullable<RunSummary['afterExit']>): ReportChart {
  const { funnel } = afterExit;
  const values = [
    { stage: 'selected (this run)', customers: funnel.selected },
    { stage: `contacted (last ${afterExit.returnHorizonDays} days)`, customers: funnel.contacted },
    { stage: 'reactivated after contact', customers: funnel.reactivated },
    ...(funnel.control
      ? [
          { stage: `held out as control (last ${afterExit.returnHorizonDays} days)`, customers: funnel.control },
          { stage: 'reactivated without contact (control)', customers: funnel.controlReactivated ?? 0 },
        ]
      : []),
  ];
  return {
    id: 'chart-win-back',
    title: 'Win-back funnel',
    caption: `Customers who cancelled for an avoidable reason, offered a win-back ${afterExit.windowMinDays}–${afterExit.windowMaxDays} days after cancelling; reactivated: came back after the message.`,
    spec: base({
      data: { values },
      mark: { type: 'bar', color: COLORS.accent },
      encoding: {
        y: { field: 'stage', type: 'nominal', title: null, sort: values.map((v) => v.stage) },
        x: { field: 'customers', type: 'quantitative', title: 'customers' },
        tooltip: [{ field: 'stage' }, { field: 'customers' }],
      },
    }),
  };
}
