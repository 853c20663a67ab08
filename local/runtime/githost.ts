import { type GitHostSettings, gitHostSettings } from '../../adapters/githost/settings';
import { StaticTokenSource } from '../../adapters/githost/tokens';
import { STATUS_ENV } from '../../core/status/contracts';

/**
 * The Git host settings of the local runtime, from its own environment with the status functions' variable names
 * (STATUS_ENV): the links point at the local console; a token sends that provider's statuses to the real host
 * (else to the local sink), at the base URL given (GitHub Enterprise, a self-managed GitLab). The Lambda functions
 * read the same names in functions/status/settings.ts.
 */
export function localGitHost(
  env: Readonly<Record<string, string | undefined>>,
  consoleUrl: string,
): { readonly settings: GitHostSettings; readonly tokens: StaticTokenSource } {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  const number = (name: string): number | undefined => {
    const n = Number(value(name));
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  return {
    settings: gitHostSettings({
      console: { kind: 'local', baseUrl: consoleUrl },
      baseUrls: {
        github: value(STATUS_ENV.githubApiUrl),
        gitlab: value(STATUS_ENV.gitlabApiUrl),
        bitbucket: value(STATUS_ENV.bitbucketApiUrl),
      },
      timeoutMs: number(STATUS_ENV.httpTimeoutMs),
      retries: number(STATUS_ENV.httpRetries),
      maxWaitMs: number(STATUS_ENV.maxRetryWaitMs),
      contextPrefix: value(STATUS_ENV.contextPrefix),
    }),
    tokens: new StaticTokenSource({
      github: value(STATUS_ENV.githubToken),
      gitlab: value(STATUS_ENV.gitlabToken),
      bitbucket: value(STATUS_ENV.bitbucketToken),
      bitbucketUsername: value(STATUS_ENV.bitbucketUsername),
      bitbucketAppPassword: value(STATUS_ENV.bitbucketAppPassword),
    }),
  };
}
