import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Where the webhook signing secret comes from. */
export interface WebhookSecretSource {
  get(): Promise<string>;
}

/** A secret given directly (OUTREACH_WEBHOOK_SECRET locally, or tests). */
export const staticSecret = (secret: string): WebhookSecretSource => ({ get: async () => secret });

/**
 * The secret from AWS Secrets Manager (OUTREACH_WEBHOOK_SECRET_ARN), fetched once per warm
 * container and cached for `ttlMs` so a rotation is picked up. Accepts a plain string secret or
 * JSON `{ "secret": "..." }`.
 */
export class SecretsManagerSecret implements WebhookSecretSource {
  #cached?: { value: string; until: number };

  constructor(
    private readonly secretId: string,
    private readonly client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async get(): Promise<string> {
    if (this.#cached && this.#cached.until > Date.now()) return this.#cached.value;
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const value = parseSecret(result.SecretString, this.secretId);
    this.#cached = { value, until: Date.now() + this.ttlMs };
    return value;
  }
}

export function parseSecret(text: string | undefined, secretId: string): string {
  if (!text) throw new Error(`secret ${secretId} has no string value`);
  if (text.trimStart().startsWith('{')) {
    const parsed = JSON.parse(text) as { secret?: unknown };
    if (typeof parsed.secret !== 'string' || parsed.secret === '')
      throw new Error(`secret ${secretId} is JSON without a "secret" string field`);
    return parsed.secret;
  }
  return text;
}
