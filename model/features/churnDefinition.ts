import { z } from 'zod';

/**
 * What "churned" means for a business.
 * - `cancelled` (contractual): the customer's subscription is cancelled (a `subscription_cancelled`
 *   event not followed by `subscription_started` / `subscription_reactivated`).
 * - `inactive` (non-contractual): `days` full days have passed without an activity event
 *   (`session_started`, `feature_used`, `custom`, `payment_succeeded`).
 */
export const ChurnDefinition = z.union([
  z.object({ kind: z.literal('cancelled') }),
  z.object({ kind: z.literal('inactive'), days: z.number().int().positive() }),
]);
export type ChurnDefinition = z.output<typeof ChurnDefinition>;

/** The default: a subscription business where customers cancel. */
export const DEFAULT_CHURN: ChurnDefinition = { kind: 'cancelled' };

const DURATION = /^(\d+)\s*(d|day|days|w|week|weeks)$/i;

/**
 * Reads a duration in days: `30d`, `30 days`, `4w` (28 days). Whole, positive numbers only.
 *
 * @throws Error quoting the value and the accepted forms
 * @example parseDuration('30d') // 30
 */
export function parseDuration(s: string): number {
  const match = DURATION.exec(s.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new Error(`"${s}" is not a duration: use a whole number of days or weeks such as 30d or 4w`);
  }
  // Stryker disable next-line StringLiteral: the unit group of DURATION is not optional, so the 'd' fallback is never taken
  const unit = (match[2] ?? 'd').toLowerCase();
  return unit.startsWith('w') ? amount * 7 : amount;
}

/**
 * Reads the `--churn` option: `cancelled`, or `inactive:<duration>` such as `inactive:30d`.
 *
 * @throws Error quoting the value and the accepted forms
 */
export function parseChurnOption(s: string): ChurnDefinition {
  const text = s.trim().toLowerCase();
  if (text === 'cancelled' || text === 'canceled') return { kind: 'cancelled' };
  if (text.startsWith('inactive:')) {
    const rest = s.trim().slice('inactive:'.length);
    try {
      return { kind: 'inactive', days: parseDuration(rest) };
    } catch (error) {
      throw new Error(`churn "${s}": ${(error as Error).message}`);
    }
  }
  throw new Error(`churn "${s}" is not a churn definition: use "cancelled" or "inactive:<days>d" such as inactive:30d`);
}

/** The definition as the CLI writes it, e.g. `inactive:30d`. */
export const formatChurnDefinition = (churn: ChurnDefinition): string =>
  churn.kind === 'cancelled' ? 'cancelled' : `inactive:${churn.days}d`;
