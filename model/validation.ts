import type { z } from 'zod';

/**
 * Parses options with `schema`, throwing one readable error that names every bad field
 * ("Invalid dataset options: horizonDays: horizonDays must be positive") instead of zod's JSON.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
  throw new Error(`Invalid ${what}: ${problems}`);
}
