/**
 * Takes a PNG screenshot of a churnguard HTML report in headless Chromium, e.g. to regenerate
 * docs/report.png after the report or the features change:
 *
 *   npx churnguard demo                       # writes .churnguard/report.html
 *   npm run report:screenshot -- .churnguard/report.html docs/report.png
 *   npx tsx scripts/screenshot-report.ts <report.html> <out.png> [--top <px>]
 *
 * The page is 1280 px wide; the PNG holds the full page, or only its top `--top` pixels.
 * Chromium comes from the system (`CHROMIUM_PATH`, default /usr/bin/chromium); on Debian/Ubuntu,
 * `bash .ci/install-system-packages.sh` installs it.
 */
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const WIDTH = 1280;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const USAGE = 'usage: npx tsx scripts/screenshot-report.ts <report.html> <out.png> [--top <px>]';

export interface ScreenshotOptions {
  /** Only the top this many CSS pixels of the page; absent: the full page. */
  topPx?: number;
  /** Chromium binary (default: CHROMIUM_PATH or /usr/bin/chromium). */
  executablePath?: string;
  /** How long to wait for the charts to render (ms). */
  timeoutMs?: number;
}

/** Opens `reportFile`, waits until every chart says it is drawn, and writes the PNG to `outFile`. */
export async function screenshotReport(
  reportFile: string,
  outFile: string,
  options: ScreenshotOptions = {},
): Promise<{ width: number; height: number }> {
  const executablePath = options.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  await access(reportFile).catch(() => {
    throw new Error(`cannot read the report ${reportFile}: write one with \`npx churnguard demo\` or \`npx churnguard report\``);
  });
  await access(executablePath).catch(() => {
    throw new Error(`no Chromium at ${executablePath}: install it (bash .ci/install-system-packages.sh) or set CHROMIUM_PATH`);
  });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(pathToFileURL(path.resolve(reportFile)).href, { waitUntil: 'load' });
    // Each chart container gets data-rendered once vega-embed has drawn it (or given up with a note).
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-chart]')].every((el) => el.hasAttribute('data-rendered'))`,
      undefined,
      {
        timeout: options.timeoutMs ?? 30_000,
      },
    );
    if (errors.length > 0) throw new Error(`the report logged errors in the browser:\n  ${errors.join('\n  ')}`);
    const pageHeight = Number(await page.evaluate('document.documentElement.scrollHeight'));
    const height = options.topPx === undefined ? pageHeight : Math.min(options.topPx, pageHeight);
    await mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
    await page.screenshot(
      options.topPx === undefined
        ? { path: outFile, fullPage: true }
        : { path: outFile, fullPage: true, clip: { x: 0, y: 0, width: WIDTH, height } },
    );
    return { width: WIDTH, height };
  } finally {
    await browser.close();
  }
}

function parseArgs(argv: string[]): { reportFile: string; outFile: string; topPx?: number } {
  const positional: string[] = [];
  let topPx: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--top') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value <= 0) throw new Error(`--top must be a positive whole number of pixels\n${USAGE}`);
      topPx = value;
    } else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else {
      positional.push(arg);
    }
  }
  const [reportFile, outFile] = positional;
  if (positional.length !== 2 || reportFile === undefined || outFile === undefined) throw new Error(USAGE);
  return { reportFile, outFile, ...(topPx === undefined ? {} : { topPx }) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { reportFile, outFile, topPx } = parseArgs(process.argv.slice(2));
    const { width, height } = await screenshotReport(reportFile, outFile, topPx === undefined ? {} : { topPx });
    console.error(`wrote ${outFile} (${width} × ${height} px)`);
  } catch (error) {
    console.error(`screenshot-report: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
