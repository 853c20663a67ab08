import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDeploymentStore } from '../../adapters/aws/deployments-dynamodb';
import { hostCommitLog } from '../../adapters/githost/commit-log';
import { type GitHostSettings, transportFor } from '../../adapters/githost/settings';
import { StaticTokenSource, type TokenSource } from '../../adapters/githost/tokens';
import { SecretsManagerTokenSource } from '../../adapters/githost/tokens-secrets-manager';
import type { Provider } from '../../core/config/schema';
import { DeploymentRecorder } from '../../core/insight/service';
import type { HostTransport } from '../../core/status/hosts';
import type { StatusDependencies } from './observe';
import { type StatusSettings, statusSettings } from './settings';

/**
 * What the functions that post statuses build on AWS from their settings: the Git host tokens from Secrets Manager
 * (or the values of their settings), and a transport per provider.
 */
export interface StatusEnvironment {
  readonly settings: GitHostSettings;
  readonly tokens: TokenSource;
  readonly transportFor: (provider: Provider) => Promise<HostTransport | null>;
}

export function statusDependencies(settings: StatusSettings): StatusEnvironment {
  const tokens: TokenSource =
    'secretId' in settings.tokens
      ? new SecretsManagerTokenSource({ client: new SecretsManagerClient({}), secretId: settings.tokens.secretId })
      : new StaticTokenSource(settings.tokens.values);
  const gitHost = settings.gitHost;
  return { settings: gitHost, tokens, transportFor: (provider) => transportFor(provider, gitHost, tokens) };
}

/** The status handlers' dependencies, from what `statusDependencies` built. */
export function statusHandlerDependencies(status: StatusEnvironment): StatusDependencies {
  return {
    transportFor: status.transportFor,
    links: status.settings.links,
    contextPrefix: status.settings.contextPrefix,
  };
}

/**
 * The status function's delivery insight (ADR 0097): its records in the DynamoDB table, the commits each deploy
 * carried from the Git host's compare API through the statuses' own transport. No table: nothing is recorded.
 */
export function insightDependencies(
  insight: { readonly table: string | null },
  status: StatusEnvironment,
): Pick<StatusDependencies, 'deployments'> {
  if (!insight.table) return {};
  return {
    deployments: new DeploymentRecorder(new DynamoDeploymentStore(insight.table), hostCommitLog(status.transportFor)),
  };
}

/** Reads the settings and builds from them, at cold start (the approval function's entry point calls this). */
export function statusEnvironment(env: Readonly<Record<string, string | undefined>>): StatusEnvironment {
  return statusDependencies(statusSettings(env));
}
