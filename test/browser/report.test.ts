import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateOutreachEffect, type ResolvedSelection } from '../../model/analytics/outreachEffect.ts';
import { RunSummary } from '../../model/runSummary.ts';
import { openReport as openRenderedReport, type PageRun } from '../helpers/reportPage.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

/** SVG elements as the page sees them (the project compiles without DOM types). */
type Boxed = { getBBox(): { x: number; y: number; width: number; height: number } };

let browser: Browser;
let dir: string;
let fixture: RunSummary;

/** Opens a rendered report and waits until every chart container says it is done. */
const openReport = (summary: RunSummary, name: string, viewport?: { width: number; height: number }): Promise<PageRun> =>
  openRenderedReport(browser, dir, summary, name, viewport);

/** Marks drawn in each chart: SVG shapes Vega renders for data, keyed by chart id. */
const marksPerChart = (page: Page) =>
  page.$$eval('[data-chart]', (charts) =>
    charts.map((chart) => ({
      id: chart.id,
      rendered: chart.getAttribute('data-rendered'),
      // Only marks that cover some area count: a bar of width 0 is in the DOM but not on screen.
      marks: [...chart.querySelectorAll('svg .mark-rect path, svg .mark-line path, svg .mark-symbol path, svg .mark-rule line')].filter(
        (mark) => {
          const box = (mark as unknown as Boxed).getBBox();
          return mark.closest('.mark-rect') ? box.width > 0.5 && box.height > 0.5 : box.width > 0.5 || box.height > 0.5;
        },
      ).length,
    })),
  );

beforeAll(async () => {
  fixture = RunSummary.parse(JSON.parse(await readFile(path.resolve('test/fixtures/run-summary.json'), 'utf8')));
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-report-'));
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in a browser', () => {
  it('draws every chart with marks, logs no error and requests nothing beyond its own file', async () => {
    // Act
    const { page, consoleErrors, requests } = await openReport(fixture, 'full');
    const charts = await marksPerChart(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
    // Assess
    expect(charts.map((c) => c.id)).toEqual([
      'chart-risk',
      'chart-gains',
      'chart-calibration',
      'chart-churn',
      'chart-drift',
      'chart-playbooks',
    ]);
    for (const chart of charts) {
      expect(chart.rendered, chart.id).toBe('true');
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
    expect(consoleErrors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
    await page.close();
  });

  it('draws one bar per risk bin and one bar per month and churn type', async () => {
    const { page } = await openReport(fixture, 'bars');
    // Bars stand on the axis: same bottom edge, some width.
    const bars = await page.$$eval('#chart-risk svg .mark-rect path', (paths) =>
      paths
        .map((p) => (p as unknown as Boxed).getBBox())
        .filter((box) => box.width > 1)
        .map((box) => Math.round(box.y + box.height)),
    );
    const stacked = await page.$$eval('#chart-churn svg .mark-rect path', (paths) => paths.length);
    expect(bars).toHaveLength(fixture.scoring.riskHistogram.length);
    expect(new Set(bars).size).toBe(1);
    expect(stacked).toBe(fixture.churnByMonth.length * 3);
    await page.close();
  });

  it('renders a score-only run with notes instead of the training charts', async () => {
    // Prepare
    const scoreOnly = { ...fixture, mode: 'score' as const, training: null };
    // Act
    const { page, consoleErrors } = await openReport(scoreOnly, 'score-only');
    const charts = await marksPerChart(page);
    // Assess
    expect(charts.map((c) => c.id)).toEqual(['chart-risk', 'chart-churn', 'chart-drift', 'chart-playbooks']);
    expect(charts.every((c) => c.rendered === 'true' && c.marks > 0)).toBe(true);
    expect(await page.textContent('body')).toContain('Score-only run');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('never executes script smuggled in through customer ids or driver sentences', async () => {
    // Prepare
    const hostile = structuredClone(fixture);
    hostile.runId = '</script><script>window.__pwned = 1</script>';
    hostile.topAtRisk[0]!.customerId = '<img src=x onerror="window.__pwned = 2">';
    hostile.topAtRisk[0]!.drivers = ['<script>window.__pwned = 3</script>'];
    hostile.drift[0]!.feature = '</script><script>window.__pwned = 4</script>';
    // Act
    const { page, consoleErrors } = await openReport(hostile, 'hostile');
    // Assess
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.textContent('#at-risk tbody tr:first-child td.id')).toBe('<img src=x onerror="window.__pwned = 2">');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('draws the outreach effect: measured uplift, its interval and the true effect per playbook, with no console error', async () => {
    // Prepare: two playbooks with enough outcomes, one without
    const arm = (playbook: string, which: 'treated' | 'control', n: number, churned: number): ResolvedSelection[] =>
      Array.from({ length: n }, (_, i) => ({
        customerId: `${playbook}-${which}-${i}`,
        runId: 'r',
        playbook,
        arm: which,
        mrrCents: 9_900,
        outcome: i < churned ? { status: 'churned', kind: 'involuntary', churnedAt: '2026-06-01T00:00:00.000Z' } : { status: 'retained' },
      }));
    const outreachEffect = estimateOutreachEffect(
      [
        ...arm('payment_recovery', 'treated', 200, 30),
        ...arm('payment_recovery', 'control', 60, 24),
        ...arm('loyalty_reward', 'treated', 80, 12),
        ...arm('loyalty_reward', 'control', 40, 6),
        ...arm('offer', 'treated', 20, 5),
        ...arm('offer', 'control', 5, 2),
      ],
      { asOf: '2026-06-30T00:00:00.000Z', horizonDays: 30, trueUplift: { payment_recovery: 0.22, loyalty_reward: 0, all: 0.12 } },
    );
    // Act
    const { page, consoleErrors } = await openReport({ ...fixture, outreachEffect }, 'effect');
    const charts = await marksPerChart(page);
    // Assess: one dot per shown row (two playbooks and all), a diamond per true effect, the zero line
    const effect = charts.find((c) => c.id === 'chart-outreach-effect');
    expect(effect).toMatchObject({ rendered: 'true' });
    const symbols = await page.$$eval('#chart-outreach-effect svg .mark-symbol path', (paths) => paths.length);
    expect(symbols).toBe(3 + 3);
    expect(await page.textContent('body')).toContain('1 playbook(s) not shown');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('says what the outreach effect still waits for when no playbook has enough outcomes', async () => {
    const outreachEffect = estimateOutreachEffect([], { asOf: '2026-06-30T00:00:00.000Z', horizonDays: 30 });
    const { page, consoleErrors } = await openReport({ ...fixture, outreachEffect }, 'effect-empty');
    expect((await marksPerChart(page)).map((c) => c.id)).not.toContain('chart-outreach-effect');
    expect(await page.textContent('body')).toContain('Not enough outcomes yet');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('stays readable on a narrow screen', async () => {
    const { page } = await openReport(fixture, 'narrow', { width: 420, height: 900 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });
});
