import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SteplineConfig } from '../../core/config/schema';
import type { HandoffSecretSource } from '../../core/intake/handoff';
import { parseHandoffSecrets } from '../../core/intake/handoff/secrets';

/**
 * The hand-off sources' secrets on this machine (docs/adr/0100): `<state folder>/handoff-secrets.json`, JSON
 * `{ "<source>": "<secret>" }` (mode 0600). At start, a source configured under `handoffs` that has no secret there
 * gets one generated, so `stepline deploy --source <name>` signs with it as is; the file is read again on each
 * hand-off, so a secret set by hand takes effect without a restart. The Secrets Manager secret on AWS has the same
 * shape.
 */

export const HANDOFF_SECRETS_FILE = 'handoff-secrets.json';

export function handoffSecretsPath(stateDir: string): string {
  return join(stateDir, HANDOFF_SECRETS_FILE);
}

/** Gives each configured source a secret where it has none; answers the source of secrets the webhook reads. */
export function localHandoffSecrets(stateDir: string, config: SteplineConfig): HandoffSecretSource {
  const path = handoffSecretsPath(stateDir);
  const sources = Object.keys(config.handoffs?.sources ?? {});
  const stored: Record<string, unknown> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const missing = sources.filter((source) => stored[source] === undefined);
  if (missing.length > 0) {
    for (const source of missing) stored[source] = randomBytes(24).toString('base64url');
    writeFileSync(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    get: async (source) => {
      if (!existsSync(path)) return null;
      return parseHandoffSecrets(readFileSync(path, 'utf8'), path).get(source) ?? null;
    },
  };
}
