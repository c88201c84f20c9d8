import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromRepoRoot } from './paths.ts';

/** The handler files the stack bundles, each owned by another part of the project. */
export const HANDLER_ENTRIES = ['lambdas/ingest/handler.ts', 'lambdas/outreach/handler.ts', 'lambdas/train-score/handler.ts'];

/**
 * Synth needs every entry file to exist. While a handler is still being written, put a placeholder
 * that fails loudly if deployed; an existing file is never touched.
 * @returns the entries that were created
 */
export function ensureHandlerEntries(): string[] {
  const created: string[] = [];
  for (const entry of HANDLER_ENTRIES) {
    const file = fromRepoRoot(entry);
    if (existsSync(file)) continue;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      "// PLACEHOLDER: owner will replace\nexport const handler = async (): Promise<never> => {\n  throw new Error('churnguard: handler not implemented yet');\n};\n",
      { flag: 'wx' },
    );
    created.push(entry);
  }
  return created;
}
