import { gitHostApiUrlsFromEnv, runLinkUrlFromEnv, tokensSecretFromEnv } from '../../adapters/githost/settings';
import type { ClusterAccessSettings } from '../../adapters/kubernetes/access';
import type { Provider } from '../../core/config/schema';
import { DEPLOY_ENVIRONMENT_VARIABLES as VARIABLES } from '../../core/deploy/contracts';
import { type Environment, optional, required, wholeNumber } from '../shared/settings';

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

/** The Git host variables as the status functions read them (adapters/githost/settings.ts), with the secret only. */
function gitopsSettings(env: Environment): DeploySettings['gitops'] {
  const tokensSecret = tokensSecretFromEnv(env);
  if (!tokensSecret) return null;
  return { tokensSecret, baseUrls: gitHostApiUrlsFromEnv(env), runLinkUrl: runLinkUrlFromEnv(env) };
}
