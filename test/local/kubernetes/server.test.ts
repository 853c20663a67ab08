import { get } from 'node:https';
import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../../local/services/kubernetes';
import { sharedCertificates, startCluster, type TestCluster } from './support';

let cluster: TestCluster;
let api: KubernetesObjectApi;

function client(kubeconfig: string): KubernetesObjectApi {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return KubernetesObjectApi.makeApiClient(kc);
}

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels }, data }) as KubernetesObject;

const deployment = (replicas: number, image = 'nginx:1.25', extra: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, ...extra }] } },
    },
  }) as KubernetesObject;

const apply = (object: KubernetesObject, manager: string, force = false) =>
  api.patch(object, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: number; body: { message: string; reason: string } }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return { code: Number(error.code), body: JSON.parse(String(error.body)) };
    throw error;
  }
  throw new Error('expected an ApiException');
}

beforeAll(async () => {
  cluster = await startCluster({ tickMs: 60_000 });
  api = client(cluster.server.kubeconfig());
});
afterAll(async () => {
  await cluster.stop();
});
beforeEach(async () => {
  cluster.server.clearDenials();
  for (const kind of ['ConfigMap', 'Deployment']) {
    const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
    const list = await api.list(apiVersion, kind, 'default');
    for (const item of list.items) await api.delete(item);
  }
});

describe('the simulated API server: discovery', () => {
  it('serves /version, /api, /apis and the resource lists that clients discover kinds with', async () => {
    // Prepare
    const kc = new KubeConfig();
    kc.loadFromString(cluster.server.kubeconfig());
    const headers = { authorization: `Bearer ${cluster.server.adminToken}` };
    const fetchJson = (path: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        get(`${cluster.server.url}${path}`, { ca: cluster.server.caPem, headers }, (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
      });

    // Act
    const [version, core, groups, apps] = await Promise.all([
      fetchJson('/version'),
      fetchJson('/api'),
      fetchJson('/apis'),
      fetchJson('/apis/apps/v1'),
    ]);

    // Assess
    expect(version).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\./) });
    expect(core).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((groups['groups'] as { name: string }[]).map((g) => g.name)).toEqual(
      expect.arrayContaining(['apps', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io']),
    );
    expect(apps['resources']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'] }),
        expect.objectContaining({ name: 'deployments/status' }),
      ]),
    );
  });
});

describe('the simulated API server: objects', () => {
  it('creates, reads and lists objects, filtering by label selector', async () => {
    // Prepare
    await api.create(configMap('a', { k: 'v' }, { tier: 'web' }));
    await api.create(configMap('b', { k: 'v' }, { tier: 'db' }));

    // Act
    const read = await api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
    const web = await api.list(
      'v1',
      'ConfigMap',
      'default',
      undefined,
      undefined,
      undefined,
      undefined,
      'tier in (web,cache)',
    );

    // Assess
    expect(read.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(read.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(web.items.map((i) => i.metadata?.name)).toEqual(['a']);
  });

  it('answers 404 for an object that does not exist and 409 for one that already does, worded as Kubernetes does', async () => {
    // Prepare
    await api.create(configMap('a', {}));

    // Act
    const missing = await failure(
      api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope', namespace: 'default' } }),
    );
    const duplicate = await failure(api.create(configMap('a', {})));

    // Assess
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', message: 'configmaps "nope" not found' } });
    expect(duplicate).toMatchObject({
      code: 409,
      body: { reason: 'AlreadyExists', message: 'configmaps "a" already exists' },
    });
  });

  it('refuses objects in a namespace that does not exist', async () => {
    // Act
    const result = await failure(
      apply({ ...configMap('a', {}), metadata: { name: 'a', namespace: 'ghost' } }, 'stepline'),
    );

    // Assess
    expect(result).toMatchObject({ code: 404, body: { message: 'namespaces "ghost" not found' } });
  });

  it('refuses a Deployment whose selector does not match its template (422)', async () => {
    // Prepare
    const broken = deployment(1);
    (broken as unknown as { spec: { selector: unknown } }).spec.selector = { matchLabels: { app: 'other' } };

    // Act
    const result = await failure(apply(broken, 'stepline'));

    // Assess
    expect(result.code).toBe(422);
    expect(result.body.message).toContain('Deployment.apps "web" is invalid: spec.template.metadata.labels');
  });
});

describe('the simulated API server: server-side apply', () => {
  it('records the applied fields under the field manager, keyed lists by key', async () => {
    // Act
    const applied = await apply(deployment(2), 'stepline');

    // Assess
    const entry = applied.metadata?.managedFields?.find((m) => m.manager === 'stepline');
    expect(entry).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    const fields = entry!.fieldsV1 as Record<
      string,
      Record<string, Record<string, Record<string, Record<string, Record<string, unknown>>>>>
    >;
    expect(fields['f:spec']!['f:replicas']).toEqual({});
    expect(fields['f:spec']!['f:template']!['f:spec']!['f:containers']!['k:{"name":"web"}']).toMatchObject({
      'f:image': {},
      '.': {},
    });
  });

  it('bumps generation on spec changes only, and resourceVersion on every change but no change', async () => {
    // Prepare
    const first = await apply(deployment(2), 'stepline');

    // Act
    const same = await apply(deployment(2), 'stepline');
    const labelled = await apply(
      { ...deployment(2), metadata: { name: 'web', namespace: 'default', labels: { team: 'a' } } },
      'stepline',
    );
    const scaled = await apply(
      { ...deployment(3), metadata: { name: 'web', namespace: 'default', labels: { team: 'a' } } },
      'stepline',
    );

    // Assess
    expect(first.metadata?.generation).toBe(1);
    expect(same.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(labelled.metadata?.generation).toBe(1);
    expect(labelled.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('refuses with 409 to change a field another manager owns, naming it as the API server does', async () => {
    // Prepare
    await apply(deployment(2), 'helm');

    // Act
    const one = await failure(apply(deployment(3), 'stepline'));
    const two = await failure(apply(deployment(3, 'nginx:1.26'), 'stepline'));

    // Assess
    expect(one).toMatchObject({
      code: 409,
      body: {
        reason: 'Conflict',
        message: 'Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas',
      },
    });
    expect(two.body.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "helm" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it('shares a field whose value the applier does not change, and takes it over with force', async () => {
    // Prepare
    await apply(deployment(2), 'helm');

    // Act
    const shared = await apply(deployment(2), 'stepline');
    const forced = await apply(deployment(4), 'stepline', true);

    // Assess
    expect(shared.metadata?.managedFields?.map((m) => m.manager).sort()).toEqual(['helm', 'stepline']);
    expect((forced as unknown as { spec: { replicas: number } }).spec.replicas).toBe(4);
    const helm = forced.metadata?.managedFields?.find((m) => m.manager === 'helm');
    expect(JSON.stringify(helm?.fieldsV1)).not.toContain('f:replicas');
  });

  it('conflicts with a manager that updated a field with a plain patch, as kubectl edit does', async () => {
    // Prepare
    await apply(deployment(2), 'stepline');
    await api.patch({ ...deployment(5) }, undefined, undefined, 'kubectl-edit', undefined, PatchStrategy.MergePatch);

    // Act
    const result = await failure(apply(deployment(2), 'stepline'));

    // Assess
    expect(result.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
    );
  });

  it('removes a field the manager applied before and applies no more', async () => {
    // Prepare
    await apply(
      deployment(1, 'nginx:1.25', {
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      }),
      'stepline',
    );

    // Act
    const after = await apply(deployment(1, 'nginx:1.25', { env: [{ name: 'B', value: '2' }] }), 'stepline');

    // Assess
    const container = (after as unknown as { spec: { template: { spec: { containers: { env: unknown[] }[] } } } }).spec
      .template.spec.containers[0]!;
    expect(container.env).toEqual([{ name: 'B', value: '2' }]);
  });
});

describe('the simulated API server: authentication and authorization', () => {
  it('answers 401 to a token it does not know', async () => {
    // Prepare
    const stranger = client(cluster.server.kubeconfig({ token: 'not-a-token' }));

    // Act
    const result = await failure(stranger.list('v1', 'ConfigMap', 'default'));

    // Assess
    expect(result).toMatchObject({ code: 401, body: { reason: 'Unauthorized' } });
  });

  it('answers 403 worded as RBAC words it, to what a deny rule matches', async () => {
    // Prepare
    cluster.server.addToken('ci-token', { name: 'system:serviceaccount:ci:deployer', groups: [] });
    cluster.server.deny({
      users: ['system:serviceaccount:ci:deployer'],
      verbs: ['patch'],
      resources: ['deployments.apps'],
      namespaces: ['default'],
    });
    const ci = client(cluster.server.kubeconfig({ token: 'ci-token', user: 'ci' }));

    // Act
    const denied = await failure(
      ci.patch(deployment(1), undefined, undefined, 'stepline', false, PatchStrategy.ServerSideApply),
    );
    const allowed = await ci.list('v1', 'ConfigMap', 'default');

    // Assess
    expect(denied).toMatchObject({
      code: 403,
      body: {
        reason: 'Forbidden',
        message:
          'deployments.apps "web" is forbidden: User "system:serviceaccount:ci:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "default"',
      },
    });
    expect(allowed.items).toBeDefined();
  });
});

describe('the simulated API server: TLS', () => {
  it('serves a certificate only its own CA verifies', async () => {
    // Prepare
    const otherCa = generateCertificates().caPem;
    const wrong = client(cluster.server.kubeconfig({ caPem: otherCa }));

    // Act
    const refused = await wrong.list('v1', 'ConfigMap', 'default').then(
      () => null,
      (error: { code?: string; cause?: { code?: string } }) => error.code ?? error.cause?.code,
    );

    // Assess
    expect(sharedCertificates().caPem).toBe(cluster.server.caPem);
    expect(refused).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});
