import type { Cluster } from '../../core/config/schema';
import type { ClusterClient, RevisionStore } from '../../core/deploy/ports';
import { KubernetesClusterClient } from './client';
import type { ClusterConnector } from './connect';
import { SecretRevisionStore } from './revisions';

/**
 * Cluster access for the deploy functions: one client per cluster connection, kept across invocations of a
 * warm Lambda (the discovery cache stays warm too), renewed when the EKS token is renewed.
 */

/** How the clusters are reached: the deploy functions read these settings (functions/deploy/settings.ts). */
export interface ClusterAccessSettings {
  /**
   * When set, every environment's cluster is reached through this kubeconfig instead of its configured one.
   * The local runtime sets it to the simulated API server (or the developer's cluster).
   */
  readonly kubeconfigOverride: { readonly path: string; readonly context?: string } | null;
  /** Milliseconds a request to the API server may take. */
  readonly requestTimeoutMs: number;
}

export interface ClusterHandle {
  readonly cluster: ClusterClient;
  readonly revisions: RevisionStore;
}

export class ClusterAccess {
  private readonly clients = new Map<string, KubernetesClusterClient>();

  public constructor(
    private readonly connector: ClusterConnector,
    private readonly settings: ClusterAccessSettings,
  ) {}

  public async open(configured: Cluster): Promise<ClusterHandle> {
    const override = this.settings.kubeconfigOverride;
    const cluster: Cluster = override
      ? { type: 'kubeconfig', path: override.path, ...(override.context ? { context: override.context } : {}) }
      : configured;
    const { kubeConfig, identity, key } = await this.connector.connect(cluster);
    let client = this.clients.get(key);
    if (!client) {
      // Tokens rotate every 14 minutes: drop the clients of the same cluster made with older tokens.
      const prefix = key.split(':').slice(0, 3).join(':');
      for (const old of [...this.clients.keys()]) if (old.startsWith(prefix)) this.clients.delete(old);
      client = new KubernetesClusterClient(kubeConfig, { identity, timeoutMs: this.settings.requestTimeoutMs });
      this.clients.set(key, client);
    }
    return { cluster: client, revisions: new SecretRevisionStore(client) };
  }
}
