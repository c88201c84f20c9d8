import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSummary } from '../../model/runSummary.ts';
import { openReport } from '../helpers/reportPage.ts';

/**
 * The report's after-exit sections in headless Chromium: churn split avoidable/unavoidable and by
 * reason, churn by segment with intervals, the win-back funnel. The fixture is the run summary
 * fixture with the sections a demo run (600 customers, 90 days, seed 1) wrote.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

let browser: Browser;
let dir: string;
let summary: RunSummary;

beforeAll(async () => {
  const base = JSON.parse(await readFile(path.resolve('test/fixtures/run-summary.json'), 'utf8'));
  const exit = JSON.parse(await readFile(path.resolve('test/fixtures/run-summary-after-exit.json'), 'utf8'));
  summary = RunSummary.parse({ ...base, ...exit });
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-exit-report-'));
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the after-exit sections of the report in a browser', () => {
  it('draws the avoidable, by-reason, segment and win-back charts with marks, the tables, and logs no error', async () => {
    const { page, consoleErrors, requests } = await openReport(browser, dir, summary, 'exit');
    const charts = await page.$$eval('[data-chart]', (els) =>
      els.map((el) => ({
        id: el.id,
        rendered: el.getAttribute('data-rendered'),
        marks: el.querySelectorAll('svg .mark-rect path, svg .mark-symbol path, svg .mark-rule line').length,
      })),
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-after-exit.png'), fullPage: true });
    const exitCharts = charts.filter((c) =>
      ['chart-churn-avoidable', 'chart-churn-reason', 'chart-churn-segment', 'chart-win-back'].includes(c.id),
    );
    expect(exitCharts.map((c) => c.id)).toEqual(['chart-churn-avoidable', 'chart-churn-reason', 'chart-churn-segment', 'chart-win-back']);
    for (const chart of charts) {
      expect(chart.rendered, chart.id).toBe('true');
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
    // One dot and one whisker per segment shown.
    const segments = summary.churnBySegment?.segments.length ?? 0;
    expect(await page.$$eval('#chart-churn-segment svg .mark-symbol path', (p) => p.length)).toBe(segments);
    expect(await page.$$eval('#segments tbody tr', (rows) => rows.length)).toBe(segments);
    expect(await page.$$eval('#return-model tbody tr', (rows) => rows.length)).toBe(7);
    expect(await page.textContent('body')).toContain('After exit: exit surveys and win-back');
    expect(consoleErrors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
    await page.close();
  });
});
