import type { z } from 'zod';

/**
 * One line naming every problem of a failed parse, `path: message` joined by `; `
 * ("horizonDays: horizonDays must be positive; churn: Invalid input"). An issue at the root is
 * named by `root`, e.g. `(options)`.
 */
export function formatIssues(error: z.ZodError, root = '(value)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}

/**
 * Parses a value with `schema`, throwing one readable error that names every bad field
 * ("Invalid dataset options: horizonDays: horizonDays must be positive") instead of zod's JSON.
 *
 * @param what names the value in the error, e.g. `dataset options`
 * @example parseOptions(DatasetOptions, { asOf: '2026-06-30', horizonDays: 30 }, 'dataset options')
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`Invalid ${what}: ${formatIssues(parsed.error, '(options)')}`);
}
