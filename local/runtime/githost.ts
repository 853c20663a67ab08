import { gitHostCommitResolver } from '../../adapters/githost/commits';
import { type GitHostSettings, gitHostSettings } from '../../adapters/githost/settings';
import { StaticTokenSource } from '../../adapters/githost/tokens';
import { INTAKE_GITHOST_BUDGET } from '../../adapters/settings';
import type { CommitResolver } from '../../core/intake/ports';
import { STATUS_ENV } from '../../core/status/contracts';

/**
 * The Git host settings of the local runtime, from its own environment with the status functions' variable names
 * (STATUS_ENV): the links point at the local console; a token (or a GitHub App's id and key, ADR 0091) sends that
 * provider's statuses to the real host (else to the local sink), at the base URL given (GitHub Enterprise, a
 * self-managed GitLab). The Lambda functions read the same names in functions/status/settings.ts.
 *
 * `commits` asks the real host's commit API for a full commit (ADR 0090), as the webhook function does on AWS: with
 * the provider's credential, else unauthenticated (a public repository), within the intake's time budget. The local
 * webhook asks it only for a repository that is not on this machine (local/services/githost/commits.ts).
 */
export function localGitHost(
  env: Readonly<Record<string, string | undefined>>,
  consoleUrl: string,
): { readonly settings: GitHostSettings; readonly tokens: StaticTokenSource; readonly commits: CommitResolver } {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  const number = (name: string): number | undefined => {
    const n = Number(value(name));
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const settings = gitHostSettings({
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
  });
  const tokens = new StaticTokenSource({
    github: value(STATUS_ENV.githubToken),
    gitlab: value(STATUS_ENV.gitlabToken),
    bitbucket: value(STATUS_ENV.bitbucketToken),
    bitbucketUsername: value(STATUS_ENV.bitbucketUsername),
    bitbucketAppPassword: value(STATUS_ENV.bitbucketAppPassword),
    githubAppId: value(STATUS_ENV.githubAppId),
    githubAppPrivateKey: value(STATUS_ENV.githubAppPrivateKey),
  });
  const commits = gitHostCommitResolver({ ...settings, ...INTAKE_GITHOST_BUDGET }, tokens);
  return { settings, tokens, commits };
}
