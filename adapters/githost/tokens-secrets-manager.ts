import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Provider } from '../../core/config/schema';
import { credentialFromJson, type HostCredential, type TokenSource } from './tokens';

/**
 * Git host credentials from one Secrets Manager secret, a JSON object keyed by provider (see `STATUS_ENV`):
 * `{"github": "ghp_…", "gitlab": {"token": "glpat-…"}, "bitbucket": {"username": "…", "appPassword": "…"}}`.
 * The secret is read once and kept for `ttlMs` (default 5 minutes), so a warm function makes no call per status
 * and a rotated token is picked up within minutes. Concurrent first reads share one call.
 */
export interface SecretsManagerTokenSourceOptions {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class SecretsManagerTokenSource implements TokenSource {
  readonly #options: SecretsManagerTokenSourceOptions;
  #cached: { readonly at: number; readonly value: Promise<Record<string, unknown>> } | null = null;

  public constructor(options: SecretsManagerTokenSourceOptions) {
    this.#options = options;
  }

  async #secret(): Promise<Record<string, unknown>> {
    const now = (this.#options.now ?? Date.now)();
    const ttl = this.#options.ttlMs ?? 5 * 60_000;
    if (this.#cached && now - this.#cached.at < ttl) return this.#cached.value;
    const value = this.#options.client
      .send(new GetSecretValueCommand({ SecretId: this.#options.secretId }))
      .then((out) => {
        const text = out.SecretString ?? '';
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new Error(`secret ${this.#options.secretId} is not a JSON object of Git host tokens`);
        }
        if (typeof parsed !== 'object' || parsed === null) {
          throw new Error(`secret ${this.#options.secretId} is not a JSON object of Git host tokens`);
        }
        return parsed as Record<string, unknown>;
      });
    this.#cached = { at: now, value };
    value.catch(() => {
      if (this.#cached?.value === value) this.#cached = null;
    });
    return value;
  }

  public async credential(provider: Provider): Promise<HostCredential | null> {
    return credentialFromJson(provider, (await this.#secret())[provider]);
  }
}
