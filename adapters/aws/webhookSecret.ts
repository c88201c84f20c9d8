import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseWebhookSecrets } from '../webhook/webhookSignature.ts';

/** Where the webhook signing secrets come from: one, or two while a rotation is under way. */
export interface WebhookSecretSource {
  get(): Promise<string[]>;
}

/** Secrets given directly (OUTREACH_WEBHOOK_SECRET locally, whitespace-separated, or tests). */
export const staticSecret = (secrets: string): WebhookSecretSource => {
  const parsed = parseWebhookSecrets(secrets, 'OUTREACH_WEBHOOK_SECRET');
  return { get: async () => parsed };
};

/**
 * Signing secrets from AWS Secrets Manager, fetched once per warm container and cached for `ttlMs`
 * so a rotation is picked up within minutes. By default the webhook's (OUTREACH_WEBHOOK_SECRET_ARN):
 * a plain string (one secret, or the new and the old one separated by a space during a rotation),
 * or JSON `{ "secret": "..." }` or `{ "secrets": ["new", "old"] }`; `parse` reads another kind
 * (Stripe's, adapters/aws/stripeSecret.ts).
 */
export class SecretsManagerSecret implements WebhookSecretSource {
  #cached?: { value: string[]; until: number };

  constructor(
    private readonly secretId: string,
    private readonly client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
    private readonly ttlMs = 5 * 60_000,
    private readonly parse: (text: string | undefined, secretId: string) => string[] = parseSecret,
  ) {}

  async get(): Promise<string[]> {
    if (this.#cached && this.#cached.until > Date.now()) return this.#cached.value;
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const value = this.parse(result.SecretString, this.secretId);
    this.#cached = { value, until: Date.now() + this.ttlMs };
    return value;
  }
}

export function parseSecret(text: string | undefined, secretId: string): string[] {
  if (!text) throw new Error(`secret ${secretId} has no string value`);
  if (text.trimStart().startsWith('{')) {
    const parsed = JSON.parse(text) as { secret?: unknown; secrets?: unknown };
    if (Array.isArray(parsed.secrets) && parsed.secrets.every((s) => typeof s === 'string'))
      return parseWebhookSecrets(parsed.secrets.join(' '), `secret ${secretId}`);
    if (typeof parsed.secret !== 'string' || parsed.secret === '')
      throw new Error(`secret ${secretId} is JSON without a "secret" string field (or a "secrets" list)`);
    return parseWebhookSecrets(parsed.secret, `secret ${secretId}`);
  }
  return parseWebhookSecrets(text, `secret ${secretId}`);
}
