import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { Provider } from '../../core/config/schema';
import { SecretsUnavailableError } from '../../core/intake/errors';
import type { WebhookSecretSource, WebhookSecrets } from '../../core/intake/ports';
import { parseSecretValue, type SecretsByProvider } from '../../core/intake/secrets';

/**
 * Webhook secrets from Secrets Manager, cached for a TTL so that a warm function reads the secret once every few
 * minutes, not once per delivery. The value is a plain string or JSON (see `parseSecretValue`). When a refresh
 * fails and a cached value exists, the cached value is kept (stale beats refusing every delivery) and the refresh
 * is tried again on the next delivery.
 */

export function createSecretsManagerClient(options: { region?: string | null } = {}): SecretsManagerClient {
  const config: SecretsManagerClientConfig = {
    maxAttempts: 3,
    requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 },
  };
  if (options.region) config.region = options.region;
  return new SecretsManagerClient(config);
}

export class SecretsManagerWebhookSecrets implements WebhookSecretSource {
  private cached: { readonly value: SecretsByProvider; readonly expiresAt: number } | null = null;
  private pending: Promise<SecretsByProvider> | null = null;

  public constructor(
    private readonly client: SecretsManagerClient,
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
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
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
