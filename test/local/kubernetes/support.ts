import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClusterAccess, type ClusterHandle } from '../../../adapters/kubernetes/access';
import { ClusterConnector } from '../../../adapters/kubernetes/connect';
import { FileManifestSource } from '../../../adapters/local/artifacts';
import type { DeployEvent, RolloutEvent, RolloutResult } from '../../../core/deploy/contracts';
import { type Clock, systemClock } from '../../../core/deploy/ports';
import { checkRollout, type DeployPorts } from '../../../core/deploy/service';
import type { RouteEnvironment } from '../../../core/intake/types';
import {
  generateCertificates,
  type ServerCertificates,
  SimulatedKubernetes,
  type SimulatedKubernetesOptions,
} from '../../../local/services/kubernetes';

/** Test support: a simulated cluster with a kubeconfig on disk, and the deployer's ports pointed at it. */

export const FIXTURES = resolve(__dirname, '../../fixtures/manifests');
export const FIXTURES_LOCATION = `file://${FIXTURES}`;
export const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
export const DIGEST_V1 = `sha256:${'a'.repeat(64)}`;
export const DIGEST_V2 = `sha256:${'b'.repeat(64)}`;
export const REPOSITORY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api';

let certificates: ServerCertificates | null = null;

/** One CA per test file: generating keys takes most of a second. */
export function sharedCertificates(): ServerCertificates {
  certificates ??= generateCertificates();
  return certificates;
}

export interface TestCluster {
  readonly server: SimulatedKubernetes;
  readonly dir: string;
  readonly kubeconfig: string;
  /** The deployer's ports (cluster client and revision store through the kubeconfig; local manifests). */
  ports(clock?: Clock): Promise<DeployPorts & ClusterHandle>;
  stop(): Promise<void>;
}

export async function startCluster(options: SimulatedKubernetesOptions = {}): Promise<TestCluster> {
  const server = new SimulatedKubernetes({
    tickMs: 10,
    timeScale: 0.005,
    certificates: sharedCertificates(),
    ...options,
  });
  await server.start();
  const dir = await mkdtemp(join(tmpdir(), 'stepline-k8s-'));
  const kubeconfig = await server.writeKubeconfig(join(dir, 'kubeconfig'));
  const access = new ClusterAccess(new ClusterConnector(null), {
    kubeconfigOverride: { path: kubeconfig },
    requestTimeoutMs: 5_000,
  });
  return {
    server,
    dir,
    kubeconfig,
    async ports(clock: Clock = systemClock) {
      const handle = await access.open({ type: 'kubeconfig', path: kubeconfig });
      return { ...handle, manifests: new FileManifestSource(), clock };
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function environment(overrides: Partial<RouteEnvironment> = {}): RouteEnvironment {
  return {
    name: 'production',
    cluster: { type: 'eks', name: 'prod' },
    namespace: 'shop',
    allowedNamespaces: [],
    clusterScopedKinds: ['Namespace'],
    manifests: 'shop',
    url: null,
    approval: null,
    rollout: { timeoutSeconds: 120, pollSeconds: 2 },
    ...overrides,
  };
}

export function deployEvent(overrides: Partial<DeployEvent> = {}): DeployEvent {
  return {
    executionName: 'shop-main-3f78685',
    request: { commit: { sha: SHA }, repository: { fullName: 'acme/shop' }, ref: { name: 'main', kind: 'branch' } },
    environment: environment(),
    image: { repository: REPOSITORY, digest: DIGEST_V1 },
    manifestsLocation: FIXTURES_LOCATION,
    ...overrides,
  };
}

/** Checks the rollout until it is no longer waiting (the simulated controllers step every 10 ms). */
export async function awaitRollout(
  event: RolloutEvent,
  ports: Pick<DeployPorts, 'cluster' | 'revisions' | 'clock'>,
  maxChecks = 400,
): Promise<RolloutResult> {
  let result = await checkRollout(event, ports);
  for (let i = 0; i < maxChecks && result.state === 'waiting'; i += 1) {
    await new Promise((r) => setTimeout(r, 10));
    result = await checkRollout(event, ports);
  }
  return result;
}
