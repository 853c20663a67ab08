import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterStateError, SimulatedKubernetes } from '../../../local/services/kubernetes';
import { sharedCertificates } from './support';

/**
 * The simulated API server's state file: what was deployed is still there after a restart, with its uid,
 * generation, managed fields and resource versions, and custom resources with their CRD.
 */

let dir: string;
let stateFile: string;
const running: SimulatedKubernetes[] = [];

async function start(): Promise<{ server: SimulatedKubernetes; api: KubernetesObjectApi }> {
  const server = new SimulatedKubernetes({ certificates: sharedCertificates(), tickMs: 60_000, stateFile });
  await server.start();
  running.push(server);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return { server, api: KubernetesObjectApi.makeApiClient(kc) };
}

const deployment = (replicas: number, image: string) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  }) as KubernetesObject;

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
  },
} as KubernetesObject;

const apply = (api: KubernetesObjectApi, object: KubernetesObject, manager: string) =>
  api.patch(object, undefined, undefined, manager, false, PatchStrategy.ServerSideApply);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepline-k8s-state-'));
  stateFile = join(dir, 'kubernetes.json');
});

afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the simulated API server with a state file', () => {
  it('serves after a restart what was applied before, with its uid, generation and resource version', async () => {
    // Prepare
    const first = await start();
    await apply(first.api, deployment(2, 'nginx:1.25'), 'stepline');
    const before = await apply(first.api, deployment(3, 'nginx:1.26'), 'stepline');
    await first.server.stop();

    // Act
    const second = await start();
    const after = await second.api.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
    });
    const changed = await apply(second.api, deployment(4, 'nginx:1.26'), 'stepline');

    // Assess
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.metadata?.generation).toBe(2);
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(Number(changed.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
    expect(changed.metadata?.generation).toBe(3);
  });

  it('still knows who manages which field: another manager conflicts after the restart as before it', async () => {
    // Prepare
    const first = await start();
    await apply(first.api, deployment(2, 'nginx:1.25'), 'helm');
    await first.server.stop();

    // Act
    const second = await start();
    let code = 0;
    try {
      await apply(second.api, deployment(3, 'nginx:1.25'), 'stepline');
    } catch (error) {
      code = error instanceof ApiException ? Number(error.code) : -1;
    }

    // Assess
    expect(code).toBe(409);
  });

  it('serves custom resources again after a restart, with their definition', async () => {
    // Prepare
    const first = await start();
    await apply(first.api, crd, 'stepline');
    await apply(
      first.api,
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' } },
      'stepline',
    );
    await first.server.stop();

    // Act
    const second = await start();
    const widgets = await second.api.list('example.com/v1', 'Widget', 'default');

    // Assess
    expect(widgets.items.map((w) => w.metadata?.name)).toEqual(['w1']);
    expect(second.server.forgotten).toEqual([]);
  });

  it('writes a change within its save delay, without waiting for the stop (a kill -9 loses at most that)', async () => {
    // Prepare
    const { api } = await start();

    // Act
    await apply(api, deployment(1, 'nginx:1.25'), 'stepline');
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Assess
    expect(existsSync(stateFile)).toBe(true);
    const names = (JSON.parse(readFileSync(stateFile, 'utf8')) as { objects: { object: KubernetesObject }[] }).objects
      .filter((o) => o.object.kind === 'Deployment')
      .map((o) => o.object.metadata?.name);
    expect(names).toEqual(['web']);
  });

  it('forgets after a restart what was deleted before it, and keeps what changed since the last write', async () => {
    // Prepare
    const first = await start();
    const configMap = (name: string, value: string) =>
      ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
        data: { value },
      }) as KubernetesObject;
    await apply(first.api, configMap('kept', 'one'), 'stepline');
    await apply(first.api, configMap('deleted', 'one'), 'stepline');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await first.api.delete(configMap('deleted', 'one'));
    await apply(first.api, configMap('kept', 'two'), 'stepline');
    await first.server.stop();

    // Act
    const second = await start();
    const list = await second.api.list('v1', 'ConfigMap', 'default');

    // Assess
    expect(list.items.map((c) => [c.metadata?.name, (c as { data?: { value?: string } }).data?.value])).toEqual([
      ['kept', 'two'],
    ]);
  });

  it('refuses a state file it cannot read, naming the file and what to do', () => {
    // Prepare
    writeFileSync(stateFile, '{"format": 1, "objects": [');

    // Act
    const construct = () => new SimulatedKubernetes({ certificates: sharedCertificates(), stateFile });

    // Assess
    expect(construct).toThrow(ClusterStateError);
    expect(construct).toThrow(/kubernetes\.json cannot be read .*remove it to start with an empty cluster/);
  });
});
