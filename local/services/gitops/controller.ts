import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
import type { SimulatedKubernetes } from '../kubernetes';
import { isObject, type Json, type JsonObject } from '../kubernetes/fields';
import { GITOPS_CRDS } from './crds';

/**
 * A small stand-in for Argo CD's application controller and Flux's kustomize-controller on the simulated
 * cluster (docs/adr/0103). One `reconcile()` looks at every Argo CD `Application` and Flux `Kustomization`: it reads
 * the branch head of its source (a bare repository on this machine, `file://` URL), renders the path at that commit
 * (`kubectl kustomize`, which embeds kustomize; a folder without a kustomization: its YAML files), applies the objects
 * with its own field manager, and writes the status the real controllers write:
 *
 * - Application: `status.sync` (`Synced` at `revision`), `status.health` (`Progressing` until every Deployment has
 *   rolled out, `Degraded` when one exceeded its progress deadline, else `Healthy`), `status.resources`,
 *   `status.operationState` (`Succeeded`/`Failed` with `syncResult.revision`). `.argocd-source-<app>.yaml`'s
 *   `kustomize.images` are merged into the kustomization before rendering, as Argo CD does.
 * - Kustomization: the `Ready` condition (True once applied and healthy, False `HealthCheckFailed`/
 *   `BuildFailed`), `lastAttemptedRevision` and `lastAppliedRevision` as `<branch>@sha1:<sha>`, `inventory`.
 *
 * Rendering Helm charts is not simulated. Tests call `reconcile()` explicitly; `start()` runs it on an interval.
 */

const ARGO = { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application' };
const FLUX = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', kind: 'Kustomization' };
const SOURCE = { group: 'source.toolkit.fluxcd.io', version: 'v1', kind: 'GitRepository' };

function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

function exec(cmd: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) =>
      error ? reject(new Error(String(stderr).trim() || error.message)) : resolve(String(stdout)),
    ),
  );
}

/** `file:///abs/path.git` → the git dir. */
function gitDirOf(url: string): string {
  if (!url.startsWith('file://'))
    throw new Error(`the stand-in controller reads file:// repositories only, not ${url}`);
  return decodeURIComponent(new URL(url).pathname);
}

interface Rendered {
  readonly objects: JsonObject[];
}

/** Argo CD's kustomize image string `name=newName@digest` (or `:tag`) as a kustomize images entry. */
function imageEntry(value: string): JsonObject {
  const [name, target = name] = value.includes('=') ? (value.split('=', 2) as [string, string]) : [value, value];
  const at = target.indexOf('@');
  if (at >= 0) return { name: name ?? '', newName: target.slice(0, at), digest: target.slice(at + 1) };
  const colon = target.lastIndexOf(':');
  return colon > target.lastIndexOf('/')
    ? { name: name ?? '', newName: target.slice(0, colon), newTag: target.slice(colon + 1) }
    : { name: name ?? '', newName: target };
}

async function render(gitDir: string, sha: string, path: string, argoApp: string | null): Promise<Rendered> {
  const dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-render-'));
  try {
    const clean = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const archive = join(dir, 'a.tar');
    await exec('git', ['--git-dir', gitDir, 'archive', '-o', archive, sha, '--', clean || '.']);
    await exec('tar', ['-xf', archive, '-C', dir]);
    const folder = join(dir, clean);
    const files = await readdir(folder);
    const kustomization = files.find((f) => ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].includes(f));
    let text: string;
    if (kustomization) {
      const override = argoApp ? files.find((f) => f === `.argocd-source-${argoApp}.yaml`) : undefined;
      if (override) {
        const images = obj(
          obj(parseDocument(await readFile(join(folder, override), 'utf8')).toJSON() as Json)['kustomize'],
        )['images'];
        const doc = obj(parseDocument(await readFile(join(folder, kustomization), 'utf8')).toJSON() as Json);
        const merged = new Map<string, JsonObject>();
        for (const e of Array.isArray(doc['images']) ? doc['images'] : []) merged.set(str(obj(e)['name']), obj(e));
        for (const i of Array.isArray(images) ? images : [])
          merged.set(str(imageEntry(str(i))['name']), imageEntry(str(i)));
        doc['images'] = [...merged.values()];
        await writeFile(join(folder, kustomization), stringify(doc));
      }
      text = await exec('kubectl', ['kustomize', folder]);
    } else {
      const yamls = files.filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.')).sort();
      text = (await Promise.all(yamls.map((f) => readFile(join(folder, f), 'utf8')))).join('\n---\n');
    }
    const objects = parseAllDocuments(text)
      .map((d) => d.toJSON() as Json)
      .filter((o): o is JsonObject => isObject(o) && typeof o['kind'] === 'string');
    return { objects };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export class GitOpsStandInController {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Per controller object: the commit last rendered and what it rendered, so that a pass at the same commit only re-reads health. */
  private readonly rendered = new Map<string, { sha: string; objects: JsonObject[] }>();

  public constructor(private readonly cluster: SimulatedKubernetes) {}

  /** Registers the CRDs of Argo CD's Application and Flux's Kustomization and GitRepository. */
  public installCrds(): void {
    const type = this.cluster.registry.byKind('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition');
    if (!type) throw new Error('the simulated cluster serves no CustomResourceDefinitions');
    for (const crd of GITOPS_CRDS) {
      this.cluster.store.apply(type, undefined, str(obj(crd['metadata'])['name']), structuredClone(crd), {
        fieldManager: 'stepline-gitops-stand-in',
        force: true,
      });
    }
  }

  public start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.reconcile()
        .catch(() => undefined)
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  public async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private type(t: { group: string; version: string; kind: string }) {
    return this.cluster.registry.byKind(t.group, t.version, t.kind);
  }

  /** One pass over every Application and Kustomization. */
  public async reconcile(): Promise<void> {
    const argo = this.type(ARGO);
    if (argo) for (const app of this.cluster.store.all(argo)) await this.application(app);
    const flux = this.type(FLUX);
    if (flux) for (const ks of this.cluster.store.all(flux)) await this.kustomization(ks);
  }

  /** Renders and applies the path at `sha`, once per commit. */
  private async sync(
    key: string,
    gitDir: string,
    sha: string,
    path: string,
    argoApp: string | null,
    namespace: string,
    manager: string,
  ): Promise<JsonObject[]> {
    const cached = this.rendered.get(key);
    if (cached?.sha === sha) return cached.objects;
    const { objects } = await render(gitDir, sha, path, argoApp);
    const applied = this.apply(objects, namespace, manager);
    this.rendered.set(key, { sha, objects: applied });
    return applied;
  }

  private apply(objects: readonly JsonObject[], namespace: string, manager: string): JsonObject[] {
    const applied: JsonObject[] = [];
    // Namespaces and CRDs first, as kustomize's and Flux's apply order have them.
    const first = (o: JsonObject) => (o['kind'] === 'Namespace' || o['kind'] === 'CustomResourceDefinition' ? 0 : 1);
    for (const object of [...objects].sort((a, b) => first(a) - first(b))) {
      const [group, version] = str(object['apiVersion']).includes('/')
        ? str(object['apiVersion']).split('/')
        : ['', str(object['apiVersion'])];
      const type = this.cluster.registry.byKind(group ?? '', version ?? '', str(object['kind']));
      if (!type) throw new Error(`no kind ${object['apiVersion']}/${object['kind']} in the cluster`);
      const metadata = obj(object['metadata']);
      const ns = type.namespaced ? str(metadata['namespace']) || namespace : undefined;
      if (type.namespaced) object['metadata'] = { ...metadata, namespace: ns ?? namespace };
      this.cluster.store.apply(type, ns, str(metadata['name']), object, { fieldManager: manager, force: true });
      applied.push(object);
    }
    return applied;
  }

  /** Healthy, Progressing or Degraded, from the Deployments among `objects` as they are now. */
  private health(objects: readonly JsonObject[], namespace: string): { status: string; message: string } {
    for (const object of objects) {
      if (object['kind'] !== 'Deployment') continue;
      const name = str(obj(object['metadata'])['name']);
      const live = this.cluster.object(
        'apps/v1',
        'Deployment',
        str(obj(object['metadata'])['namespace']) || namespace,
        name,
      );
      const status = obj(live?.['status']);
      const conditions = Array.isArray(status['conditions']) ? status['conditions'].map(obj) : [];
      if (conditions.some((c) => c['type'] === 'Progressing' && c['reason'] === 'ProgressDeadlineExceeded')) {
        return { status: 'Degraded', message: `Deployment "${name}" exceeded its progress deadline` };
      }
      const want =
        typeof obj(live?.['spec'])['replicas'] === 'number' ? (obj(live?.['spec'])['replicas'] as number) : 1;
      const generation = obj(live?.['metadata'])['generation'];
      if (
        status['observedGeneration'] !== generation ||
        status['updatedReplicas'] !== want ||
        status['availableReplicas'] !== want
      ) {
        return { status: 'Progressing', message: `Deployment "${name}" is rolling out` };
      }
    }
    return { status: 'Healthy', message: '' };
  }

  private async application(app: JsonObject): Promise<void> {
    const type = this.type(ARGO);
    const metadata = obj(app['metadata']);
    const spec = obj(app['spec']);
    const source = obj(spec['source']);
    const namespace = str(obj(spec['destination'])['namespace']) || 'default';
    const previous = obj(app['status']);
    let status: JsonObject;
    try {
      const gitDir = gitDirOf(str(source['repoURL']));
      const sha = (
        await exec('git', ['--git-dir', gitDir, 'rev-parse', `${str(source['targetRevision']) || 'HEAD'}^{commit}`])
      ).trim();
      const key = `Application/${str(metadata['namespace'])}/${str(metadata['name'])}`;
      const applied = await this.sync(
        key,
        gitDir,
        sha,
        str(source['path']),
        str(metadata['name']),
        namespace,
        'argocd-controller',
      );
      const health = this.health(applied, namespace);
      status = {
        sync: { status: 'Synced', revision: sha, comparedTo: { source } },
        health: { status: health.status, ...(health.message ? { message: health.message } : {}) },
        resources: applied.map((o) => {
          const apiVersion = str(o['apiVersion']);
          return {
            group: apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '',
            version: apiVersion.split('/').slice(-1)[0] ?? '',
            kind: str(o['kind']),
            namespace: str(obj(o['metadata'])['namespace']),
            name: str(obj(o['metadata'])['name']),
            status: 'Synced',
          };
        }),
        operationState: {
          phase: 'Succeeded',
          message: 'successfully synced (all tasks run)',
          syncResult: { revision: sha },
        },
      };
    } catch (error) {
      status = {
        ...previous,
        sync: { ...obj(previous['sync']), status: 'OutOfSync' },
        operationState: { phase: 'Failed', message: error instanceof Error ? error.message : String(error) },
      };
    }
    if (type)
      this.cluster.store.writeStatus(
        type,
        str(metadata['namespace']),
        str(metadata['name']),
        status,
        'argocd-controller',
      );
  }

  private async kustomization(ks: JsonObject): Promise<void> {
    const type = this.type(FLUX);
    const metadata = obj(ks['metadata']);
    const spec = obj(ks['spec']);
    const namespace = str(spec['targetNamespace']) || str(metadata['namespace']);
    const sourceRef = obj(spec['sourceRef']);
    const sourceType = this.type(SOURCE);
    const repo = sourceType
      ? this.cluster.store.find(
          sourceType,
          str(sourceRef['namespace']) || str(metadata['namespace']),
          str(sourceRef['name']),
        )
      : null;
    const previous = obj(ks['status']);
    const now = new Date().toISOString();
    const ready = (status: string, reason: string, message: string) => [
      { type: 'Ready', status, reason, message, lastTransitionTime: now },
    ];
    let status: JsonObject;
    let revision = '';
    try {
      if (!repo) throw new Error(`GitRepository "${str(sourceRef['name'])}" not found`);
      const branch = str(obj(obj(repo['spec'])['ref'])['branch']) || 'main';
      const gitDir = gitDirOf(str(obj(repo['spec'])['url']));
      const sha = (await exec('git', ['--git-dir', gitDir, 'rev-parse', `refs/heads/${branch}^{commit}`])).trim();
      revision = `${branch}@sha1:${sha}`;
      const key = `Kustomization/${str(metadata['namespace'])}/${str(metadata['name'])}`;
      const applied = await this.sync(key, gitDir, sha, str(spec['path']), null, namespace, 'kustomize-controller');
      const health = this.health(applied, namespace);
      const inventory = {
        entries: applied.map((o) => {
          const apiVersion = str(o['apiVersion']);
          const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
          const m = obj(o['metadata']);
          return {
            id: `${str(m['namespace'])}_${str(m['name'])}_${group}_${str(o['kind'])}`,
            v: apiVersion.split('/').slice(-1)[0] ?? '',
          };
        }),
      };
      const base = { observedGeneration: metadata['generation'] ?? 1, lastAttemptedRevision: revision, inventory };
      status =
        health.status === 'Healthy'
          ? {
              ...base,
              lastAppliedRevision: revision,
              conditions: ready('True', 'ReconciliationSucceeded', `Applied revision: ${revision}`),
            }
          : health.status === 'Degraded'
            ? {
                ...base,
                lastAppliedRevision: previous['lastAppliedRevision'] ?? null,
                conditions: ready('False', 'HealthCheckFailed', health.message),
              }
            : {
                ...base,
                lastAppliedRevision: previous['lastAppliedRevision'] ?? null,
                conditions: ready('Unknown', 'Progressing', health.message),
              };
    } catch (error) {
      status = {
        ...previous,
        lastAttemptedRevision: revision || previous['lastAttemptedRevision'] || null,
        conditions: ready('False', 'BuildFailed', error instanceof Error ? error.message : String(error)),
      };
    }
    if (type)
      this.cluster.store.writeStatus(
        type,
        str(metadata['namespace']),
        str(metadata['name']),
        status,
        'kustomize-controller',
      );
  }
}
