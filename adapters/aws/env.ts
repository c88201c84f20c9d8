import { z } from 'zod';
import { parseOptions } from '../../model/validation.ts';

/**
 * Parses a boolean environment variable strictly: only `true`/`false`/`1`/`0` (any case).
 * Powertools once read "false" as true; a typo here must fail loudly instead.
 */
export const envBoolean = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const v = value.trim().toLowerCase();
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      ctx.addIssue({ code: 'custom', message: `must be true, false, 1 or 0, got "${value}"` });
      return z.NEVER;
    });

/** Settings shared by every function and the local run. Each function extends this schema. */
export const BaseEnv = z.object({
  TABLE_NAME: z.string().min(1).default('churnguard'),
  BUCKET_NAME: z.string().min(1).default('churnguard'),
  /** Path-style S3 URLs: needed by S3 emulators, harmless on AWS. */
  S3_FORCE_PATH_STYLE: envBoolean(false),
});
export type BaseEnv = z.output<typeof BaseEnv>;

/** Parses `env` with `schema`, naming every bad variable in one error ("Invalid configuration: ..."). */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  return parseOptions(schema, env, 'configuration');
}
