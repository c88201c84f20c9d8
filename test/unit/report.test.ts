import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import { loadRunSummary } from '../../app/report.ts';
import { escapeHtml } from '../../model/report/html.ts';
import { type NumberFormat, renderReport } from '../../model/report/index.ts';
import { RunSummary } from '../../model/runSummary.ts';

const fixture = RunSummary.parse(JSON.parse(readFileSync(path.resolve('test/fixtures/run-summary.json'), 'utf8')));
// Tiny stand-ins for the 830 KB of Vega: these tests read the page, not the charts (the browser test does).
const scripts = { vega: '/* vega */', vegaLite: '/* vega-lite */', vegaEmbed: '/* vega-embed */' };

interface ShownNumber {
  path: string;
  value: number;
  format: NumberFormat;
  text: string;
}

const unescapeHtml = (s: string) => s.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');

/** Every number the page shows, with the summary field it claims to show. */
function shownNumbers(html: string): ShownNumber[] {
  const pattern = /<span class="num" data-metric="([^"]+)" data-value="([^"]+)" data-format="([^"]+)">([^<]*)<\/span>/g;
  return [...html.matchAll(pattern)].map((m) => ({
    path: unescapeHtml(m[1]!),
    value: Number(unescapeHtml(m[2]!)),
    format: m[3] as NumberFormat,
    text: unescapeHtml(m[4]!),
  }));
}

/** Reads a displayed number back: `$18,427.15` → 1842715 (cents), `83%` → 0.83. */
function parseShown(text: string, format: NumberFormat): { value: number; tolerance: number } {
  const digits = Number(text.replace(/[$,%]/g, ''));
  switch (format) {
    case 'money':
      return { value: Math.round(digits * 100), tolerance: 0.5 };
    case 'percent':
      return { value: digits / 100, tolerance: 0.005 };
    case 'percent1':
      return { value: digits / 100, tolerance: 0.0005 };
    case 'int':
      return { value: digits, tolerance: 0.5 };
    case 'decimal1':
      return { value: digits, tolerance: 0.05 };
    case 'decimal3':
      return { value: digits, tolerance: 0.0005 };
  }
}

const valueAt = (summary: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], summary);

const specsOf = (
  html: string,
): Record<
  string,
  { data?: { values: Array<Record<string, unknown>> }; layer?: Array<{ data: { values: Array<Record<string, unknown>> } }> }
> => {
  const match = /<script type="application\/json" id="churnguard-specs">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no chart specs in the page');
  return JSON.parse(match[1]!);
};

describe('renderReport', () => {
  const html = renderReport(fixture, { scripts });
  const numbers = shownNumbers(html);

  it('shows the headline numbers: model and baseline AUC, customers scored, messages sent, expected MRR at risk', () => {
    expect(numbers.map((n) => n.path)).toEqual(
      expect.arrayContaining([
        'training.model.rocAuc',
        'training.baseline.rocAuc',
        'scoring.customersScored',
        'outreach.sent',
        'scoring.expectedMrrAtRiskCents',
      ]),
    );
  });

  it('shows every number exactly as the summary has it, and its rounded text agrees', () => {
    expect(numbers.length).toBeGreaterThan(40);
    for (const shown of numbers) {
      expect(shown.value, shown.path).toBe(valueAt(fixture, shown.path));
      const read = parseShown(shown.text, shown.format);
      expect(Math.abs(read.value - shown.value), `${shown.path} shown as ${shown.text}`).toBeLessThanOrEqual(read.tolerance + 1e-9);
    }
  });

  it('says what each band means, with its customers, expected churn and lift, and why each listed customer is in theirs', () => {
    expect(html).toContain('Risk bands: whom to contact first');
    for (const [i, band] of (fixture.scoring.bandGuide ?? []).entries()) {
      expect(html).toContain(escapeHtml(band.meaning));
      expect(numbers.find((n) => n.path === `scoring.bandGuide.${i}.lift`)?.value).toBe(band.lift);
    }
    const reasons = fixture.topAtRisk.flatMap((c) => (c.bandReason ? [c.bandReason] : []));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(html).toContain(`<div class="caption band-reason">${escapeHtml(reason)}</div>`);
  });

  it('lists every top at-risk customer with risk, MRR at risk, drivers in words and the playbook', () => {
    for (const [i, customer] of fixture.topAtRisk.entries()) {
      expect(numbers.find((n) => n.path === `topAtRisk.${i}.risk`)?.value).toBe(customer.risk);
      expect(numbers.find((n) => n.path === `topAtRisk.${i}.mrrAtRisk`)?.value).toBe(customer.mrrAtRisk);
      expect(html).toContain(`<tr data-customer="${customer.customerId}">`);
      for (const driver of customer.drivers) expect(html).toContain(`<li>${driver}</li>`);
    }
    expect(html).toContain('Payment recovery');
  });

  it("charts the summary's own data: risk bins, gains against random, calibration, churn by month and type, drift with the 0.2 line", () => {
    const specs = specsOf(html);
    expect(Object.keys(specs)).toEqual(['chart-risk', 'chart-gains', 'chart-calibration', 'chart-churn', 'chart-drift', 'chart-playbooks']);
    expect(specs['chart-risk']!.data!.values.map((v) => v.count)).toEqual(fixture.scoring.riskHistogram.map((b) => b.count));
    const gains = specs['chart-gains']!.data!.values;
    expect(gains.filter((v) => v.series === 'model').map((v) => v.churnersFound)).toEqual(
      fixture.training!.gains.map((g) => g.churnersFound),
    );
    expect(gains.filter((v) => v.series === 'random')).toEqual([
      { populationShare: 0, churnersFound: 0, series: 'random' },
      { populationShare: 1, churnersFound: 1, series: 'random' },
    ]);
    expect(specs['chart-calibration']!.layer![2]!.data.values).toEqual(fixture.training!.calibration);
    for (const month of fixture.churnByMonth) {
      const stacked = specs['chart-churn']!.data!.values.filter((v) => v.month === month.month);
      expect(stacked.map((v) => v.type)).toEqual(['involuntary', 'voluntary', 'passive']);
      expect(stacked.reduce((sum, v) => sum + (v.rate as number), 0)).toBeCloseTo(month.churnRate, 4);
    }
    const drift = specs['chart-drift']!.layer!;
    const byPsi = [...fixture.drift].sort((a, b) => b.psi - a.psi);
    expect(drift[0]!.data.values.map((v) => [v.feature, v.psi])).toEqual(byPsi.map((d) => [d.feature, d.psi]));
    expect(drift[1]!.data.values).toEqual([{ psi: 0.2 }]);
  });

  it('is one self-contained file: scripts inline, no external script, stylesheet or image, a CSP forbidding the network', () => {
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).toContain(`default-src 'none'`);
    expect(html).toContain('/* vega */');
    expect(html.indexOf('/* vega */')).toBeLessThan(html.indexOf('/* vega-lite */'));
    expect(html.indexOf('/* vega-lite */')).toBeLessThan(html.indexOf('/* vega-embed */'));
  });

  it('inlines the real browser builds of Vega, Vega-Lite and vega-embed by default', () => {
    const full = renderReport(fixture);
    expect(full.length).toBeGreaterThan(800_000);
    expect(full).toMatch(/vegaEmbed/);
    expect(full).not.toMatch(/<script[^>]+src=/i);
  });

  it('escapes every text from the summary, in the page and inside the chart data', () => {
    // Prepare
    const hostile = structuredClone(fixture);
    hostile.runId = 'run"><script>alert(1)</script>';
    hostile.topAtRisk[0]!.customerId = '<img src=x onerror=alert(2)>';
    hostile.topAtRisk[0]!.drivers = ['usage fell <b>99%</b> & "more"'];
    hostile.drift[0]!.feature = '</script><script>alert(3)</script>';
    // Act
    const page = renderReport(hostile, { scripts });
    // Assess
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<b>99%</b>');
    expect(page).toContain('&#60;img src=x onerror=alert(2)&#62;');
    expect(page).toContain('usage fell &#60;b&#62;99%&#60;/b&#62; &#38; &#34;more&#34;');
    expect(specsOf(page)['chart-drift']!.layer![0]!.data.values.map((v) => v.feature)).toContain('</script><script>alert(3)</script>');
  });

  it('charts the 15 most shifted features when there are more', () => {
    const many = { ...fixture, drift: Array.from({ length: 28 }, (_, i) => ({ feature: `f${i}`, psi: i / 100, flagged: i / 100 > 0.2 })) };
    const charted = specsOf(renderReport(many, { scripts }))['chart-drift']!.layer![0]!.data.values.map((v) => v.feature);
    expect(charted).toEqual(Array.from({ length: 15 }, (_, i) => `f${27 - i}`));
  });

  it('charts churn from the first month anyone churned, at most the last 12 months', () => {
    // Prepare: years of sign-ups before the first churn, as a real event history has
    const quietMonths = Array.from({ length: 30 }, (_, i) => ({
      month: `20${23 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
      customersAtStart: i,
      voluntary: 0,
      involuntary: 0,
      passive: 0,
      churnRate: 0,
    }));
    const long = { ...fixture, churnByMonth: [...quietMonths, ...fixture.churnByMonth] };
    const short = { ...fixture, churnByMonth: [...quietMonths.slice(-2), ...fixture.churnByMonth] };
    // Act
    const monthsOf = (summary: RunSummary) => [
      ...new Set(specsOf(renderReport(summary, { scripts }))['chart-churn']!.data!.values.map((v) => v.month)),
    ];
    // Assess
    expect(monthsOf(short)).toEqual(fixture.churnByMonth.map((m) => m.month));
    expect(
      monthsOf({
        ...long,
        churnByMonth: [
          ...long.churnByMonth,
          ...Array.from({ length: 8 }, (_, i) => ({ ...fixture.churnByMonth[0]!, month: `2027-0${i + 1}` })),
        ],
      }),
    ).toHaveLength(12);
  });

  it('renders a score-only run (no training section) with a note instead of the training charts and metrics', () => {
    // Prepare
    const scoreOnly = { ...fixture, mode: 'score' as const, training: null };
    // Act
    const page = renderReport(scoreOnly, { scripts });
    // Assess
    expect(Object.keys(specsOf(page))).toEqual(['chart-risk', 'chart-churn', 'chart-drift', 'chart-playbooks']);
    expect(page).toContain('Score-only run');
    expect(shownNumbers(page).some((n) => n.path.startsWith('training.'))).toBe(false);
    expect(shownNumbers(page).find((n) => n.path === 'scoring.customersScored')?.value).toBe(fixture.scoring.customersScored);
  });

  it('says so instead of drawing empty charts when a run has no drift, no months and no outreach', () => {
    const quiet = { ...fixture, drift: [], churnByMonth: [], outreach: { ...fixture.outreach, byPlaybook: {} } };
    const page = renderReport(quiet, { scripts });
    expect(Object.keys(specsOf(page))).toEqual(['chart-risk', 'chart-gains', 'chart-calibration']);
    expect(page).toContain('Drift was not computed in this run');
    expect(page).toContain('No outreach messages were queued in this run.');
  });

  it('refuses a summary that does not match the schema, naming the field', () => {
    const broken = { ...fixture, scoring: { ...fixture.scoring, customersScored: 'many' } } as unknown as RunSummary;
    expect(() => renderReport(broken, { scripts })).toThrow(/customersScored/);
  });
});

describe('the latest run (S3RunStore.latestRunId) and loadRunSummary', () => {
  /** A fake S3 client answering ListObjectsV2 from a list of keys, `pageSize` per page. */
  const fakeS3 = (objects: Array<{ Key: string; LastModified: Date }>, pageSize = 2) => ({
    calls: 0,
    async send(command: { input: { ContinuationToken?: string } }) {
      this.calls++;
      const start = Number(command.input.ContinuationToken ?? 0);
      const page = objects.slice(start, start + pageSize);
      const more = start + pageSize < objects.length;
      return { Contents: page, IsTruncated: more, NextContinuationToken: more ? String(start + pageSize) : undefined };
    },
  });

  it('picks the run whose summary was written last, over every page, ignoring segment part summaries and other files', async () => {
    // Prepare
    const at = (s: string) => new Date(`2026-06-${s}T00:00:00Z`);
    const s3 = fakeS3([
      { Key: 'runs/score-2026-06-01/summary.json', LastModified: at('01') },
      { Key: 'runs/score-2026-06-03/scores.ndjson', LastModified: at('20') },
      { Key: 'runs/score-2026-06-03/summary.json', LastModified: at('03') },
      { Key: 'runs/score-2026-06-09/segment-0-of-4/summary.json', LastModified: at('25') },
      { Key: 'runs/train-and-score-2026-06-02/summary.json', LastModified: at('02') },
    ]);
    // Act
    const latest = await new S3RunStore(s3 as never, 'bucket').latestRunId();
    // Assess
    expect(latest).toBe('score-2026-06-03');
    expect(s3.calls).toBe(3);
  });

  it('says there is no run yet, and how to make one, when the bucket has no summary', async () => {
    await expect(loadRunSummary(new S3RunStore(fakeS3([]) as never, 'bucket'))).rejects.toThrow(
      /no run summary found under runs\/: run the job first/,
    );
  });
});
