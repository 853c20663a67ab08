import { GITHOST_DEFAULTS, type GitHostSettings, gitHostSettings } from '../../adapters/githost/settings';
import type { TokenValues } from '../../adapters/githost/tokens';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { type Environment, oneOf, optional, url, wholeNumber } from '../shared/settings';

/**
 * The settings of the functions that post commit statuses (status, build-events, execution-events, and the
 * approval task): the one reader they share, called once, at cold start. A `ConfigError` names a variable that is
 * invalid; every variable is optional.
 */
export interface StatusSettings {
  readonly gitHost: GitHostSettings;
  /** Where the Git host tokens come from: the Secrets Manager secret (AWS), else the values in the environment. */
  readonly tokens: { readonly secretId: string } | { readonly values: TokenValues };
}

export function statusSettings(env: Environment): StatusSettings {
  const kind = oneOf(env, STATUS_ENV.consoleKind, ['aws', 'local'], 'aws');
  const secretId = optional(env, STATUS_ENV.tokensSecret);
  return {
    gitHost: gitHostSettings({
      console:
        kind === 'local'
          ? { kind, baseUrl: url(env, STATUS_ENV.consoleUrl) ?? GITHOST_DEFAULTS.localConsoleUrl }
          : { kind, region: optional(env, STATUS_ENV.region) },
      baseUrls: {
        github: url(env, STATUS_ENV.githubApiUrl) ?? undefined,
        gitlab: url(env, STATUS_ENV.gitlabApiUrl) ?? undefined,
        bitbucket: url(env, STATUS_ENV.bitbucketApiUrl) ?? undefined,
      },
      timeoutMs: wholeNumber(env, STATUS_ENV.httpTimeoutMs, GITHOST_DEFAULTS.timeoutMs, 1),
      retries: wholeNumber(env, STATUS_ENV.httpRetries, GITHOST_DEFAULTS.retries),
      maxWaitMs: wholeNumber(env, STATUS_ENV.maxRetryWaitMs, GITHOST_DEFAULTS.maxWaitMs),
      contextPrefix: optional(env, STATUS_ENV.contextPrefix) ?? undefined,
      runLinkUrl: url(env, STATUS_ENV.runLinkUrl),
    }),
    tokens: secretId
      ? { secretId }
      : {
          values: {
            github: optional(env, STATUS_ENV.githubToken),
            gitlab: optional(env, STATUS_ENV.gitlabToken),
            bitbucket: optional(env, STATUS_ENV.bitbucketToken),
            bitbucketUsername: optional(env, STATUS_ENV.bitbucketUsername),
            bitbucketAppPassword: optional(env, STATUS_ENV.bitbucketAppPassword),
            githubAppId: optional(env, STATUS_ENV.githubAppId),
            githubAppPrivateKey: optional(env, STATUS_ENV.githubAppPrivateKey),
          },
        },
  };
}

/** The status function's delivery insight (ADR 0097): the table its deployment records go to, or none. */
export function insightSettings(env: Environment): { readonly table: string | null } {
  return { table: optional(env, INSIGHT_ENV.table) };
}
