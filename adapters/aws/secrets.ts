import type { Provider } from '../../core/config/providers';
import { SecretsUnavailableError } from '../../core/intake/errors';
import type { WebhookSecretSource, WebhookSecrets } from '../../core/intake/ports';
import { parseSecretValue, type SecretsByProvider } from '../../core/intake/secrets';
import { AwsJsonClient, type AwsJsonClientOptions, SECRETS_MANAGER } from './aws-json';

/**
 * Webhook secrets from Secrets Manager, cached for a TTL so that a warm function reads the secret once every few
 * minutes, not once per delivery. The value is a plain string or JSON (see `parseSecretValue`). When a refresh
 * fails and a cached value exists, the cached value is kept (stale beats refusing every delivery) and the refresh
 * is tried again on the next delivery.
 *
 * GetSecretValue goes through the small JSON-protocol client (aws-json.ts), not the SDK's SecretsManagerClient,
 * whose load would cost the webhook's every cold start (docs/adr/0046).
 */

/** Secrets Manager through the JSON-protocol client: 3 attempts, 2 s per attempt, 1 s to connect. */
export function createSecretsManagerClient(
  options: { region?: string | null } & Partial<Omit<AwsJsonClientOptions, 'service' | 'region'>> = {},
): AwsJsonClient {
  return new AwsJsonClient({
    maxAttempts: 3,
    requestTimeoutMs: 2000,
    connectionTimeoutMs: 1000,
    ...options,
    service: SECRETS_MANAGER,
    region: options.region ?? null,
  });
}

interface GetSecretValueOutput {
  readonly SecretString?: string;
}

export class SecretsManagerWebhookSecrets implements WebhookSecretSource {
  private cached: { readonly value: SecretsByProvider; readonly expiresAt: number } | null = null;
  private pending: Promise<SecretsByProvider> | null = null;

  public constructor(
    private readonly client: AwsJsonClient,
    private readonly secretId: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  public async get(provider: Provider): Promise<WebhookSecrets | null> {
    const secrets = await this.load();
    return secrets[provider] ?? null;
  }

  private async load(): Promise<SecretsByProvider> {
    if (this.cached !== null && this.now() < this.cached.expiresAt) return this.cached.value;
    this.pending ??= this.fetch().finally(() => {
      this.pending = null;
    });
    try {
      return await this.pending;
    } catch (error) {
      if (this.cached !== null) return this.cached.value;
      throw error;
    }
  }

  private async fetch(): Promise<SecretsByProvider> {
    let text: string | undefined;
    try {
      const output = await this.client.call<GetSecretValueOutput>('GetSecretValue', { SecretId: this.secretId });
      text = output.SecretString;
    } catch (error) {
      const reason = error instanceof Error ? error.name : 'unknown error';
      throw new SecretsUnavailableError(`could not read the webhook secret ${this.secretId}: ${reason}`, {
        cause: error,
      });
    }
    if (text === undefined) {
      throw new SecretsUnavailableError(`the webhook secret ${this.secretId} has no string value`);
    }
    const value = parseSecretValue(text, `secret ${this.secretId}`);
    this.cached = { value, expiresAt: this.now() + this.ttlMs };
    return value;
  }
}
