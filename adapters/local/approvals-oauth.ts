import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OAuthClient } from '../../core/approval/sign-in';
import type { Provider } from '../../core/config/schema';
import { SIGN_IN_ENV } from '../../core/contracts/environment';

/**
 * A Git host's OAuth client for the local runtime: `STEPLINE_<HOST>_OAUTH_CLIENT_ID` and `…_CLIENT_SECRET` from
 * the environment, else `<state>/oauth/<provider>.json` (`{"clientId": "…", "clientSecret": "…"}`, the shape of
 * the AWS secret), else none: the runtime's approval pages then use its local identity for that host.
 */
export function localOAuthClient(
  stateDir: string,
  provider: Provider,
  env: Readonly<Record<string, string | undefined>>,
): () => Promise<OAuthClient | null> {
  const names = SIGN_IN_ENV[provider];
  return async () => {
    const clientId = env[names.clientId];
    const clientSecret = env[names.clientSecret];
    if (clientId && clientSecret) return { clientId, clientSecret };
    let text: string;
    try {
      text = readFileSync(join(stateDir, 'oauth', `${provider}.json`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const parsed = JSON.parse(text) as { clientId?: unknown; clientSecret?: unknown };
    if (typeof parsed.clientId !== 'string' || typeof parsed.clientSecret !== 'string') return null;
    return parsed.clientId && parsed.clientSecret
      ? { clientId: parsed.clientId, clientSecret: parsed.clientSecret }
      : null;
  };
}
