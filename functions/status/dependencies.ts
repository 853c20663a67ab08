import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type GitHostSettings, gitHostSettingsFromEnv, transportFor } from '../../adapters/githost/settings';
import { EnvTokenSource, type TokenSource } from '../../adapters/githost/tokens';
import { SecretsManagerTokenSource } from '../../adapters/githost/tokens-secrets-manager';
import type { Provider } from '../../core/config/schema';
import { STATUS_ENV } from '../../core/status/contracts';
import type { HostTransport } from '../../core/status/hosts';

/**
 * The one place the status functions read their environment (`STATUS_ENV`), at cold start: settings, and the
 * Git host tokens from Secrets Manager when `STEPLINE_GITHOST_TOKENS_SECRET` is set, else from the environment.
 */
export interface StatusEnvironment {
  readonly settings: GitHostSettings;
  readonly tokens: TokenSource;
  readonly transportFor: (provider: Provider) => Promise<HostTransport | null>;
}

export function statusEnvironment(env: Readonly<Record<string, string | undefined>>): StatusEnvironment {
  const settings = gitHostSettingsFromEnv(env);
  const secretId = env[STATUS_ENV.tokensSecret];
  const tokens: TokenSource = secretId
    ? new SecretsManagerTokenSource({ client: new SecretsManagerClient({}), secretId })
    : new EnvTokenSource(env);
  return { settings, tokens, transportFor: (provider) => transportFor(provider, settings, tokens) };
}
