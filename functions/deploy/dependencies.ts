import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { S3ManifestSource } from '../../adapters/aws/artifacts';
import { hostedConfigRepositories } from '../../adapters/githost/gitops';
import { gitHostSettings } from '../../adapters/githost/settings';
import { SecretsManagerTokenSource } from '../../adapters/githost/tokens-secrets-manager';
import { ClusterAccess } from '../../adapters/kubernetes/access';
import { ClusterConnector } from '../../adapters/kubernetes/connect';
import { systemClock } from '../../core/deploy/ports';
import { GitOpsNotConfigured } from '../../core/gitops/errors';
import type { GitOpsAccess } from '../../core/gitops/ports';
import type { ClusterDependencies, DeployDependencies } from './handler';
import type { DeploySettings } from './settings';

/**
 * The deploy, rollout and rollback functions on AWS: EKS clusters (or the kubeconfig their settings name), reached
 * with the function's own credentials, and the rendered manifests in S3. The SDK clients take their endpoints from
 * the SDK's own variables. The local runtime builds its own (local/runtime/functions.ts): local files, its
 * kubeconfig.
 */
export function clusterDependencies(settings: DeploySettings): ClusterDependencies {
  const eksClients = new Map<string, EKSClient>();
  const connector = new ClusterConnector({
    eks: (region) => {
      let client = eksClients.get(region);
      if (!client) {
        client = new EKSClient({ region });
        eksClients.set(region, client);
      }
      return client;
    },
    credentials: defaultProvider(),
    defaultRegion: settings.region,
  });
  const access = new ClusterAccess(connector, settings.cluster);
  return { open: (cluster) => access.open(cluster), clock: systemClock, ...gitopsAccess(settings) };
}

/** GitOps environments' configuration repositories on GitHub or GitLab, with the Git host tokens secret (ADR 0103). */
function gitopsAccess(settings: DeploySettings): { gitops?: GitOpsAccess } {
  const gitops = settings.gitops;
  if (!gitops) return {};
  const hosts = gitHostSettings({ baseUrls: gitops.baseUrls, runLinkUrl: gitops.runLinkUrl });
  const tokens = new SecretsManagerTokenSource({ client: new SecretsManagerClient({}), secretId: gitops.tokensSecret });
  const open = hostedConfigRepositories(hosts, tokens);
  return {
    gitops: {
      open: (repository) => {
        const found = open(repository.provider, repository.name);
        if (!found)
          throw new GitOpsNotConfigured(`${repository.provider}:${repository.name} cannot be written from AWS`);
        return found;
      },
      runLink: (name) =>
        gitops.runLinkUrl ? `${gitops.runLinkUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(name)}` : null,
    },
  };
}

/** The deploy function's: the clusters, and the manifests from S3 (`s3://` locations, as the build uploads them). */
export function deployDependencies(settings: DeploySettings): DeployDependencies {
  return {
    ...clusterDependencies(settings),
    manifests: new S3ManifestSource(new S3Client({ region: settings.region })),
  };
}
