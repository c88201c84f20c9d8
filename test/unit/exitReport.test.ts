import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport, reportPanels } from '../../model/report/index.ts';
import { RunSummary } from '../../model/runSummary.ts';

const base = JSON.parse(readFileSync(path.resolve('test/fixtures/run-summary.json'), 'utf8'));
const exit = JSON.parse(readFileSync(path.resolve('test/fixtures/run-summary-after-exit.json'), 'utf8'));
const scripts = { vega: '/* vega */', vegaLite: '/* vega-lite */', vegaEmbed: '/* vega-embed */' };
const chartIds = (summary: RunSummary) => reportPanels(summary).flatMap((p) => ('chart' in p ? [p.chart.id] : []));

describe('the after-exit sections of the report', () => {
  it('leaves a summary without them (an older run) as it was', () => {
    const summary = RunSummary.parse(base);
    expect(chartIds(summary)).not.toContain('chart-churn-avoidable');
    expect(renderReport(summary, { scripts })).not.toContain('After exit');
  });

  it('adds the avoidable, by-reason, segment and funnel charts and the two tables, each number with its source', () => {
    const summary = RunSummary.parse({ ...base, ...exit });
    expect(chartIds(summary)).toEqual(
      expect.arrayContaining(['chart-churn-avoidable', 'chart-churn-reason', 'chart-churn-segment', 'chart-win-back']),
    );
    const html = renderReport(summary, { scripts });
    expect(html).toContain('id="segments"');
    expect(html).toContain('id="return-model"');
    expect(html).toContain(`data-metric="afterExit.winBack.sent" data-value="${summary.afterExit?.winBack.sent}"`);
    expect(html).toContain(
      `data-metric="churnBySegment.segments.0.customersAtStart" data-value="${summary.churnBySegment?.segments[0]?.customersAtStart}"`,
    );
    expect(html).toContain('stated prior (fewer than 30 labelled cancellations)');
  });

  it('says so, instead of an empty chart, when no segment is big enough', () => {
    const summary = RunSummary.parse({ ...base, ...exit, churnBySegment: { ...exit.churnBySegment, segments: [], hidden: 12 } });
    const panel = reportPanels(summary).find((p) => 'title' in p && p.title === 'Churn rate by segment');
    expect(panel).toEqual({ title: 'Churn rate by segment', note: "No segment had 30 customers or more at the period's start." });
  });

  it('escapes segment names that come from customer profiles', () => {
    const evil = { ...exit.churnBySegment.segments[0], segment: '<img src=x onerror=alert(1)>' };
    const summary = RunSummary.parse({ ...base, ...exit, churnBySegment: { ...exit.churnBySegment, segments: [evil] } });
    const html = renderReport(summary, { scripts });
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });
});
