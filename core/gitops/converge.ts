import type { GitOpsController } from '../config/delivery';
import type { RolloutDecision } from '../deploy/rollout';
import { isRecord, type KubernetesObject, type ObjectRef } from '../deploy/types';

/**
 * Convergence, as a pure function of the controller object read from the cluster (docs/adr/0103).
 *
 * Argo CD `Application` (argoproj.io/v1alpha1): `status.sync.status` is `Synced` at `status.sync.revision` (or one
 * of `status.sync.revisions`, multi-source) equal to the commit, and `status.health.status` is `Healthy`;
 * `Degraded` health, or a sync operation of that revision that ended `Failed`/`Error`, has failed.
 *
 * Flux `Kustomization` (kustomize.toolkit.fluxcd.io/v1): the `Ready` condition is `True` and
 * `status.lastAppliedRevision` (`<branch>@sha1:<sha>`) contains the commit; `Ready=False` while
 * `status.lastAttemptedRevision` contains the commit (a build, apply or health-check failure) has failed.
 *
 * Anything else is waiting. Once converged, the workloads the controller lists (Argo CD's `status.resources`,
 * Flux's `status.inventory.entries`) are handed to the rollout checks Stepline already has.
 */

export const ARGO_APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;
export const FLUX_KUSTOMIZATION = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' } as const;

export function controllerRef(controller: GitOpsController): ObjectRef {
  const argo = controller.kind === 'Application';
  return {
    ...(argo ? ARGO_APPLICATION : FLUX_KUSTOMIZATION),
    name: controller.name,
    namespace: controller.namespace ?? (argo ? 'argocd' : 'flux-system'),
  };
}

function at(object: unknown, ...path: string[]): unknown {
  let node = object;
  for (const step of path) node = isRecord(node) ? node[step] : undefined;
  return node;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const short = (sha: string) => sha.slice(0, 12);

function argoDecision(app: KubernetesObject, commit: string): RolloutDecision {
  const name = `Application "${app.metadata.name}"`;
  const sync = str(at(app, 'status', 'sync', 'status')) ?? 'Unknown';
  const revisions = [str(at(app, 'status', 'sync', 'revision'))];
  const many = at(app, 'status', 'sync', 'revisions');
  if (Array.isArray(many)) revisions.push(...many.map(str));
  const atCommit = revisions.some((r) => r !== null && r === commit);
  const health = str(at(app, 'status', 'health', 'status')) ?? 'Unknown';
  const healthMessage = str(at(app, 'status', 'health', 'message'));
  const operation = at(app, 'status', 'operationState');
  const phase = str(at(operation, 'phase'));
  const operationRevision =
    str(at(operation, 'syncResult', 'revision')) ?? str(at(operation, 'operation', 'sync', 'revision'));
  if ((phase === 'Failed' || phase === 'Error') && operationRevision === commit) {
    return {
      state: 'failed',
      reason: `${name}: the sync of ${short(commit)} ended ${phase}: ${str(at(operation, 'message')) ?? 'no message'}`,
    };
  }
  if (!atCommit || sync !== 'Synced') {
    const current = revisions.find((r) => r !== null);
    return {
      state: 'waiting',
      reason: `${name} is ${sync} at ${current ? short(current) : 'no revision'}, waiting for ${short(commit)}`,
    };
  }
  if (health === 'Degraded') {
    return {
      state: 'failed',
      reason: `${name} is Degraded at ${short(commit)}${healthMessage ? `: ${healthMessage}` : ''}`,
    };
  }
  if (health !== 'Healthy')
    return { state: 'waiting', reason: `${name} is Synced at ${short(commit)}, health ${health}` };
  return { state: 'done', reason: `${name} is Synced and Healthy at ${short(commit)}` };
}

/** Flux revisions read `<branch>@sha1:<sha>` (Flux 2.x) or `<branch>/<sha>` (older): either holds the commit. */
function holds(revision: string | null, commit: string): boolean {
  return (
    revision !== null && (revision.endsWith(`:${commit}`) || revision.endsWith(`/${commit}`) || revision === commit)
  );
}

function fluxDecision(ks: KubernetesObject, commit: string): RolloutDecision {
  const name = `Kustomization "${ks.metadata.name}"`;
  const conditions = at(ks, 'status', 'conditions');
  const ready = Array.isArray(conditions) ? conditions.find((c) => isRecord(c) && c['type'] === 'Ready') : undefined;
  const readyStatus = str(at(ready, 'status'));
  const message = str(at(ready, 'message')) ?? '';
  const reason = str(at(ready, 'reason')) ?? '';
  const applied = str(at(ks, 'status', 'lastAppliedRevision'));
  const attempted = str(at(ks, 'status', 'lastAttemptedRevision'));
  if (readyStatus === 'True' && holds(applied, commit)) {
    return { state: 'done', reason: `${name} is Ready at ${applied}` };
  }
  if (readyStatus === 'False' && holds(attempted, commit)) {
    return { state: 'failed', reason: `${name} failed at ${short(commit)}: ${reason}${message ? `: ${message}` : ''}` };
  }
  return {
    state: 'waiting',
    reason: `${name} has applied ${applied ?? 'nothing'} (Ready ${readyStatus ?? 'Unknown'}), waiting for ${short(commit)}`,
  };
}

/** The convergence decision of an Argo CD Application or a Flux Kustomization on `commit`. */
export function decideConvergence(object: KubernetesObject, commit: string): RolloutDecision {
  return object.kind === 'Application' ? argoDecision(object, commit) : fluxDecision(object, commit);
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** The workloads the controller manages (Deployments, StatefulSets, DaemonSets), for the rollout checks. */
export function managedWorkloads(object: KubernetesObject): ObjectRef[] {
  const refs: ObjectRef[] = [];
  if (object.kind === 'Application') {
    const resources = at(object, 'status', 'resources');
    for (const r of Array.isArray(resources) ? resources : []) {
      const kind = str(at(r, 'kind'));
      const name = str(at(r, 'name'));
      if (!kind || !name || !WORKLOADS.has(kind) || (str(at(r, 'group')) ?? '') !== 'apps') continue;
      const namespace = str(at(r, 'namespace'));
      refs.push({
        apiVersion: `apps/${str(at(r, 'version')) ?? 'v1'}`,
        kind,
        name,
        ...(namespace ? { namespace } : {}),
      });
    }
    return refs;
  }
  // Flux inventory ids: `<namespace>_<name>_<group>_<kind>`, with `v` the version.
  const entries = at(object, 'status', 'inventory', 'entries');
  for (const e of Array.isArray(entries) ? entries : []) {
    const id = str(at(e, 'id'));
    const parts = id?.split('_') ?? [];
    if (parts.length !== 4) continue;
    const [namespace, name, group, kind] = parts as [string, string, string, string];
    if (group !== 'apps' || !WORKLOADS.has(kind)) continue;
    refs.push({ apiVersion: `apps/${str(at(e, 'v')) ?? 'v1'}`, kind, name, ...(namespace ? { namespace } : {}) });
  }
  return refs;
}
