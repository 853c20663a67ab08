import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { S3ManifestSource } from '../../adapters/aws/artifacts';
import { ClusterAccess, type ClusterHandle, readClusterAccessSettings } from '../../adapters/kubernetes/access';
import { ClusterConnector } from '../../adapters/kubernetes/connect';
import { FileManifestSource } from '../../adapters/local/artifacts';
import type { Cluster } from '../../core/config/schema';
import { ManifestsNotFound } from '../../core/deploy/errors';
import type { Clock, ManifestSource } from '../../core/deploy/ports';
import { systemClock } from '../../core/deploy/ports';
import type { ManifestFile } from '../../core/deploy/types';

/**
 * What the deploy, rollout and rollback functions need from outside, built once at cold start from the
 * environment: cluster access (EKS or the kubeconfig override), the manifest sources (S3 and local files) and a
 * clock. Tests and the local runtime build their own and pass them to the handler factories.
 */
export interface DeployDependencies {
  readonly open: (cluster: Cluster) => Promise<ClusterHandle>;
  readonly manifests: ManifestSource;
  readonly clock: Clock;
}

/** Reads `s3://` locations from S3 and `file://` locations from the disk. */
export class SchemeManifestSource implements ManifestSource {
  public constructor(
    private readonly s3: ManifestSource | null,
    private readonly files: ManifestSource,
  ) {}

  public read(location: string, path: string): Promise<ManifestFile[]> {
    if (location.startsWith('s3://')) {
      if (!this.s3) return Promise.reject(new ManifestsNotFound(`Cannot read ${location}: no S3 access here`));
      return this.s3.read(location, path);
    }
    return this.files.read(location, path);
  }
}

export function deployDependencies(env: NodeJS.ProcessEnv): DeployDependencies {
  const settings = readClusterAccessSettings(env);
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const eksClients = new Map<string, EKSClient>();
  const connector = new ClusterConnector({
    eks: (clusterRegion) => {
      let client = eksClients.get(clusterRegion);
      if (!client) {
        client = new EKSClient({ region: clusterRegion });
        eksClients.set(clusterRegion, client);
      }
      return client;
    },
    credentials: defaultProvider(),
    defaultRegion: region,
  });
  const access = new ClusterAccess(connector, settings);
  return {
    open: (cluster) => access.open(cluster),
    manifests: new SchemeManifestSource(new S3ManifestSource(new S3Client({ region })), new FileManifestSource()),
    clock: systemClock,
  };
}
