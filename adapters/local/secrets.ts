import { PROVIDERS, type Provider } from '../../core/config/providers';
import type { WebhookSecretSource, WebhookSecrets } from '../../core/intake/ports';
import type { SecretsByProvider } from '../../core/intake/secrets';

/** Webhook secrets given directly: the local runtime and tests (`WEBHOOK_SECRET`, `WEBHOOK_SECRET_PREVIOUS`). */

export class StaticWebhookSecrets implements WebhookSecretSource {
  private readonly secrets: SecretsByProvider;

  /** The same secrets for every provider, or per provider. */
  public constructor(secrets: WebhookSecrets | SecretsByProvider) {
    this.secrets =
      'current' in secrets && typeof secrets.current === 'string'
        ? Object.fromEntries(PROVIDERS.map((p) => [p, secrets as WebhookSecrets]))
        : (secrets as SecretsByProvider);
  }

  public async get(provider: Provider): Promise<WebhookSecrets | null> {
    return this.secrets[provider] ?? null;
  }
}
