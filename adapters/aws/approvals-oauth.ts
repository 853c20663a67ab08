import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OAuthClient } from '../../core/approval/sign-in';

/**
 * A Git host's OAuth client from Secrets Manager: the secret the Approvals construct creates for each host, which
 * the operator fills with `{"clientId": "…", "clientSecret": "…"}`. An empty object (as created) means no sign-in
 * is set up for that host: null. Read when a sign-in first needs it, then cached for `ttlMs` (default 5 minutes),
 * so that a client filled in after the deploy is picked up without one. A read that fails is not cached.
 */
export function secretsManagerOAuthClient(options: {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}): () => Promise<OAuthClient | null> {
  let cached: { at: number; value: Promise<OAuthClient | null> } | null = null;
  return () => {
    const now = (options.now ?? Date.now)();
    if (cached && now - cached.at < (options.ttlMs ?? 300_000)) return cached.value;
    const value = options.client.send(new GetSecretValueCommand({ SecretId: options.secretId })).then((out) => {
      const text = (out.SecretString ?? '').trim();
      if (!text) return null;
      const parsed = JSON.parse(text) as { clientId?: unknown; clientSecret?: unknown };
      if (typeof parsed.clientId !== 'string' || typeof parsed.clientSecret !== 'string') return null;
      if (!parsed.clientId || !parsed.clientSecret) return null;
      return { clientId: parsed.clientId, clientSecret: parsed.clientSecret };
    });
    const entry = { at: now, value };
    cached = entry;
    value.catch(() => {
      if (cached === entry) cached = null;
    });
    return value;
  };
}
