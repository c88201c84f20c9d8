import { z } from 'zod';
import type { ScoredCustomer } from '../scoring.ts';
import { formatIssues } from '../validation.ts';
import { PLAYBOOKS, type Playbook } from './playbooks.ts';

/** Version of the outreach message contract. Add optional fields freely; a change of meaning bumps it. */
export const OUTREACH_MESSAGE_VERSION = 1;

/** SQS refuses larger messages; one customer's oversized message fails that customer only. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export const OutreachDriver = z
  .object({
    feature: z.string().min(1).describe('Feature name, e.g. payments.failed_14d'),
    sentence: z.string().min(1).describe('The driver explained to a person, e.g. "2 failed payments in the last 14 days"'),
    contribution: z.number().describe('Attribution towards risk (logit scale); positive raises risk'),
  })
  .meta({ title: 'OutreachDriver' });

/** The messages after a cancellation (app/afterExit.ts): ask why (once), and win back an avoidable loss (once per cancellation). */
export const AFTER_EXIT_PLAYBOOKS = ['exit_survey', 'win_back'] as const;
export type AfterExitPlaybook = (typeof AFTER_EXIT_PLAYBOOKS)[number];

export const AfterExitDetails = z
  .object({
    cancelledAt: z.iso.datetime({ offset: true }).describe('When the customer cancelled'),
    reasonCode: z.string().optional().describe('win_back: why they left (model/events/exitReasons.ts)'),
    offer: z.string().optional().describe('win_back: the offer that fits the reason, e.g. discount_or_cheaper_plan'),
    offerText: z.string().optional().describe('win_back: the offer in words'),
    pReturn: z.number().min(0).max(1).optional().describe('win_back: estimated probability of return'),
    expectedValueCents: z.number().nonnegative().optional().describe('win_back: P(return) × MRR, cents per month'),
  })
  .meta({ title: 'AfterExitDetails' });

/** One at-risk customer for the retention team: the public contract of the outreach queue. */
export const OutreachMessage = z
  .object({
    messageVersion: z.literal(OUTREACH_MESSAGE_VERSION),
    customerId: z.string().min(1).max(128),
    runId: z.string().min(1).max(128).describe('The train-and-score run that selected the customer'),
    modelVersion: z.string().min(1),
    risk: z.number().min(0).max(1).describe('Calibrated probability of churn within the horizon'),
    band: z.enum(['high', 'medium', 'low']),
    mrrAtRisk: z
      .number()
      .nonnegative()
      .nullable()
      .describe('Expected monthly revenue at risk in cents (risk × MRR); null when the MRR is unknown'),
    drivers: z.array(OutreachDriver).max(10).describe('Top risk drivers, strongest first'),
    playbook: z
      .enum([...PLAYBOOKS, ...AFTER_EXIT_PLAYBOOKS])
      .describe('What to do; exit_survey and win_back are for customers who already cancelled (see afterExit)'),
    afterExit: AfterExitDetails.optional().describe('exit_survey and win_back messages: the cancellation and the offer'),
    dedupId: z
      .string()
      .min(1)
      .describe(
        '`<runId>:<customerId>`, `%` and `:` percent-encoded in each part: the same claim always has the same id, two claims never share one; consumers deduplicate on it',
      ),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ title: 'OutreachMessage', description: 'churnguard outreach message, version 1' });
export type OutreachMessage = z.output<typeof OutreachMessage>;

/** `%` and `:` percent-encoded (`%25`, `%3A`): other characters stay as they are, so ordinary ids read as themselves. */
const dedupPart = (part: string): string => part.replace(/%/g, '%25').replace(/:/g, '%3A');

/**
 * The claim of `customerId` by `runId`: stable, so a resumed run re-sends under the same id.
 * `<runId>:<customerId>` with `%` and `:` percent-encoded in each part, so the one bare `:` splits
 * it and two claims never share an id (a run `a:b` with customer `c` is `a%3Ab:c`, a run `a` with
 * customer `b:c` is `a:b%3Ac`). Records and messages written before the encoding keep their
 * `a:b:c` ids: reconcile re-sends a record's stored body and the consumer finds the ledger by
 * customerId and runId, never by parsing a dedupId.
 */
export const outreachDedupId = (runId: string, customerId: string): string => `${dedupPart(runId)}:${dedupPart(customerId)}`;

/** Builds the message of one selected customer. */
export function buildOutreachMessage(input: {
  customer: ScoredCustomer;
  playbook: Playbook;
  runId: string;
  createdAt: string;
}): OutreachMessage {
  const { customer, playbook, runId, createdAt } = input;
  return OutreachMessage.parse({
    messageVersion: OUTREACH_MESSAGE_VERSION,
    customerId: customer.customerId,
    runId,
    modelVersion: customer.modelVersion,
    risk: customer.risk,
    band: customer.band,
    mrrAtRisk: customer.mrrCents === null || !Number.isFinite(customer.mrrCents) ? null : customer.risk * customer.mrrCents,
    drivers: customer.drivers.map(({ feature, sentence, contribution }) => ({ feature, sentence, contribution })),
    playbook,
    dedupId: outreachDedupId(runId, customer.customerId),
    createdAt,
  });
}

/**
 * Parses a queue message body, naming what is wrong. Throws on malformed JSON or a body that
 * breaks the contract.
 */
export function parseOutreachMessage(body: string): OutreachMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new Error(`outreach message is not JSON: ${(error as Error).message}`);
  }
  const parsed = OutreachMessage.safeParse(json);
  if (!parsed.success) {
    throw new Error(`outreach message breaks contract v${OUTREACH_MESSAGE_VERSION}: ${formatIssues(parsed.error, '(message)')}`);
  }
  return parsed.data;
}

/** The published JSON Schema of the message (input side: unknown extra fields are allowed, so adding optional fields stays compatible) (schemas/outreach-message.v1.json is this, written by scripts/write-schemas.ts). */
export function outreachMessageJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://churnguard.dev/schemas/outreach-message.v1.json',
    ...z.toJSONSchema(OutreachMessage, { target: 'draft-2020-12', io: 'input' }),
  };
}
