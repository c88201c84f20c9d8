import { z } from 'zod';

/**
 * Why customers leave: the exit-reason taxonomy, kept as data. Each reason says whether the churn
 * it causes is avoidable by default (the team can work on it) and which win-back offer fits it.
 * The avoidable/unavoidable mapping is the user's to edit (`ExitReasonMapping`, in the job config).
 */
export const EXIT_REASON_CODES = [
  'price',
  'missing_feature',
  'competitor',
  'no_longer_needed',
  'support_experience',
  'payment_failure',
  'other',
] as const;
export const ExitReasonCode = z.enum(EXIT_REASON_CODES, {
  error: `reasonCode must be one of: ${EXIT_REASON_CODES.join(', ')}`,
});
export type ExitReasonCode = z.output<typeof ExitReasonCode>;

/** What a win-back message offers: the incentive that fits the reason. */
export const WIN_BACK_OFFERS = [
  'discount_or_cheaper_plan',
  'feature_news',
  'personal_contact',
  'card_update',
  'comparison',
  'none',
] as const;
export type WinBackOffer = (typeof WIN_BACK_OFFERS)[number];

export interface ExitReason {
  code: ExitReasonCode;
  /** Person-readable. */
  label: string;
  /** The default: whether churn for this reason is avoidable (the team can act on it). */
  avoidable: boolean;
  /** Involuntary churn: the customer did not decide to leave (a payment that could not be collected). */
  involuntary: boolean;
  offer: WinBackOffer;
  /** What the offer is, in the words of the retention team. */
  offerText: string;
}

/**
 * The taxonomy. Defaults: price, a missing feature, a competitor, support and failed payments are
 * avoidable (disappointment, price and failed payments are what a retention team can change); a
 * need that ended is fine churn, and "other" says nothing the team can act on, so both are
 * unavoidable until the user maps them otherwise.
 */
export const EXIT_REASONS: readonly ExitReason[] = [
  {
    code: 'price',
    label: 'price: the plan costs more than they can pay',
    avoidable: true,
    involuntary: false,
    offer: 'discount_or_cheaper_plan',
    offerText: 'one or two free months, a discount, or a cheaper plan that fits',
  },
  {
    code: 'missing_feature',
    label: 'a feature they need is missing',
    avoidable: true,
    involuntary: false,
    offer: 'feature_news',
    offerText: 'news of the feature they missed (shipped or on the roadmap), with a free month to try it',
  },
  {
    code: 'competitor',
    label: 'switched to a competitor',
    avoidable: true,
    involuntary: false,
    offer: 'comparison',
    offerText: 'what is better here than at the competitor, with a free month to compare',
  },
  {
    code: 'no_longer_needed',
    label: 'no longer needed (a temporary need ended)',
    avoidable: false,
    involuntary: false,
    offer: 'none',
    offerText: 'nothing: the need ended',
  },
  {
    code: 'support_experience',
    label: 'a poor support experience',
    avoidable: true,
    involuntary: false,
    offer: 'personal_contact',
    offerText: 'a person from support or success calls, apologises and fixes what went wrong',
  },
  {
    code: 'payment_failure',
    label: 'payment failure (involuntary)',
    avoidable: true,
    involuntary: true,
    offer: 'card_update',
    offerText: 'a link to update the card and restart the subscription where it stopped',
  },
  { code: 'other', label: 'other', avoidable: false, involuntary: false, offer: 'none', offerText: 'nothing specific' },
];

export const exitReason = (code: ExitReasonCode): ExitReason => EXIT_REASONS.find((r) => r.code === code) as ExitReason;

/**
 * The user's edits of the avoidable/unavoidable mapping, e.g. `{ "other": "avoidable" }`. Reasons
 * left out keep the taxonomy's default.
 */
export const ExitReasonMapping = z
  .record(z.string(), z.enum(['avoidable', 'unavoidable'], { error: 'each reason maps to "avoidable" or "unavoidable"' }))
  .superRefine((mapping, ctx) => {
    for (const key of Object.keys(mapping)) {
      if (!(EXIT_REASON_CODES as readonly string[]).includes(key))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is not an exit reason: use one of ${EXIT_REASON_CODES.join(', ')}`,
        });
    }
  })
  .transform((mapping) => mapping as Partial<Record<ExitReasonCode, 'avoidable' | 'unavoidable'>>)
  .default({});
export type ExitReasonMapping = z.input<typeof ExitReasonMapping>;

/** The avoidable reasons under a mapping: the taxonomy's defaults with the user's edits on top. */
export function avoidableReasons(mapping: z.output<typeof ExitReasonMapping> = {}): ReadonlySet<ExitReasonCode> {
  const avoidable = new Set<ExitReasonCode>();
  for (const reason of EXIT_REASONS) {
    const edited = mapping[reason.code];
    if (edited === undefined ? reason.avoidable : edited === 'avoidable') avoidable.add(reason.code);
  }
  return avoidable;
}

/**
 * Free-text reasons older producers send (`subscription_cancelled.reason` before the taxonomy),
 * read as a code when they say one thing clearly; anything else stays unknown rather than guessed.
 */
const FREE_TEXT_CODES: ReadonlyArray<[RegExp, ExitReasonCode]> = [
  [/expensive|price|pricing|budget|cost/i, 'price'],
  [/missing.?feature|feature.?missing|lacks?/i, 'missing_feature'],
  [/competitor|switch/i, 'competitor'],
  [/no.?longer.?need|not.?needed|temporary|project.?ended|not.?using/i, 'no_longer_needed'],
  [/support|service/i, 'support_experience'],
  [/payment|card|billing/i, 'payment_failure'],
];

export function reasonFromText(text: string | undefined): ExitReasonCode | undefined {
  if (!text) return undefined;
  if ((EXIT_REASON_CODES as readonly string[]).includes(text)) return text as ExitReasonCode;
  return FREE_TEXT_CODES.find(([pattern]) => pattern.test(text))?.[1];
}
