import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { renderReport } from '../../model/report/index.ts';
import type { RunSummary } from '../../model/runSummary.ts';

/** A report open in the browser, with what it logged as errors and every URL it requested. */
export interface PageRun {
  page: Page;
  consoleErrors: string[];
  requests: string[];
}

/** Renders `summary` to `<dir>/<name>.html`, opens it, and waits until every chart container says it is done. */
export async function openReport(
  browser: Browser,
  dir: string,
  summary: RunSummary,
  name: string,
  viewport = { width: 1280, height: 900 },
): Promise<PageRun> {
  const file = path.join(dir, `${name}.html`);
  await writeFile(file, renderReport(summary));
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForFunction(`[...document.querySelectorAll('[data-chart]')].every((el) => el.hasAttribute('data-rendered'))`, undefined, {
    timeout: 20_000,
  });
  return { page, consoleErrors, requests };
}
