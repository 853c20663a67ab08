import { PROVIDERS, type Provider } from '../config/providers';
import { SecretsUnavailableError } from './errors';
import type { WebhookSecretSource, WebhookSecrets } from './ports';

/** The webhook secrets of each provider. */
export type SecretsByProvider = Partial<Record<Provider, WebhookSecrets>>;

function pair(value: unknown, where: string): WebhookSecrets {
  if (typeof value === 'string' && value.length > 0) return { current: value, previous: null };
  if (typeof value !== 'object' || value === null) {
    throw new SecretsUnavailableError(`${where} must be a string or an object with "current"`);
  }
  const { current, previous } = value as Record<string, unknown>;
  if (typeof current !== 'string' || current.length === 0) {
    throw new SecretsUnavailableError(`${where}.current must be a non-empty string`);
  }
  if (previous !== undefined && previous !== null && (typeof previous !== 'string' || previous.length === 0)) {
    throw new SecretsUnavailableError(`${where}.previous must be a non-empty string when given`);
  }
  return { current, previous: typeof previous === 'string' ? previous : null };
}

/**
 * Parses a stored webhook secret: a plain string (the current secret, for every provider), or JSON
 * `{ "current": "...", "previous": "..." }` for every provider, with optional per-provider entries
 * (`"github": "..."` or `"github": { "current": "...", "previous": "..." }`) that take precedence.
 * Error messages never include the secret.
 */
export function parseSecretValue(text: string, where: string): SecretsByProvider {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (trimmed.length === 0) throw new SecretsUnavailableError(`${where} is empty`);
    const shared = { current: trimmed, previous: null };
    return Object.fromEntries(PROVIDERS.map((p) => [p, shared]));
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new SecretsUnavailableError(`${where} starts with "{" but is not JSON`);
  }
  const shared = value['current'] !== undefined ? pair(value, where) : null;
  const out: SecretsByProvider = {};
  for (const provider of PROVIDERS) {
    const own = value[provider];
    const secrets = own !== undefined ? pair(own, `${where}.${provider}`) : shared;
    if (secrets !== null) out[provider] = secrets;
  }
  if (Object.keys(out).length === 0) {
    throw new SecretsUnavailableError(`${where} has neither "current" nor an entry for ${PROVIDERS.join(', ')}`);
  }
  return out;
}

/**
 * Webhook secrets given as values, not read from a store: the local runtime's `WEBHOOK_SECRET`, tests, and a
 * function given its secret in its environment. The same secrets for every provider, or per provider.
 */
export class StaticWebhookSecrets implements WebhookSecretSource {
  private readonly secrets: SecretsByProvider;

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
