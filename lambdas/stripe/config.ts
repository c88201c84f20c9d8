import { z } from 'zod';
import { parseEnv } from '../../adapters/aws/env.ts';
import { stripeSigningSecret } from '../../adapters/aws/stripeSecret.ts';
import { parseStripeSecrets } from '../../adapters/stripe/stripeSignature.ts';
import type { StripeCustomerLookup } from '../../model/integrations/stripe/stripeCustomer.ts';
import { IngestEnv } from '../ingest/config.ts';

/** Settings of the Stripe webhook function: the ingest function's (table, TTL) and Stripe's own. */
export const StripeEnv = IngestEnv.extend({
  /** In AWS: the Secrets Manager secret holding the endpoint signing secret (whsec_…). */
  STRIPE_WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
  /** Locally: the endpoint signing secret itself (`stripe listen` prints one). */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Find the churnguard customer by this metadata key instead of by the Stripe customer id. */
  STRIPE_CUSTOMER_METADATA_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,40}$/, 'must be a Stripe metadata key: 1 to 40 letters, digits and _ . : -')
    .optional(),
});
export type StripeEnv = z.output<typeof StripeEnv>;

/** What the Stripe function needs from its environment besides the event store. */
export interface StripeSettings {
  secrets: () => Promise<string[]>;
  lookup: StripeCustomerLookup;
}

/**
 * The signing secret source and the customer lookup from the environment.
 * @throws Error when neither STRIPE_WEBHOOK_SECRET_ARN nor STRIPE_WEBHOOK_SECRET is set
 */
export function stripeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): StripeSettings {
  const config = parseEnv(StripeEnv, env);
  const lookup: StripeCustomerLookup = config.STRIPE_CUSTOMER_METADATA_KEY
    ? { by: 'metadata', key: config.STRIPE_CUSTOMER_METADATA_KEY }
    : { by: 'customer-id' };
  if (config.STRIPE_WEBHOOK_SECRET_ARN) {
    const source = stripeSigningSecret(config.STRIPE_WEBHOOK_SECRET_ARN);
    return { secrets: () => source.get(), lookup };
  }
  if (config.STRIPE_WEBHOOK_SECRET) {
    const secrets = parseStripeSecrets(config.STRIPE_WEBHOOK_SECRET, 'STRIPE_WEBHOOK_SECRET');
    return { secrets: async () => secrets, lookup };
  }
  throw new Error('Invalid configuration: neither STRIPE_WEBHOOK_SECRET_ARN nor STRIPE_WEBHOOK_SECRET is set');
}
