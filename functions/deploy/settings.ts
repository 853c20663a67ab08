import type { ClusterAccessSettings } from '../../adapters/kubernetes/access';
import type { Provider } from '../../core/config/schema';
import { DEPLOY_ENVIRONMENT_VARIABLES as VARIABLES } from '../../core/deploy/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { type Environment, optional, required, url, wholeNumber } from '../shared/settings';

/** The settings of the deploy, rollout and rollback functions: the one reader the three use. */
export interface DeploySettings {
  /** The region the function runs in: where an EKS cluster that names no region is looked up. */
  readonly region: string;
  readonly cluster: ClusterAccessSettings;
  /**
   * Configuration repositories for GitOps environments (ADR 0103): the Git host tokens secret and the status
   * functions' host settings (the API base URLs of the three hosts, ADR 0117), set by infra only when the
   * configuration has such an environment. Null: none.
   */
  readonly gitops: {
    readonly tokensSecret: string;
    readonly baseUrls: Readonly<Partial<Record<Provider, string>>>;
    readonly runLinkUrl: string | null;
  } | null;
}

/** Each host's API base URL variable, as the status functions read them (GitHub Enterprise, self-managed GitLab). */
const API_URL_VARIABLES: readonly (readonly [Provider, string])[] = [
  ['github', STATUS_ENV.githubApiUrl],
  ['gitlab', STATUS_ENV.gitlabApiUrl],
  ['bitbucket', STATUS_ENV.bitbucketApiUrl],
];

/** Default milliseconds a request to the API server may take. */
export const DEFAULT_KUBE_TIMEOUT_MS = 30_000;

/** Reads the settings, once, at cold start; a `ConfigError` names a missing or invalid variable. */
export function deploySettings(env: Environment): DeploySettings {
  const path = optional(env, VARIABLES.kubeconfig);
  const context = optional(env, VARIABLES.kubeContext);
  return {
    region: required(env, VARIABLES.region, 'the AWS region the function runs in (Lambda sets it)'),
    cluster: {
      kubeconfigOverride: path ? { path, ...(context ? { context } : {}) } : null,
      requestTimeoutMs: wholeNumber(env, VARIABLES.requestTimeoutMs, DEFAULT_KUBE_TIMEOUT_MS, 1),
    },
    gitops: gitopsSettings(env),
  };
}

function gitopsSettings(env: Environment): DeploySettings['gitops'] {
  const tokensSecret = optional(env, STATUS_ENV.tokensSecret);
  if (!tokensSecret) return null;
  const baseUrls: Partial<Record<Provider, string>> = {};
  for (const [provider, variable] of API_URL_VARIABLES) {
    const value = url(env, variable);
    if (value) baseUrls[provider] = value;
  }
  return {
    tokensSecret,
    baseUrls,
    runLinkUrl: optional(env, STATUS_ENV.runLinkUrl) ?? null,
  };
}
