import { gitHostCommitResolver } from '../../adapters/githost/commits';
import {
  type GitHostSettings,
  gitHostOptionsFromEnv,
  gitHostSettings,
  tokenValuesFromEnv,
} from '../../adapters/githost/settings';
import { StaticTokenSource } from '../../adapters/githost/tokens';
import { INTAKE_GITHOST_BUDGET } from '../../adapters/settings';
import type { CommitResolver } from '../../core/intake/ports';

/**
 * The Git host settings of the local runtime, from its own environment with the status functions' variable names
 * (STATUS_ENV): the links point at the local console; a token (or a GitHub App's id and key, ADR 0091) sends that
 * provider's statuses to the real host (else to the local sink), at the base URL given (GitHub Enterprise, a
 * self-managed GitLab). The variables are read as the Lambda functions read them (adapters/githost/settings.ts): an
 * API URL that is not an http(s) URL, or a budget that is not a whole number, fails the start with a `ConfigError`
 * naming the variable (they used to be passed on, or ignored, here). The tokens are the environment's: the local
 * runtime reads no tokens secret.
 *
 * `commits` asks the real host's commit API for a full commit (ADR 0090), as the webhook function does on AWS: with
 * the provider's credential, else unauthenticated (a public repository), within the intake's time budget. The local
 * webhook asks it only for a repository that is not on this machine (local/services/githost/commits.ts).
 */
export function localGitHost(
  env: Readonly<Record<string, string | undefined>>,
  consoleUrl: string,
): { readonly settings: GitHostSettings; readonly tokens: StaticTokenSource; readonly commits: CommitResolver } {
  const settings = gitHostSettings({ console: { kind: 'local', baseUrl: consoleUrl }, ...gitHostOptionsFromEnv(env) });
  const tokens = new StaticTokenSource(tokenValuesFromEnv(env));
  const commits = gitHostCommitResolver({ ...settings, ...INTAKE_GITHOST_BUDGET }, tokens);
  return { settings, tokens, commits };
}
