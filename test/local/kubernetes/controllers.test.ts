import { KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from './support';

/** The controllers step only when the test says so (tick), so every step can be observed. */
let cluster: TestCluster;
let api: KubernetesObjectApi;

type Json = Record<string, unknown>;
const status = (object: Json | null) => (object?.['status'] ?? {}) as Json;
const annotations = (object: Json | null) =>
  ((object?.['metadata'] as Json | undefined)?.['annotations'] ?? {}) as Record<string, string>;

function workload(kind: string, name: string, image: string, spec: Json = {}): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
      ...spec,
    },
  } as KubernetesObject;
}

const apply = (object: KubernetesObject) =>
  api.patch(object, undefined, undefined, 'stepline', false, PatchStrategy.ServerSideApply);
const live = (kind: string, name: string) => cluster.server.object('apps/v1', kind, 'default', name) as Json | null;
const replicaSets = (owner: string) =>
  (cluster.server.store.list(cluster.server.registry.byKind('apps', 'v1', 'ReplicaSet')!, 'default') as Json[]).filter(
    (rs) => ((rs['metadata'] as Json)['name'] as string).startsWith(`${owner}-`),
  );

function tickUntil(done: () => boolean, max = 50): number {
  for (let i = 1; i <= max; i += 1) {
    cluster.server.tick();
    if (done()) return i;
  }
  throw new Error('the controllers did not get there');
}

beforeAll(async () => {
  cluster = await startCluster({ tickMs: 60_000, timeScale: 0.001 });
  const kc = new KubeConfig();
  kc.loadFromString(cluster.server.kubeconfig());
  api = KubernetesObjectApi.makeApiClient(kc);
});
afterAll(async () => {
  await cluster.stop();
});

describe('the simulated Deployment controller', () => {
  it('rolls a new Deployment out step by step: a ReplicaSet owned by it, revision 1, pods available one per step', async () => {
    // Prepare
    await apply(workload('Deployment', 'web', 'nginx:1.25', { replicas: 3 }));

    // Act
    cluster.server.tick();
    const early = status(live('Deployment', 'web'));
    const steps = tickUntil(() => status(live('Deployment', 'web'))['availableReplicas'] === 3);

    // Assess
    expect(early['observedGeneration']).toBe(1);
    expect(early['availableReplicas']).toBeLessThan(3);
    expect(steps).toBeGreaterThan(1);
    const [rs] = replicaSets('web');
    expect(annotations(rs!)['deployment.kubernetes.io/revision']).toBe('1');
    expect((rs!['metadata'] as Json)['ownerReferences']).toEqual([
      expect.objectContaining({
        kind: 'Deployment',
        name: 'web',
        controller: true,
        uid: (live('Deployment', 'web')!['metadata'] as Json)['uid'],
      }),
    ]);
    cluster.server.tick();
    expect(status(live('Deployment', 'web'))['conditions']).toEqual([
      expect.objectContaining({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }),
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }),
    ]);
  });

  it('replaces pods within maxSurge and maxUnavailable on a new template, with revision 2', async () => {
    // Prepare
    await apply(workload('Deployment', 'api', 'api:1', { replicas: 4 }));
    tickUntil(
      () =>
        status(live('Deployment', 'api'))['availableReplicas'] === 4 &&
        status(live('Deployment', 'api'))['updatedReplicas'] === 4,
    );

    // Act
    await apply(workload('Deployment', 'api', 'api:2', { replicas: 4 }));
    const pods: number[] = [];
    const available: number[] = [];
    const steps = tickUntil(() => {
      const all = replicaSets('api');
      pods.push(all.reduce((sum, rs) => sum + Number((rs['spec'] as Json)['replicas']), 0));
      available.push(all.reduce((sum, rs) => sum + Number(status(rs)['availableReplicas'] ?? 0), 0));
      const s = status(live('Deployment', 'api'));
      return s['updatedReplicas'] === 4 && s['replicas'] === 4 && s['availableReplicas'] === 4;
    });

    // Assess: 25% of 4 is 1 pod over (surge) and 1 pod under (unavailable), at every step.
    expect(steps).toBeGreaterThan(2);
    expect(Math.max(...pods)).toBeLessThanOrEqual(5);
    expect(Math.min(...available)).toBeGreaterThanOrEqual(3);
    const revisions = replicaSets('api')
      .map((rs) => annotations(rs)['deployment.kubernetes.io/revision'])
      .sort();
    expect(revisions).toEqual(['1', '2']);
    expect(annotations(live('Deployment', 'api'))['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('ends in ProgressDeadlineExceeded when the new image never becomes ready, and keeps the old pods', async () => {
    // Prepare
    await apply(workload('Deployment', 'shop', 'shop:1', { replicas: 2, progressDeadlineSeconds: 30 }));
    tickUntil(() => status(live('Deployment', 'shop'))['availableReplicas'] === 2);

    // Act
    await apply(workload('Deployment', 'shop', 'shop:2-never-ready', { replicas: 2, progressDeadlineSeconds: 30 }));
    cluster.server.tick();
    await new Promise((r) => setTimeout(r, 60));
    cluster.server.tick();

    // Assess
    const s = status(live('Deployment', 'shop'));
    expect(s['conditions']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }),
      ]),
    );
    expect(s['availableReplicas']).toBe(2);
    expect(s['updatedReplicas']).toBe(1);
  });

  it('takes the old ReplicaSet back, as the newest revision, when the old template is applied again', async () => {
    // Prepare: shop is stuck on a never-ready image (previous test).
    const before = replicaSets('shop');

    // Act
    await apply(workload('Deployment', 'shop', 'shop:1', { replicas: 2, progressDeadlineSeconds: 30 }));
    tickUntil(() => {
      const s = status(live('Deployment', 'shop'));
      return s['updatedReplicas'] === 2 && s['replicas'] === 2 && s['availableReplicas'] === 2;
    });

    // Assess
    const after = replicaSets('shop');
    expect(after).toHaveLength(before.length);
    const first = after.find(
      (rs) =>
        ((rs['spec'] as Json)['template'] as Json as { spec: { containers: { image: string }[] } }).spec.containers[0]!
          .image === 'shop:1',
    )!;
    expect(annotations(first)['deployment.kubernetes.io/revision']).toBe('3');
    expect(status(live('Deployment', 'shop'))['conditions']).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetAvailable' })]),
    );
  });
});

describe('the simulated StatefulSet and DaemonSet controllers', () => {
  it('rolls a StatefulSet pod by pod until the update revision is the current one', async () => {
    // Prepare
    await apply(workload('StatefulSet', 'db', 'db:1', { replicas: 3, serviceName: 'db' }));
    tickUntil(() => status(live('StatefulSet', 'db'))['readyReplicas'] === 3);

    // Act
    await apply(workload('StatefulSet', 'db', 'db:2', { replicas: 3, serviceName: 'db' }));
    cluster.server.tick();
    const during = status(live('StatefulSet', 'db'));
    tickUntil(() => {
      const s = status(live('StatefulSet', 'db'));
      return s['currentRevision'] === s['updateRevision'];
    });

    // Assess
    expect(during['currentRevision']).not.toBe(during['updateRevision']);
    expect(status(live('StatefulSet', 'db'))).toMatchObject({
      readyReplicas: 3,
      updatedReplicas: 3,
      observedGeneration: 2,
    });
  });

  it('rolls a DaemonSet over every node', async () => {
    // Prepare
    await apply(workload('DaemonSet', 'agent', 'agent:1'));

    // Act
    const steps = tickUntil(() => {
      const s = status(live('DaemonSet', 'agent'));
      return s['updatedNumberScheduled'] === 2 && s['numberAvailable'] === 2;
    });

    // Assess
    expect(steps).toBeGreaterThan(1);
    expect(status(live('DaemonSet', 'agent'))).toMatchObject({ desiredNumberScheduled: 2, observedGeneration: 1 });
  });
});
