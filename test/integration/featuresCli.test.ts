import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(root, 'test/fixtures/telco-sample.csv');
let dir: string;

/** Runs the CLI; resolves with stdout, stderr and the exit code (never throws on a non-zero exit). */
async function churnguard(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'cli/main.ts'), ...args, '--data-dir', dir],
      { cwd: root },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-features-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('churnguard import table, then churnguard features', () => {
  it('imports the Telco sample and exports one labelled row per customer at the labelled cutoff', async () => {
    // Act
    const imported = await churnguard(
      'import',
      'table',
      fixture,
      '--id',
      'customerID',
      '--label',
      'Churn',
      '--positive',
      'Yes',
      '--as-of',
      '2026-07-01',
      '--json',
    );
    const out = path.join(dir, 'features.csv');
    const exported = await churnguard('features', '--as-of', '2026-06-01', '--out', out);
    // Assess
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      imported: 151,
      churners: 36,
      stayers: 115,
      stored: 151 * 3,
      timeline: { labelledCutoff: '2026-06-01T00:00:00.000Z' },
    });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('151 customers active at 2026-06-01T00:00:00.000Z');
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const header = lines[0]?.split(',') ?? [];
    expect(lines.length).toBe(152);
    expect(header[0]).toBe('customerId');
    expect(header).toContain('profile.Contract');
    const labels = lines.slice(1).map((l) => l.split(',').at(-1));
    expect(labels.filter((l) => l === '1').length).toBe(36);
    expect(labels.filter((l) => l === '0').length).toBe(115);
    const line = lines.find((l) => l.startsWith('7590-VHVEG,'));
    const first = Object.fromEntries(header.map((h, i) => [h, line?.split(',')[i]]));
    expect(first).toMatchObject({
      customerId: '7590-VHVEG',
      'profile.Contract': 'Month-to-month',
      'profile.tenure': '1',
      mrrCents: '2985',
      label: '0',
    });
  });

  it('reports bad rows by line with exit code 2 and imports the rest', async () => {
    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, 'id,plan,churned\na,pro,no\nb,pro\na,basic,yes\nc,team,yes\n');
    const result = await churnguard('import', 'table', bad, '--id', 'id', '--label', 'churned', '--as-of', '2026-07-01');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.csv:3: has 2 fields, the header has 3');
    expect(result.stderr).toContain('bad.csv:2: duplicate customer id "a" (lines 2, 4): none of them is imported');
    expect(result.stdout).toContain('1 of 4 rows imported (1 churned, 0 stayed, 0 unlabelled), 3 kept out');
  });
});
