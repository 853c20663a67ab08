import {
  GITHOST_DEFAULTS,
  type GitHostSettings,
  type GitHostTokenSettings,
  gitHostOptionsFromEnv,
  gitHostSettings,
  gitHostTokensFromEnv,
  runLinkUrlFromEnv,
} from '../../adapters/githost/settings';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { type Environment, oneOf, optional, url } from '../shared/settings';

/**
 * The settings of the functions that post commit statuses (status, build-events, execution-events, and the
 * approval task): the one reader they share, called once, at cold start. A `ConfigError` names a variable that is
 * invalid; every variable is optional. The Git host variables (API URLs, budget, tokens) are read as every reader of
 * them does, by adapters/githost/settings.ts.
 */
export interface StatusSettings {
  readonly gitHost: GitHostSettings;
  /** Where the Git host tokens come from: the Secrets Manager secret (AWS), else the values in the environment. */
  readonly tokens: GitHostTokenSettings;
}

export function statusSettings(env: Environment): StatusSettings {
  const kind = oneOf(env, STATUS_ENV.consoleKind, ['aws', 'local'], 'aws');
  return {
    gitHost: gitHostSettings({
      console:
        kind === 'local'
          ? { kind, baseUrl: url(env, STATUS_ENV.consoleUrl) ?? GITHOST_DEFAULTS.localConsoleUrl }
          : { kind, region: optional(env, STATUS_ENV.region) },
      ...gitHostOptionsFromEnv(env),
      runLinkUrl: runLinkUrlFromEnv(env),
    }),
    tokens: gitHostTokensFromEnv(env),
  };
}

/** The status function's delivery insight (ADR 0097): the table its deployment records go to, or none. */
export function insightSettings(env: Environment): { readonly table: string | null } {
  return { table: optional(env, INSIGHT_ENV.table) };
}
