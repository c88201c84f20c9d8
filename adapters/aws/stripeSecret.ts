import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseStripeSecrets } from '../stripe/stripeSignature.ts';
import { SecretsManagerSecret } from './webhookSecret.ts';

/**
 * The Stripe endpoint signing secret(s) from Secrets Manager (STRIPE_WEBHOOK_SECRET_ARN), cached
 * like the webhook's, so a rolled secret is picked up within minutes.
 */
export const stripeSigningSecret = (secretId: string, client?: Pick<SecretsManagerClient, 'send'>): SecretsManagerSecret =>
  new SecretsManagerSecret(secretId, client, undefined, (text, id) => parseStripeSecrets(text, `secret ${id}`));
