import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ApprovalKeyError } from '../../core/approval/errors';

/**
 * Approval signing keys from Secrets Manager: the secret is a key, or `{"current": "…", "previous": "…"}` while
 * a key is being rotated (links signed with the previous key keep working until they expire). Cached for
 * `ttlMs` (default 5 minutes).
 */
export function secretsManagerApprovalKeys(options: {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}): () => Promise<string[]> {
  let cached: { at: number; keys: Promise<string[]> } | null = null;
  return () => {
    const now = (options.now ?? Date.now)();
    if (cached && now - cached.at < (options.ttlMs ?? 300_000)) return cached.keys;
    const keys = options.client.send(new GetSecretValueCommand({ SecretId: options.secretId })).then((out) => {
      const text = (out.SecretString ?? '').trim();
      if (!text) throw new ApprovalKeyError(`secret ${options.secretId} is empty`);
      if (!text.startsWith('{')) return [text];
      const parsed = JSON.parse(text) as { current?: unknown; previous?: unknown };
      const list = [parsed.current, parsed.previous].filter((k): k is string => typeof k === 'string' && k !== '');
      if (list.length === 0) throw new ApprovalKeyError(`secret ${options.secretId} has no "current" key`);
      return list;
    });
    const entry = { at: now, keys };
    cached = entry;
    keys.catch(() => {
      if (cached === entry) cached = null;
    });
    return keys;
  };
}
