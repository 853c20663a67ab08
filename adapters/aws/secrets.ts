import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { Provider } from '../../core/config/providers';
import { SecretsUnavailableError } from '../../core/intake/errors';
import type { WebhookSecretSource, WebhookSecrets } from '../../core/intake/ports';
import { parseSecretValue, type SecretsByProvider } from '../../core/intake/secrets';
import { awsErrorName } from './errors';
import { INTAKE_CLIENT_DEFAULTS } from './workflow';

/**
 * Webhook secrets from Secrets Manager, cached for a TTL so that a warm function reads the secret once every few
 * minutes, not once per delivery. The value is a plain string or JSON (see `parseSecretValue`). When a refresh
 * fails and a cached value exists, the cached value is kept (stale beats refusing every delivery) and the refresh
 * is tried again on the next delivery.
 */

/** The Secrets Manager client of the webhook function; `config` overrides the intake's defaults. */
export function createSecretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({ ...INTAKE_CLIENT_DEFAULTS, ...config });
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
      // The name only: the intake's log line adds the cause's message (receive.ts); never the secret's value.
      throw new SecretsUnavailableError(`could not read the webhook secret ${this.secretId}: ${awsErrorName(error)}`, {
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
