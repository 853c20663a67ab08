import { statSync } from 'node:fs';
import { DescribeClusterCommand, type DescribeClusterCommandOutput, type EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Cluster } from '../../core/config/schema';
import { ClusterLookupFailed } from '../../core/deploy/errors';
import { EksTokenCache } from './token';

/**
 * How the deployer reaches an environment's cluster, as a KubeConfig for @kubernetes/client-node:
 * - `{ type: 'eks', name, region }`: endpoint and CA from EKS DescribeCluster (kept for an hour), a bearer
 *   token made like `aws eks get-token` (kept for 14 minutes); the CA is always pinned.
 * - `{ type: 'kubeconfig', path, context }`: a kubeconfig file (default $KUBECONFIG, then ~/.kube/config) and
 *   context (default its current one), for the local runtime and for clusters that are not EKS. A context that
 *   turns off certificate verification is refused: Stepline always verifies the API server.
 */

export interface ClusterEndpoint {
  readonly endpoint: string;
  /** PEM of the cluster's CA. */
  readonly caPem: string;
}

export interface EksAccess {
  readonly eks: (region: string) => EKSClient;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The region of clusters that name none: the region Stepline runs in. */
  readonly defaultRegion: string;
  readonly tokens?: EksTokenCache;
  readonly now?: () => Date;
}

const ENDPOINT_TTL_MS = 60 * 60 * 1000;

export class ClusterConnector {
  private readonly endpoints = new Map<string, { endpoint: ClusterEndpoint; until: number }>();
  private readonly tokens: EksTokenCache;
  private readonly now: () => Date;
  /** Kubeconfig files read, by path and context, with the file's version (mtime and size) they were read at. */
  private readonly kubeconfigs = new Map<string, { version: string; loaded: ReturnType<typeof loadKubeconfig> }>();

  public constructor(private readonly access: EksAccess | null) {
    this.now = access?.now ?? (() => new Date());
    this.tokens = access?.tokens ?? new EksTokenCache(undefined, this.now);
  }

  /** A KubeConfig for the cluster, with a fresh token where one is needed; and who Stepline is to it. */
  public async connect(cluster: Cluster): Promise<{ kubeConfig: KubeConfig; identity: string; key: string }> {
    if (cluster.type === 'kubeconfig')
      return {
        ...this.kubeconfig(cluster.path, cluster.context),
        key: `kubeconfig:${cluster.path ?? ''}:${cluster.context ?? ''}`,
      };
    if (!this.access)
      throw new ClusterLookupFailed(`Cluster ${cluster.name} is an EKS cluster, but no AWS access was configured`);
    const region = cluster.region ?? this.access.defaultRegion;
    const endpoint = await this.describe(cluster.name, region);
    const token = await this.tokens.get({ clusterName: cluster.name, region, credentials: this.access.credentials });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: cluster.name,
          server: endpoint.endpoint,
          caData: Buffer.from(endpoint.caPem).toString('base64'),
          skipTLSVerify: false,
        },
      ],
      users: [{ name: 'stepline', token }],
      contexts: [{ name: cluster.name, cluster: cluster.name, user: 'stepline' }],
      currentContext: cluster.name,
    });
    return {
      kubeConfig,
      identity: `the IAM role of the deploy function (its EKS access entry on cluster ${cluster.name})`,
      key: `eks:${region}:${cluster.name}:${token}`,
    };
  }

  /**
   * A kubeconfig file, read again only when it changed (its mtime or size): every deploy opens its cluster, and
   * parsing the file (YAML, certificates) each time costs more than the stat.
   */
  private kubeconfig(path: string | undefined, context: string | undefined): ReturnType<typeof loadKubeconfig> {
    if (path === undefined) return loadKubeconfig(path, context);
    let version: string;
    try {
      const stat = statSync(path);
      version = `${stat.mtimeMs}:${stat.size}`;
    } catch {
      return loadKubeconfig(path, context);
    }
    const key = `${path}\0${context ?? ''}`;
    const cached = this.kubeconfigs.get(key);
    if (cached?.version === version) return cached.loaded;
    const loaded = loadKubeconfig(path, context);
    this.kubeconfigs.set(key, { version, loaded });
    return loaded;
  }

  /** Endpoint and CA of an EKS cluster (DescribeCluster, kept for an hour). */
  public async describe(name: string, region: string): Promise<ClusterEndpoint> {
    const key = `${region}/${name}`;
    const cached = this.endpoints.get(key);
    if (cached && cached.until > this.now().getTime()) return cached.endpoint;
    if (!this.access)
      throw new ClusterLookupFailed(`Cluster ${name} is an EKS cluster, but no AWS access was configured`);
    let output: DescribeClusterCommandOutput;
    try {
      output = await this.access.eks(region).send(new DescribeClusterCommand({ name }));
    } catch (error) {
      const errorName = error instanceof Error ? error.name : 'Error';
      const reason =
        errorName === 'ResourceNotFoundException'
          ? `there is no EKS cluster named "${name}" in ${region}`
          : errorName === 'AccessDeniedException'
            ? `the deploy function's role may not call eks:DescribeCluster on "${name}" in ${region}`
            : `${errorName}: ${error instanceof Error ? error.message : String(error)}`;
      throw new ClusterLookupFailed(`Cannot look up EKS cluster ${name}: ${reason}`, { cause: error });
    }
    const described = output.cluster;
    if (!described || (described.status !== 'ACTIVE' && described.status !== 'UPDATING')) {
      throw new ClusterLookupFailed(
        `EKS cluster ${name} in ${region} is ${described?.status ?? 'unknown'}, not ACTIVE`,
      );
    }
    if (!described.endpoint || !described.certificateAuthority?.data) {
      throw new ClusterLookupFailed(`EKS cluster ${name} in ${region} has no endpoint or certificate authority yet`);
    }
    const endpoint = {
      endpoint: described.endpoint,
      caPem: Buffer.from(described.certificateAuthority.data, 'base64').toString('utf8'),
    };
    this.endpoints.set(key, { endpoint, until: this.now().getTime() + ENDPOINT_TTL_MS });
    return endpoint;
  }
}

/** Loads a kubeconfig file and selects a context; refuses contexts that skip TLS verification. */
export function loadKubeconfig(
  path: string | undefined,
  context: string | undefined,
): { kubeConfig: KubeConfig; identity: string } {
  const kubeConfig = new KubeConfig();
  const where = path ?? '$KUBECONFIG or ~/.kube/config';
  try {
    if (path) kubeConfig.loadFromFile(path);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new ClusterLookupFailed(
      `Cannot read the kubeconfig ${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (context) {
    if (!kubeConfig.getContextObject(context)) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new ClusterLookupFailed(
        `The kubeconfig ${where} has no context "${context}" (contexts: ${known.join(', ') || 'none'})`,
      );
    }
    kubeConfig.setCurrentContext(context);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new ClusterLookupFailed(`The kubeconfig ${where} has no current context with a cluster`);
  if (cluster.skipTLSVerify) {
    throw new ClusterLookupFailed(
      `The kubeconfig ${where} context "${kubeConfig.getCurrentContext()}" turns off certificate verification (insecure-skip-tls-verify); Stepline always verifies the API server: give the cluster's certificate-authority instead`,
    );
  }
  if (!cluster.server.startsWith('https://')) {
    throw new ClusterLookupFailed(
      `The kubeconfig ${where} points at ${cluster.server}; Stepline only talks to API servers over HTTPS`,
    );
  }
  const user = kubeConfig.getCurrentUser();
  return { kubeConfig, identity: `the kubeconfig user "${user?.name ?? 'unknown'}"` };
}
