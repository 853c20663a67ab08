import type { OAuthClient, SignInHost, SignInHosts } from '../../../core/approval/sign-in';
import type { Provider } from '../../../core/config/schema';
import { SIGN_IN_ENV } from '../../../core/contracts/environment';
import { bitbucketSignIn } from './bitbucket';
import { githubSignIn } from './github';
import { gitlabSignIn } from './gitlab';
import type { SignInSettings } from './http';

export { bitbucketSignIn } from './bitbucket';
export { githubSignIn } from './github';
export { gitlabSignIn } from './gitlab';

/** Where each host's OAuth endpoints and API are, unless `SIGN_IN_ENV` says otherwise. */
export const DEFAULT_SIGN_IN_URLS: Readonly<Record<Provider, { readonly oauthUrl: string; readonly apiUrl: string }>> =
  {
    github: { oauthUrl: 'https://github.com', apiUrl: 'https://api.github.com' },
    gitlab: { oauthUrl: 'https://gitlab.com', apiUrl: 'https://gitlab.com/api/v4' },
    bitbucket: { oauthUrl: 'https://bitbucket.org', apiUrl: 'https://api.bitbucket.org/2.0' },
  };

/** A host's OAuth and API URLs from the environment (`SIGN_IN_ENV`), else the host's own. */
export function signInUrlsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  provider: Provider,
): { oauthUrl: string; apiUrl: string } {
  const names = SIGN_IN_ENV[provider];
  return {
    oauthUrl: (env[names.oauthUrl] || DEFAULT_SIGN_IN_URLS[provider].oauthUrl).replace(/\/+$/, ''),
    apiUrl: (env[names.apiUrl] || DEFAULT_SIGN_IN_URLS[provider].apiUrl).replace(/\/+$/, ''),
  };
}

export interface HostSignInConfig {
  readonly oauthUrl: string;
  readonly apiUrl: string;
  /** The host's OAuth client, or null when none is set up (read when a sign-in needs it). */
  readonly client: () => Promise<OAuthClient | null>;
}

const MAKERS: Readonly<Record<Provider, (settings: SignInSettings) => SignInHost>> = {
  github: githubSignIn,
  gitlab: gitlabSignIn,
  bitbucket: bitbucketSignIn,
};

/** The sign-ins of the three hosts, each built once its client has been read. */
export function signInHosts(
  config: Readonly<Record<Provider, HostSignInConfig>>,
  extra: { readonly fetch?: typeof fetch; readonly timeoutMs?: number } = {},
): SignInHosts {
  return async (provider) => {
    const host = config[provider];
    const client = await host.client();
    if (!client?.clientId || !client.clientSecret) return null;
    return MAKERS[provider]({ oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client, ...extra });
  };
}
