import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseStripeSecrets } from '../stripe/stripeSignature.ts';

/**
 * The Stripe endpoint signing secret(s) from Secrets Manager (STRIPE_WEBHOOK_SECRET_ARN), fetched
 * once per warm container and cached for `ttlMs`, so a rolled secret is picked up within minutes.
 */
export class StripeSigningSecret {
  #cached?: { value: string[]; until: number };

  constructor(
    private readonly secretId: string,
    private readonly client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async get(): Promise<string[]> {
    if (this.#cached && this.#cached.until > Date.now()) return this.#cached.value;
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const value = parseStripeSecrets(result.SecretString, `secret ${this.secretId}`);
    this.#cached = { value, until: Date.now() + this.ttlMs };
    return value;
  }
}
