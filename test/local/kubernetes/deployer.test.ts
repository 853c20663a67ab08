import * as https from 'node:https';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubernetesClusterClient } from '../../../adapters/kubernetes/client';
import { loadKubeconfig } from '../../../adapters/kubernetes/connect';
import type { DeployResult, RolloutEvent } from '../../../core/deploy/contracts';
import {
  KubernetesConflict,
  KubernetesForbidden,
  KubernetesUnreachable,
  ManifestInvalid,
  NoPreviousRevision,
} from '../../../core/deploy/errors';
import { deploy, rollback } from '../../../core/deploy/service';
import { generateCertificates } from '../../../local/services/kubernetes';
import {
  awaitRollout,
  DIGEST_V1,
  DIGEST_V2,
  deployEvent,
  environment,
  REPOSITORY,
  startCluster,
  type TestCluster,
} from './support';

let cluster: TestCluster;

type Json = Record<string, unknown>;
const containers = (object: Json | null) =>
  ((((object?.['spec'] as Json | undefined)?.['template'] as Json | undefined)?.['spec'] as Json | undefined)?.[
    'containers'
  ] as { name: string; image: string }[] | undefined) ?? [];

function rolloutEvent(result: Pick<DeployResult, 'watch' | 'rollout'> & { revision: number }): RolloutEvent {
  return {
    executionName: 'shop-main-3f78685',
    environment: environment(),
    watch: result.watch,
    deadline: result.rollout.deadline,
    revision: result.revision,
  };
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected ${type.name}`);
}

beforeEach(async () => {
  cluster = await startCluster();
});
afterEach(async () => {
  await cluster.stop();
});

describe('deploy against the simulated API server', () => {
  it('applies in dependency order with the field manager stepline, whatever the order of the files', async () => {
    // Prepare
    const ports = await cluster.ports();

    // Act
    const result = await deploy(deployEvent(), ports);

    // Assess
    const applied = cluster.server.requests.filter(
      (r) => r.verb === 'patch' && r.contentType === 'application/apply-patch+yaml',
    );
    expect(applied.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/shop',
      '/api/v1/namespaces/shop/serviceaccounts/api',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/api-reader',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/api-reader',
      '/api/v1/namespaces/shop/secrets/api-secret',
      '/api/v1/namespaces/shop/configmaps/api-config',
      '/api/v1/namespaces/shop/services/api',
      '/apis/apps/v1/namespaces/shop/deployments/api',
    ]);
    expect(new Set(applied.map((r) => r.fieldManager))).toEqual(new Set(['stepline']));
    expect(result.applied.every((a) => a.change === 'created')).toBe(true);
    expect(result.watch).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop', generation: 1 },
    ]);
  });

  it('deploys the image by digest into the container that runs it, and reports unchanged objects on a redeploy', async () => {
    // Prepare
    const ports = await cluster.ports();
    await deploy(deployEvent(), ports);

    // Act
    const again = await deploy(deployEvent({ image: { repository: REPOSITORY, digest: DIGEST_V2 } }), ports);

    // Assess
    const deployment = cluster.server.object('apps/v1', 'Deployment', 'shop', 'api');
    expect(containers(deployment)).toEqual([
      expect.objectContaining({ name: 'api', image: `${REPOSITORY}@${DIGEST_V2}` }),
      expect.objectContaining({ name: 'proxy', image: 'envoyproxy/envoy:v1.30.1' }),
    ]);
    expect(again.revision).toBe(2);
    expect(again.changed).toBe(1);
    expect(again.applied.find((a) => a.kind === 'Deployment')?.change).toBe('configured');
    expect(again.applied.filter((a) => a.change === 'unchanged')).toHaveLength(7);
  });

  it('completes a rollout and records the revision as the last good one', async () => {
    // Prepare
    const ports = await cluster.ports();
    const result = await deploy(deployEvent(), ports);

    // Act
    const rollout = await awaitRollout(rolloutEvent(result), ports);

    // Assess
    expect(rollout).toMatchObject({ state: 'done', recordedRevision: 1 });
    expect(rollout.objects).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'api',
        state: 'done',
        reason: 'deployment "api" successfully rolled out',
      }),
    ]);
    expect(await ports.revisions.list('shop', 'production')).toEqual([
      expect.objectContaining({ number: 1, status: 'deployed', image: `${REPOSITORY}@${DIGEST_V1}` }),
    ]);
  });

  it('rolls back to the previous image when the rollout hits its progress deadline', async () => {
    // Prepare
    const ports = await cluster.ports();
    const first = await deploy(deployEvent(), ports);
    await awaitRollout(rolloutEvent(first), ports);
    const broken = await deploy(
      deployEvent({ image: { repository: `${REPOSITORY}-never-ready`, digest: DIGEST_V2, containers: ['api'] } }),
      ports,
    );

    // Act
    const failed = await awaitRollout(rolloutEvent(broken), ports);
    const restored = await rollback(
      {
        executionName: 'shop-main-3f78685',
        environment: environment(),
        failedRevision: broken.revision,
        reason: failed.reason,
      },
      ports,
    );
    const recovered = await awaitRollout(rolloutEvent(restored), ports);

    // Assess
    expect(failed.state).toBe('failed');
    expect(failed.reason).toMatch(
      /^deployment "api" exceeded its progress deadline: ReplicaSet "api-\w+" has timed out progressing\.$/,
    );
    expect(restored).toMatchObject({ revision: 1, image: `${REPOSITORY}@${DIGEST_V1}`, leftover: [] });
    expect(recovered.state).toBe('done');
    expect(containers(cluster.server.object('apps/v1', 'Deployment', 'shop', 'api'))[0]!.image).toBe(
      `${REPOSITORY}@${DIGEST_V1}`,
    );
    expect((await ports.revisions.list('shop', 'production')).map((r) => [r.number, r.status])).toEqual([
      [1, 'deployed'],
      [2, 'failed'],
    ]);
  });

  it("fails a rollout that is still waiting at the environment's deadline", async () => {
    // Prepare
    const ports = await cluster.ports();
    cluster.server.controllers.stop();
    const result = await deploy(deployEvent(), ports);

    // Act
    const rollout = await awaitRollout(
      { ...rolloutEvent(result), deadline: new Date(Date.now() - 1000).toISOString() },
      ports,
    );

    // Assess
    expect(rollout.state).toBe('failed');
    expect(rollout.reason).toContain('The rollout did not complete by its deadline');
    expect(rollout.reason).toContain('Waiting for deployment spec update to be observed');
  });

  it('refuses invalid manifests before anything is applied, naming the document and the field', async () => {
    // Prepare
    const ports = await cluster.ports();

    // Act
    const error = await rejection(
      deploy(deployEvent({ environment: environment({ clusterScopedKinds: [] }) }), ports),
      ManifestInvalid,
    );

    // Assess
    expect(error.message).toContain(
      "00-namespace.yaml#1 (Namespace shop): kind Namespace is cluster-scoped and not among this environment's clusterScopedKinds (none)",
    );
    expect(cluster.server.requests.filter((r) => r.verb === 'patch')).toEqual([]);
  });

  it('names the missing permission on a 403 and lists what was applied before it', async () => {
    // Prepare
    cluster.server.deny({ verbs: ['patch'], resources: ['deployments.apps'], namespaces: ['shop'] });
    const ports = await cluster.ports();

    // Act
    const error = await rejection(deploy(deployEvent(), ports), KubernetesForbidden);

    // Assess
    expect(error.name).toBe('KubernetesForbidden');
    expect(error.message).toContain(
      'deployments.apps "api" is forbidden: User "admin" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
    );
    expect(error.message).toContain('Grant the kubeconfig user "admin" this permission');
    expect(error.message).toContain(
      'Applied before this failure: Namespace shop (created), ServiceAccount shop/api (created)',
    );
    expect(error.applied.map((a) => a.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'Secret',
      'ConfigMap',
      'Service',
    ]);
  });

  it('says on a 403 for an API group no EKS access policy covers that RBAC must grant it', async () => {
    // Prepare
    cluster.server.deny({ verbs: ['patch'], resources: ['roles.rbac.authorization.k8s.io'], namespaces: ['shop'] });
    const ports = await cluster.ports();

    // Act
    const error = await rejection(deploy(deployEvent(), ports), KubernetesForbidden);

    // Assess
    expect(error.message).toContain('cannot patch resource "roles" in API group "rbac.authorization.k8s.io"');
    expect(error.message).toContain(
      'with an RBAC Role and RoleBinding for its Kubernetes user or group: EKS access policies such as AmazonEKSEditPolicy do not cover the API group rbac.authorization.k8s.io',
    );
    expect(error.message).not.toContain('associate-access-policy');
  });

  it('names the other field manager on a 409, and takes the fields over when forced', async () => {
    // Prepare
    const ports = await cluster.ports();
    await deploy(deployEvent(), ports);
    const client = new KubernetesClusterClient(loadKubeconfig(cluster.kubeconfig, undefined).kubeConfig);
    await client.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'api', namespace: 'shop' },
        spec: { replicas: 5 },
      },
      { fieldManager: 'hpa-controller', force: true },
    );

    // Act
    const error = await rejection(deploy(deployEvent(), ports), KubernetesConflict);
    const forced = await deploy(deployEvent({ force: true }), ports);

    // Assess
    expect(error.managers).toEqual(['hpa-controller']);
    expect(error.message).toContain(
      'Apply failed with 1 conflict: conflict with "hpa-controller" using apps/v1: .spec.replicas',
    );
    expect(error.message).toContain('Field manager "hpa-controller" owns these fields');
    expect(forced.applied.find((a) => a.kind === 'Deployment')?.change).toBe('configured');
    expect(
      (cluster.server.object('apps/v1', 'Deployment', 'shop', 'api')?.['spec'] as Json | undefined)?.['replicas'],
    ).toBe(2);
  });

  it('keeps its connection to the API server across the requests of a deploy and the next deploy', async () => {
    // Prepare
    const ports = await cluster.ports();
    await ports.cluster.scopeOf('v1', 'Namespace');
    const before = cluster.server.requests.length;
    const connect = vi.spyOn(https.Agent.prototype, 'createConnection');
    let connections: number;

    // Act
    try {
      await deploy(deployEvent(), ports);
      await deploy(deployEvent({ image: { repository: REPOSITORY, digest: DIGEST_V2 } }), await cluster.ports());
    } finally {
      connections = connect.mock.calls.length;
      connect.mockRestore();
    }

    // Assess
    expect(cluster.server.requests.length - before).toBeGreaterThan(20);
    expect(connections).toBe(0);
  });

  it('reads again on a new connection when the kept one was closed under its request, and says so when it stays closed', async () => {
    // Prepare: a kept connection, then the server closes it as the next read arrives.
    const ports = await cluster.ports();
    await ports.cluster.scopeOf('v1', 'Namespace');
    await deploy(deployEvent(), ports);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api' };
    const isRead = (method: string, url: string) => method === 'GET' && url.includes('/deployments/api');
    cluster.server.dropConnectionOnNext(isRead);

    // Act
    const read = await ports.cluster.get(ref);
    cluster.server.dropConnectionOnNext(isRead);
    cluster.server.dropConnectionOnNext(isRead);
    const twice = await rejection(ports.cluster.get(ref), KubernetesUnreachable);

    // Assess
    expect(read?.metadata.name).toBe('api');
    expect(twice.message).toMatch(/Cannot reach the API server https:\/\/127\.0\.0\.1:\d+ \(ECONNRESET\) to read/);
  });

  it('lists again on a new connection when the kept ones were closed under the list', async () => {
    // Prepare: several kept connections, then the server closes the one the list arrives on.
    const ports = await cluster.ports();
    await deploy(deployEvent(), ports);
    let dropped = 0;
    cluster.server.dropConnectionOnNext((method, url) => {
      const matches = method === 'GET' && url.startsWith('/api/v1/namespaces/shop/secrets?');
      if (matches) dropped += 1;
      return matches;
    });

    // Act
    const listed = await ports.cluster.list('v1', 'Secret', 'shop', 'owner=helm');

    // Assess
    expect(dropped).toBe(1);
    expect(listed).toEqual([]);
  });

  it('refuses an API server whose certificate the configured CA did not sign', async () => {
    // Prepare
    await cluster.server.writeKubeconfig(cluster.kubeconfig, { caPem: generateCertificates().caPem });
    const ports = await cluster.ports();

    // Act
    const error = await rejection(deploy(deployEvent(), ports), KubernetesUnreachable);

    // Assess
    expect(error.message).toContain(
      "is not one the cluster's certificate authority signed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    );
  });

  it('says the API server is unreachable when nothing listens', async () => {
    // Prepare
    const ports = await cluster.ports();
    await cluster.server.stop();

    // Act
    const error = await rejection(deploy(deployEvent(), ports), KubernetesUnreachable);

    // Assess
    expect(error.message).toContain(`Cannot reach the API server ${cluster.server.url} (ECONNREFUSED)`);
  });

  it('sends fields the client library does not model, instead of dropping them (the server drops and warns)', async () => {
    // Prepare
    const client = new KubernetesClusterClient(loadKubeconfig(cluster.kubeconfig, undefined).kubeConfig);
    const object = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'future', namespace: 'default' },
      spec: { ports: [{ port: 80 }], trafficDistribution: 'PreferClose', aFieldFromTheFuture: { enabled: true } },
    };

    // Act
    await client.apply(object, { fieldManager: 'stepline', force: false });

    // Assess
    expect(cluster.server.object('v1', 'Service', 'default', 'future')?.['spec']).toMatchObject({
      trafficDistribution: 'PreferClose',
    });
    const served = cluster.server.requests.filter((r) => r.path.endsWith('/services/future') && r.method === 'PATCH');
    expect(served.at(-1)?.warnings).toEqual(['unknown field "spec.aFieldFromTheFuture"']);
  });

  it('applies a CRD before its custom resources and waits for them by their kstatus conditions', async () => {
    // Prepare
    const namespaces = cluster.server.registry.byKind('', 'v1', 'Namespace')!;
    cluster.server.store.create(
      namespaces,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { fieldManager: 'test' },
    );
    const ports = await cluster.ports();
    const event = deployEvent({
      environment: environment({ manifests: 'crd', clusterScopedKinds: ['CustomResourceDefinition'] }),
      image: { repository: REPOSITORY, digest: DIGEST_V1, containers: ['operator'] },
    });
    const result = await deploy(event, ports);
    const check = { ...rolloutEvent(result), environment: event.environment };

    // Act
    const before = await awaitRollout(check, ports, 0);
    const widgets = cluster.server.registry.byKind('example.com', 'v1', 'Widget')!;
    cluster.server.store.writeStatus(widgets, 'shop', 'gadget', {
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled' }],
    });
    const after = await awaitRollout(check, ports);

    // Assess
    expect(result.applied.map((a) => a.kind)).toEqual(['CustomResourceDefinition', 'Deployment', 'Widget']);
    expect(result.watch.map((w) => w.kind)).toEqual(['Deployment', 'Widget']);
    expect(before.objects.find((o) => o.kind === 'Widget')?.state).toBe('done');
    expect(after.state).toBe('done');
    expect(after.objects.find((o) => o.kind === 'Widget')?.reason).toBe('Widget "gadget" is ready');
  });

  it('has nothing to roll back to before a first rollout completed', async () => {
    // Prepare
    const ports = await cluster.ports();
    const first = await deploy(deployEvent(), ports);

    // Act
    const error = await rejection(
      rollback({ executionName: 'x', environment: environment(), failedRevision: first.revision }, ports),
      NoPreviousRevision,
    );

    // Assess
    expect(error.message).toBe(
      'Environment production has no earlier revision whose rollout completed (revisions in namespace shop: 1 pending); nothing to roll back to',
    );
  });
});
