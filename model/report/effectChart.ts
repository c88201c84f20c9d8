import type { OutreachEffectReport } from '../analytics/outreachEffect.ts';
import { base, COLORS, type ReportChart } from './charts.ts';

const pts = (x: number) => Math.round(x * 1000) / 10;

/**
 * Did contacting them help? One row per playbook whose estimate is shown (and all playbooks
 * together): the dot is the churn the outreach prevented, in percentage points (control churn −
 * treated churn), the bar its 95% interval; right of the dashed zero line means it helped, a bar
 * across it means not proven yet. A red diamond marks the simulator's true effect when there is one.
 */
export function outreachEffectChart(effect: OutreachEffectReport, label: (playbook: string) => string): ReportChart | undefined {
  const rows = [...effect.playbooks, effect.overall].filter((p) => p.shown && p.uplift !== null && p.interval !== null);
  if (rows.length === 0) return undefined;
  const values = rows.map((p) => ({
    playbook: p.playbook === 'all' ? 'All playbooks' : label(p.playbook),
    uplift: pts(p.uplift as number),
    low: pts((p.interval as [number, number])[0]),
    high: pts((p.interval as [number, number])[1]),
    truth: p.trueUplift === undefined ? null : pts(p.trueUplift),
    treated: `${p.treated.churned} of ${p.treated.resolved} churned`,
    control: `${p.control.churned} of ${p.control.resolved} churned`,
    saved: Math.round((p.savedCustomers ?? 0) * 10) / 10,
  }));
  const order = values.map((v) => v.playbook);
  const y = { field: 'playbook', type: 'nominal', sort: order, title: null, axis: { labelLimit: 180 } };
  const hidden = effect.playbooks.length + 1 - rows.length;
  return {
    id: 'chart-outreach-effect',
    title: 'Did the outreach help? Churn prevented per playbook',
    caption:
      `Dot: percentage points of churn prevented (control churn − contacted churn, within ${effect.horizonDays} days); bar: 95% interval (Newcombe). ` +
      `Right of 0 means the outreach helped; a bar across 0 is not proven yet.${values.some((v) => v.truth !== null) ? ' Red diamond: the simulator’s true effect.' : ''}` +
      (hidden > 0
        ? ` ${hidden} playbook(s) not shown: fewer than ${effect.rule.minResolvedPerArm} resolved outcomes per arm or ${effect.rule.minChurned} churned.`
        : ''),
    spec: base({
      height: Math.max(120, values.length * 34),
      data: { values },
      layer: [
        { mark: { type: 'rule', color: COLORS.muted, strokeDash: [4, 3] }, encoding: { x: { datum: 0 } } },
        {
          mark: { type: 'rule', color: COLORS.accent, strokeWidth: 3, opacity: 0.5 },
          encoding: { y, x: { field: 'low', type: 'quantitative', title: 'churn prevented (percentage points)' }, x2: { field: 'high' } },
        },
        {
          mark: { type: 'point', filled: true, size: 90, color: COLORS.accent },
          encoding: {
            y,
            x: { field: 'uplift', type: 'quantitative' },
            tooltip: [
              { field: 'playbook' },
              { field: 'uplift', title: 'prevented (pts)' },
              { field: 'low', title: '95% low' },
              { field: 'high', title: '95% high' },
              { field: 'treated', title: 'contacted' },
              { field: 'control', title: 'held out' },
              { field: 'saved', title: 'customers saved' },
            ],
          },
        },
        {
          transform: [{ filter: 'datum.truth !== null' }],
          mark: { type: 'point', shape: 'diamond', filled: true, size: 70, color: COLORS.danger },
          encoding: {
            y,
            x: { field: 'truth', type: 'quantitative' },
            tooltip: [{ field: 'playbook' }, { field: 'truth', title: 'true (pts)' }],
          },
        },
      ],
    }),
  };
}
