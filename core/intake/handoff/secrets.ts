import { SecretsUnavailableError } from '../errors';
import type { WebhookSecrets } from '../ports';

/**
 * The hand-off sources' secrets, as stored (Secrets Manager on AWS, `<state folder>/handoff-secrets.json` locally):
 * JSON `{ "<source>": "<secret>" }`, or `{ "<source>": { "current": "...", "previous": "..." } }` while one is
 * rotated. Error messages name the source, never a secret.
 */
export function parseHandoffSecrets(text: string, where: string): ReadonlyMap<string, WebhookSecrets> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SecretsUnavailableError(`${where} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretsUnavailableError(`${where} must be a JSON object of sources`);
  }
  const out = new Map<string, WebhookSecrets>();
  for (const [source, entry] of Object.entries(value)) {
    if (typeof entry === 'string' && entry.length > 0) {
      out.set(source, { current: entry, previous: null });
      continue;
    }
    const { current, previous } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof current !== 'string' || current.length === 0) {
      throw new SecretsUnavailableError(`${where}.${source} must be a non-empty string or have a non-empty "current"`);
    }
    if (previous !== undefined && previous !== null && (typeof previous !== 'string' || previous.length === 0)) {
      throw new SecretsUnavailableError(`${where}.${source}.previous must be a non-empty string when given`);
    }
    out.set(source, { current, previous: typeof previous === 'string' ? previous : null });
  }
  return out;
}
