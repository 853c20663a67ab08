import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  type V1ConfigMap,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../local/kubernetes/support';

/**
 * The simulated Kubernetes API server held against the real kubectl (Debian's, `/usr/bin/kubectl`; $KUBECTL names
 * another). The controllers step only when a test ticks them, so every rollout is driven by explicit steps; a
 * kubectl that blocks (rollout status, wait, get -w) runs as a child process while the test ticks until it has
 * printed what it must. The last block holds @kubernetes/client-node's Watch and informer against the server.
 */

const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';
let cluster: TestCluster;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function kubectl(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', cluster.kubeconfig, '--cache-dir', join(cluster.dir, 'cache'), ...args],
      { timeout: 30_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const result = await kubectl(args, env);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Applies a manifest (YAML text) with kubectl's client-side apply, validation on. */
async function apply(yaml: string, ...extra: string[]): Promise<Result> {
  const file = join(cluster.dir, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  return kubectl(['apply', '-f', file, ...extra]);
}

/** A kubectl that keeps running; `output()` is what it printed so far. */
function background(args: readonly string[]): { child: ChildProcess; output: () => string; exited: Promise<number> } {
  let text = '';
  const child = spawn(KUBECTL, [
    '--kubeconfig',
    cluster.kubeconfig,
    '--cache-dir',
    join(cluster.dir, 'cache'),
    ...args,
  ]);
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return { child, output: () => text, exited };
}

/** Steps the controllers until `done()` holds (a step, then a turn of the event loop for the clients). */
async function tickUntil(done: () => boolean, max = 200): Promise<void> {
  for (let i = 0; i < max && !done(); i += 1) {
    cluster.server.tick();
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!done()) throw new Error('the condition was not met');
}

/** Lets the client's requests through without stepping the controllers. */
async function until(done: () => boolean, max = 500): Promise<void> {
  for (let i = 0; i < max && !done(); i += 1) await new Promise((r) => setTimeout(r, 20));
  if (!done()) throw new Error('the condition was not met');
}

type Json = Record<string, unknown>;
const live = (kind: string, namespace: string, name: string, apiVersion = 'apps/v1') =>
  cluster.server.object(apiVersion, kind, namespace, name) as Json | null;
const at = (object: Json | null, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Json | null | undefined)?.[key], object);
const containersOf = (deployment: Json | null) =>
  (at(deployment, 'spec', 'template', 'spec', 'containers') ?? []) as Json[];
const revisionOf = (ns: string) =>
  at(live('Deployment', ns, 'web'), 'metadata', 'annotations', 'deployment.kubernetes.io/revision');
const availableOf = (ns: string) => at(live('Deployment', ns, 'web'), 'status', 'availableReplicas');

function deploymentYaml(namespace: string, webImage: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${namespace}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${webImage}
        command: ["nginx", "-g", "daemon off;"]
        env:
        - {name: MODE, value: live}
        ports:
        - containerPort: 80
      - name: sidecar
        image: busybox:1.36
        command: ["sleep", "infinity"]
${extra}`;
}

async function namespace(name: string): Promise<string> {
  await ok(['create', 'namespace', name]);
  return name;
}

describe.runIf(existsSync(KUBECTL))('kubectl against the simulated API server', () => {
  beforeAll(async () => {
    cluster = await startCluster({ tickMs: 3_600_000, timeScale: 0.001, bookmarkMs: 3_600_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  describe('strategic merge patch', () => {
    it('keeps the other containers, their command and env through a second apply that changes one image', async () => {
      // Prepare
      const ns = await namespace('apply-twice');
      expect((await apply(deploymentYaml(ns, 'nginx:1.25'))).code).toBe(0);

      // Act
      const second = await apply(deploymentYaml(ns, 'nginx:1.26'));

      // Assess
      expect(second.stdout).toContain('deployment.apps/web configured');
      const containers = containersOf(live('Deployment', ns, 'web'));
      expect(containers.map((c) => [c['name'], c['image']])).toEqual([
        ['web', 'nginx:1.26'],
        ['sidecar', 'busybox:1.36'],
      ]);
      expect(containers[0]).toMatchObject({
        command: ['nginx', '-g', 'daemon off;'],
        env: [{ name: 'MODE', value: 'live' }],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
      });
      expect(JSON.stringify(live('Deployment', ns, 'web'))).not.toContain('$setElementOrder');
    });

    it('merges patch, set image and edit by the containers and env names, keeping the rest', async () => {
      // Prepare
      const ns = await namespace('patch-edit');
      await apply(deploymentYaml(ns, 'nginx:1.25'));
      const editor = join(cluster.dir, 'editor.sh');
      await writeFile(editor, '#!/bin/sh\nsed -i "s/busybox:1.37/busybox:1.38/" "$1"\n', { mode: 0o755 });

      // Act
      await ok([
        'patch',
        '-n',
        ns,
        'deployment',
        'web',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]}]}}}}',
      ]);
      await ok(['set', 'image', '-n', ns, 'deployment/web', 'sidecar=busybox:1.37']);
      await ok(['edit', '-n', ns, 'deployment/web'], { KUBE_EDITOR: editor, EDITOR: editor });

      // Assess
      const [web, sidecar] = containersOf(live('Deployment', ns, 'web'));
      expect(web).toMatchObject({
        image: 'nginx:1.25',
        command: ['nginx', '-g', 'daemon off;'],
        env: [
          { name: 'MODE', value: 'live' },
          { name: 'EXTRA', value: '1' },
        ],
      });
      expect(sidecar).toMatchObject({ name: 'sidecar', image: 'busybox:1.38', command: ['sleep', 'infinity'] });
    });

    it('honours $patch, $retainKeys, $setElementOrder and $deleteFromPrimitiveList sent with kubectl patch', async () => {
      // Prepare
      const ns = await namespace('directives');
      await apply(
        deploymentYaml(
          ns,
          'nginx:1.25',
          `      volumes:
      - name: cache
        emptyDir: {}
`,
        ),
      );
      await ok([
        'patch',
        '-n',
        ns,
        'deployment',
        'web',
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":["a.example/x","b.example/y"]}}',
      ]);

      // Act
      await ok([
        'patch',
        '-n',
        ns,
        'deployment',
        'web',
        '-p',
        JSON.stringify({
          metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/x'] },
          spec: {
            strategy: { $retainKeys: ['type'], type: 'Recreate' },
            template: {
              spec: {
                '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
                containers: [{ name: 'sidecar', env: [{ name: 'X', value: '1' }] }],
                volumes: [{ name: 'cache', $retainKeys: ['name', 'configMap'], configMap: { name: 'settings' } }],
              },
            },
          },
        }),
      ]);
      await ok([
        'patch',
        '-n',
        ns,
        'deployment',
        'web',
        '-p',
        JSON.stringify({
          spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } },
        }),
      ]);

      // Assess
      const deployment = live('Deployment', ns, 'web')!;
      expect((deployment['metadata'] as Json)['finalizers']).toEqual(['b.example/y']);
      expect((deployment['spec'] as Json)['strategy']).toEqual({ type: 'Recreate' });
      const spec = ((deployment['spec'] as Json)['template'] as Json)['spec'] as Json;
      expect((spec['containers'] as Json[]).map((c) => c['name'])).toEqual(['web']);
      expect(spec['volumes']).toEqual([{ name: 'cache', configMap: { name: 'settings', defaultMode: 420 } }]);
    });
  });

  describe('OpenAPI, validation and defaults', () => {
    it('applies and replaces with validation on, and explains a field from the served v3 and v2 (protobuf) documents', async () => {
      // Prepare
      const ns = await namespace('openapi');
      const file = join(cluster.dir, 'replace.yaml');
      await writeFile(file, deploymentYaml(ns, 'nginx:1.27'));

      // Act
      const applied = await apply(deploymentYaml(ns, 'nginx:1.25'));
      const replaced = await kubectl(['replace', '-f', file]);
      const explained = await ok(['explain', 'deployment.spec.template.spec.containers.env']);
      const fromV2 = await ok(['explain', 'deployment.spec.replicas', '--output=plaintext-openapiv2']);

      // Assess
      expect(applied).toMatchObject({ code: 0, stderr: '' });
      expect(replaced).toMatchObject({ code: 0, stdout: 'deployment.apps/web replaced\n' });
      expect(explained).toMatch(/KIND:\s+Deployment/);
      expect(explained).toMatch(/FIELD: env <\[\]EnvVar>/);
      expect(explained).toMatch(/valueFrom\s+<EnvVarSource>/);
      expect(fromV2).toMatch(/FIELD:\s+replicas <integer>/);
      expect(fromV2).toContain('Number of desired pods.');
    });

    it('refuses an unknown field under --validate=strict, and drops it with a warning under --validate=warn', async () => {
      // Prepare
      const ns = await namespace('strict');
      const yaml = deploymentYaml(ns, 'nginx:1.25').replace(
        '        command:',
        '        imagePolicy: Always\n        command:',
      );

      // Act
      const strict = await apply(yaml);
      const warned = await apply(yaml, '--validate=warn');

      // Assess
      expect(strict.code).not.toBe(0);
      expect(strict.stderr).toContain(
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagePolicy"',
      );
      expect(warned.code).toBe(0);
      expect(warned.stderr).toContain('unknown field "spec.template.spec.containers[0].imagePolicy"');
      expect(containersOf(live('Deployment', ns, 'web'))[0]).not.toHaveProperty('imagePolicy');
    });

    it('defaults probe timeouts and thresholds and the fieldRef apiVersion, as the API server does', async () => {
      // Prepare
      const ns = await namespace('defaults');
      const yaml = deploymentYaml(ns, 'nginx:1.25').replace(
        '        env:\n        - {name: MODE, value: live}',
        `        env:
        - {name: MODE, value: live}
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        readinessProbe:
          httpGet: {path: /, port: 80}`,
      );

      // Act
      await apply(yaml);

      // Assess
      const web = containersOf(live('Deployment', ns, 'web'))[0] ?? {};
      expect(web['readinessProbe']).toEqual({
        httpGet: { path: '/', port: 80, scheme: 'HTTP' },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      });
      expect((web['env'] as Json[])[1]).toEqual({
        name: 'POD',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      });
    });

    it('validates custom resources against their CRD schema: wrong types refused, unknown fields pruned', async () => {
      // Prepare
      const ns = await namespace('crd');
      const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, description: How many widgets.}
              labels: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
      expect((await apply(crd)).code).toBe(0);
      const widget = (size: string, extra = '') =>
        `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ${ns}}\nspec:\n  size: ${size}\n  labels: {any: thing}\n${extra}`;

      // Act
      const wrong = await apply(widget('"big"'), '--validate=false');
      const pruned = await apply(widget('3', '  colour: blue\n'), '--validate=false');
      const explained = await ok(['explain', 'widgets.spec']);

      // Assess
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('spec.size: Invalid value: "string": spec.size in body must be of type integer');
      expect(pruned.code).toBe(0);
      expect(live('Widget', ns, 'w', 'example.com/v1')?.['spec']).toEqual({ size: 3, labels: { any: 'thing' } });
      expect(explained).toMatch(/size\s+<integer>\n\s+How many widgets\./);
    });
  });

  describe('watches', () => {
    it('get -w prints each change as it happens, and rollout status and wait follow a rollout to its end', async () => {
      // Prepare
      const ns = await namespace('watch');
      const watching = background(['get', 'deployments', '-n', ns, '-w']);
      await until(() =>
        cluster.server.requests.some((r) => r.verb === 'watch' && r.path.endsWith(`/${ns}/deployments`)),
      );

      // Act
      await apply(deploymentYaml(ns, 'nginx:1.25'));
      const status = background(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=60s']);
      const waited = background(['wait', '-n', ns, '--for=condition=Available', 'deployment/web', '--timeout=60s']);
      await tickUntil(() => status.child.exitCode !== null && waited.child.exitCode !== null);
      await until(() => /web\s+2\/2\s+2\s+2/.test(watching.output()));
      watching.child.kill();

      // Assess
      expect(await status.exited).toBe(0);
      expect(status.output()).toContain('deployment "web" successfully rolled out');
      expect(await waited.exited).toBe(0);
      expect(waited.output()).toContain('deployment.apps/web condition met');
      expect(watching.output()).toMatch(/web\s+0\/2\s+0\s+0/);
      expect(watching.output()).toMatch(/web\s+2\/2\s+2\s+2/);
    });
  });

  describe('workloads', () => {
    it('scales through the autoscaling/v1 Scale, and refuses a negative count', async () => {
      // Prepare
      const ns = await namespace('scale');
      await apply(deploymentYaml(ns, 'nginx:1.25'));

      // Act
      const scaled = await kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=3']);
      const negative = await kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=-1']);
      const patched = await kubectl(['patch', '-n', ns, 'deployment/web', '-p', '{"spec":{"replicas":-1}}']);
      const scale = JSON.parse(await ok(['get', '--raw', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`]));

      // Assess
      expect(scaled).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
      expect(
        cluster.server.requests.some((r) => r.path.endsWith(`/${ns}/deployments/web/scale`) && r.verb === 'patch'),
      ).toBe(true);
      expect(negative.code).not.toBe(0);
      expect(patched.stderr).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');
      expect(scale).toMatchObject({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        spec: { replicas: 3 },
        status: { selector: 'app=web' },
      });
    });

    it('undoes a rollout with the ReplicaSet whose template matches, and lists the revisions a real server would', async () => {
      // Prepare
      const ns = await namespace('undo');
      await apply(deploymentYaml(ns, 'nginx:1.25'));
      await tickUntil(() => availableOf(ns) === 2);
      await apply(deploymentYaml(ns, 'nginx:1.26'));
      await tickUntil(() => revisionOf(ns) === '2');

      // Act
      await ok(['rollout', 'undo', '-n', ns, 'deployment/web']);
      await tickUntil(() => revisionOf(ns) === '3');
      const history = await ok(['rollout', 'history', '-n', ns, 'deployment/web']);
      const replicaSets = await ok(['get', 'rs', '-n', ns, '-o', 'name']);

      // Assess
      expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
      expect(replicaSets.trim().split('\n')).toHaveLength(2);
      expect(containersOf(live('Deployment', ns, 'web'))[0]?.['image']).toBe('nginx:1.25');
    });

    it('shows the pods of a ReplicaSet, the endpoints of a Service, and logs that say no container runs', async () => {
      // Prepare
      const ns = await namespace('pods');
      await apply(deploymentYaml(ns, `nginx@sha256:${'c'.repeat(64)}`));
      await ok(['expose', '-n', ns, 'deployment/web', '--port=8080', '--target-port=80']);

      // Act
      await tickUntil(() => availableOf(ns) === 2);
      cluster.server.tick();
      const pods = JSON.parse(await ok(['get', 'pods', '-n', ns, '-o', 'json']))['items'] as Json[];
      const table = await ok(['get', 'pods', '-n', ns]);
      const slices = JSON.parse(await ok(['get', 'endpointslices', '-n', ns, '-o', 'json']))['items'] as Json[];
      const logs = await kubectl(['logs', '-n', ns, 'deployment/web', '-c', 'web']);
      const described = await ok(['describe', 'service', '-n', ns, 'web']);

      // Assess
      expect(pods).toHaveLength(2);
      const [pod] = pods;
      expect(((pod!['metadata'] as Json)['ownerReferences'] as Json[])[0]).toMatchObject({
        kind: 'ReplicaSet',
        controller: true,
      });
      expect(pod!['status']).toMatchObject({
        phase: 'Running',
        conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
        containerStatuses: expect.arrayContaining([
          expect.objectContaining({ name: 'web', ready: true, imageID: `nginx@sha256:${'c'.repeat(64)}` }),
        ]),
      });
      expect(table).toMatch(/web-\w+-\w+\s+2\/2\s+Running\s+0/);
      expect(slices).toHaveLength(1);
      expect(slices[0]).toMatchObject({
        metadata: { labels: { 'kubernetes.io/service-name': 'web' } },
        ports: [{ port: 80, protocol: 'TCP' }],
      });
      expect((slices[0]!['endpoints'] as Json[]).map((e) => (e['conditions'] as Json)['ready'])).toEqual([true, true]);
      expect(logs.stdout).toContain('no container runs in the simulated Kubernetes cluster');
      expect(described).toMatch(/Endpoints:\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80\n/);
    });

    it('collects a deleted Deployment’s ReplicaSets and Pods (background, foreground), or orphans them', async () => {
      // Prepare
      const namespaces = [
        await namespace('gc-background'),
        await namespace('gc-foreground'),
        await namespace('gc-orphan'),
      ];
      for (const ns of namespaces) await apply(deploymentYaml(ns, 'nginx:1.25'));
      cluster.server.tick();
      cluster.server.tick();

      // Act
      await ok(['delete', '-n', 'gc-background', 'deployment/web']);
      await ok(['delete', '-n', 'gc-foreground', 'deployment/web', '--cascade=foreground']);
      await ok(['delete', '-n', 'gc-orphan', 'deployment/web', '--cascade=orphan']);

      // Assess
      for (const ns of ['gc-background', 'gc-foreground']) {
        expect((await kubectl(['get', 'rs,pods', '-n', ns])).stderr).toContain(
          `No resources found in ${ns} namespace.`,
        );
      }
      const orphans = JSON.parse(await ok(['get', 'rs', '-n', 'gc-orphan', '-o', 'json']))['items'] as Json[];
      expect(orphans).toHaveLength(1);
      expect((orphans[0]!['metadata'] as Json)['ownerReferences']).toBeUndefined();
      expect(JSON.parse(await ok(['get', 'pods', '-n', 'gc-orphan', '-o', 'json']))['items']).toHaveLength(2);
    });
  });

  describe('authorization', () => {
    it('answers auth can-i from the authorizer, deny rules included', async () => {
      // Prepare
      cluster.server.deny({ verbs: ['delete'], resources: ['secrets'], namespaces: ['locked'] });

      // Act
      const allowed = await kubectl(['auth', 'can-i', 'delete', 'deployments', '-n', 'locked']);
      const denied = await kubectl(['auth', 'can-i', 'delete', 'secrets', '-n', 'locked']);
      const list = await kubectl(['auth', 'can-i', '--list', '-n', 'locked']);
      cluster.server.clearDenials();

      // Assess
      expect(allowed).toMatchObject({ code: 0, stdout: 'yes\n' });
      expect(denied.code).toBe(1);
      expect(denied.stdout).toBe('no\n');
      expect(list.stdout).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    });
  });
});

describe('@kubernetes/client-node watches against the simulated API server', () => {
  let watched: TestCluster;
  let kc: KubeConfig;
  let api: KubernetesObjectApi;
  const configMap = (name: string, value: string): V1ConfigMap & { apiVersion: string; kind: string } => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { value },
  });

  beforeAll(async () => {
    watched = await startCluster({ tickMs: 3_600_000, watchWindow: 5, bookmarkMs: 3_600_000 });
    kc = new KubeConfig();
    kc.loadFromString(watched.server.kubeconfig());
    api = KubernetesObjectApi.makeApiClient(kc);
  });
  afterAll(async () => {
    await watched?.stop();
  });

  it('streams the changes after a resourceVersion with bookmarks, and answers an expired one with 410 Gone', async () => {
    // Prepare
    const created = await api.create(configMap('watched', 'a'));
    const from = created.metadata!.resourceVersion!;
    const events: [string, Json][] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: from, allowWatchBookmarks: true },
      (type, object) => events.push([type, object as Json]),
      () => {},
    );

    // Act
    await api.replace({ ...configMap('watched', 'b'), metadata: { ...created.metadata } });
    await api.delete(configMap('watched', 'b'));
    await until(() => events.length >= 2);
    watched.server.watches.bookmark();
    await until(() => events.some(([type]) => type === 'BOOKMARK'));
    controller.abort();
    for (let i = 0; i < 6; i += 1) await api.create(configMap(`filler-${i}`, 'x'));
    const expired: [string, Json][] = [];
    await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: from },
      (type, object) => expired.push([type, object as Json]),
      () => {},
    );
    await until(() => expired.length > 0);

    // Assess
    expect(events.map(([type, object]) => [type, (object['data'] as Json | undefined)?.['value']])).toEqual([
      ['MODIFIED', 'b'],
      ['DELETED', 'b'],
      ['BOOKMARK', undefined],
    ]);
    expect(Number((events[2]![1]['metadata'] as Json)['resourceVersion'])).toBeGreaterThan(Number(from));
    expect(expired).toEqual([['ERROR', expect.objectContaining({ code: 410, reason: 'Expired' })]]);
  });

  it('keeps an informer’s cache: a list, then additions, updates and deletions, and a new list after a 410', async () => {
    // Prepare
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/default/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'default' }),
    );
    const seen: string[] = [];
    informer.on('add', (cm) => seen.push(`add ${cm.metadata?.name}`));
    informer.on('update', (cm) => seen.push(`update ${cm.metadata?.name}=${cm.data?.['value']}`));
    informer.on('delete', (cm) => seen.push(`delete ${cm.metadata?.name}`));
    await api.create(configMap('before', '1'));

    // Act
    await informer.start();
    await api.create(configMap('during', '1'));
    await api.patch(configMap('during', '2'), undefined, undefined, 'test', undefined, 'application/merge-patch+json');
    await api.delete(configMap('before', '1'));
    await until(() => seen.includes('delete before'));
    await informer.stop();
    for (let i = 0; i < 6; i += 1) await api.create(configMap(`later-${i}`, 'x'));
    await informer.start();
    await until(() => informer.list().some((cm) => cm.metadata?.name === 'later-5'));
    await informer.stop();

    // Assess
    expect(seen).toEqual(expect.arrayContaining(['add before', 'add during', 'update during=2', 'delete before']));
    expect(informer.list().map((cm) => cm.metadata?.name)).toEqual(
      expect.arrayContaining(['during', 'later-0', 'later-5']),
    );
    expect(informer.list().map((cm) => cm.metadata?.name)).not.toContain('before');
  });
});
