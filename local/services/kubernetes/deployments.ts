import { randomBytes } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './fields';
import type { ResourceRegistry, ResourceType } from './resources';
import type { ObjectStore } from './store';
import { equalIgnoreHash, HASH_LABEL, templateHash } from './templates';

/**
 * The Deployment controller of the simulated cluster, one step per tick over one context per Deployment: find or
 * create the ReplicaSet of the current template (`newReplicaSet`), scale it up and the old ones down within
 * maxSurge / maxUnavailable or all at once for Recreate (`rollOut`), make pods available one per step
 * (`replicaSetStatuses`), and write the Deployment's status with its `Available` and `Progressing` conditions,
 * ending in `ProgressDeadlineExceeded` when no progress is made within progressDeadlineSeconds × timeScale
 * (`writeStatus`).
 */

const MANAGER = 'kube-controller-manager';
const REVISION = 'deployment.kubernetes.io/revision';
const HISTORY = 'deployment.kubernetes.io/revision-history';

function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function n(value: Json | undefined, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

function meta(object: JsonObject): JsonObject {
  return obj(object['metadata']);
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `25%` of 4 rounded up or down, or a plain number. */
export function intOrPercent(value: Json | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return Number.parseInt(String(v), 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function condition(
  type: string,
  status: string,
  reason: string,
  message: string,
  previous: JsonObject | undefined,
  at: string,
): JsonObject {
  const same = previous && previous['status'] === status;
  const transition = same ? String(previous['lastTransitionTime']) : at;
  const unchanged = same && previous['reason'] === reason && previous['message'] === message;
  return {
    type,
    status,
    lastUpdateTime: unchanged ? String(previous['lastUpdateTime']) : at,
    lastTransitionTime: transition,
    reason,
    message,
  };
}

const revisionOf = (rs: JsonObject): number => Number(obj(meta(rs)['annotations'])[REVISION] ?? 0);
const replicasOf = (rs: JsonObject): number => n(obj(rs['spec'])['replicas']);
const availableOf = (rs: JsonObject): number => Math.min(n(obj(rs['status'])['availableReplicas']), replicasOf(rs));

/** What one step knows of one Deployment. */
interface Step {
  readonly deployment: JsonObject;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly spec: JsonObject;
  readonly template: JsonObject;
  readonly desired: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly now: number;
  readonly at: string;
  readonly tracking: { at: number; generation: number };
  progressed: boolean;
  reason: string;
  newName: string;
}

export class DeploymentController {
  /** Per Deployment uid: when it last made progress (ms), and the generation that started it. */
  private readonly progress = new Map<string, { at: number; generation: number }>();

  public constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly timeScale: number,
    private readonly healthy: (template: Json | undefined) => boolean,
  ) {}

  private type(group: string, kind: string): ResourceType {
    return this.registry.byGroupKind(group, kind)!;
  }

  /** One step of one Deployment. */
  public sync(deployment: JsonObject): void {
    const step = this.begin(deployment);
    this.newReplicaSet(step);
    if (step.spec['paused'] !== true) this.rollOut(step);
    this.replicaSetStatuses(step);
    this.writeStatus(step);
  }

  private begin(deployment: JsonObject): Step {
    const metadata = meta(deployment);
    const uid = String(metadata['uid']);
    const generation = n(metadata['generation'], 1);
    const spec = obj(deployment['spec']);
    const desired = n(spec['replicas'], 1);
    const strategy = obj(spec['strategy']);
    const rolling = obj(strategy['rollingUpdate']);
    const recreate = strategy['type'] === 'Recreate';
    const maxSurge = recreate ? 0 : intOrPercent(rolling['maxSurge'], desired, true, '25%');
    let maxUnavailable = recreate ? desired : intOrPercent(rolling['maxUnavailable'], desired, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const now = Date.now();
    let progressed = false;
    let tracking = this.progress.get(uid);
    if (!tracking || tracking.generation !== generation) {
      tracking = { at: now, generation };
      this.progress.set(uid, tracking);
      progressed = true;
    }
    return {
      deployment,
      namespace: String(metadata['namespace']),
      name: String(metadata['name']),
      uid,
      spec,
      template: obj(spec['template']),
      desired,
      maxSurge,
      maxUnavailable,
      now,
      at: isoNow(),
      tracking,
      progressed,
      reason: 'ReplicaSetUpdated',
      newName: '',
    };
  }

  /** The ReplicaSets the Deployment controls. */
  private owned(step: Step): JsonObject[] {
    return this.store
      .list(this.type('apps', 'ReplicaSet'), step.namespace)
      .filter(
        (rs) =>
          Array.isArray(meta(rs)['ownerReferences']) &&
          (meta(rs)['ownerReferences'] as JsonObject[]).some((o) => o['uid'] === step.uid && o['controller'] === true),
      );
  }

  /**
   * The ReplicaSet of the current template: an existing one whose template is equal but for the hash label (a
   * rollback reuses it, moving its revision up), else a new one.
   */
  private newReplicaSet(step: Step): void {
    const rsType = this.type('apps', 'ReplicaSet');
    const { namespace, name, uid, spec, template, desired } = step;
    const replicaSets = this.owned(step);
    const maxRevision = replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
    let newRs = replicaSets.find((rs) => equalIgnoreHash(obj(rs['spec'])['template'], template));
    if (!newRs) {
      const hash = templateHash(template);
      const labels = { ...obj(obj(template['metadata'])['labels']), [HASH_LABEL]: hash };
      const selector = structuredClone(obj(spec['selector']));
      selector['matchLabels'] = { ...obj(selector['matchLabels']), [HASH_LABEL]: hash };
      const annotations: JsonObject = {};
      for (const [k, v] of Object.entries(obj(meta(step.deployment)['annotations']))) {
        if (k !== REVISION && k !== HISTORY && k !== 'kubectl.kubernetes.io/last-applied-configuration')
          annotations[k] = v;
      }
      annotations[REVISION] = String(maxRevision + 1);
      annotations['deployment.kubernetes.io/desired-replicas'] = String(desired);
      annotations['deployment.kubernetes.io/max-replicas'] = String(
        desired + intOrPercent(obj(obj(spec['strategy'])['rollingUpdate'])['maxSurge'], desired, true, '25%'),
      );
      newRs = this.store.create(
        rsType,
        namespace,
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels,
            annotations,
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name, uid, controller: true, blockOwnerDeletion: true },
            ],
          },
          spec: {
            replicas: 0,
            minReadySeconds: n(spec['minReadySeconds']),
            selector,
            template: { ...structuredClone(template), metadata: { ...obj(template['metadata']), labels } },
          },
        },
        { fieldManager: MANAGER },
      );
      step.progressed = true;
      step.reason = 'NewReplicaSetCreated';
    } else if (revisionOf(newRs) < maxRevision) {
      const old = revisionOf(newRs);
      newRs = this.store.writeMetadata(rsType, namespace, String(meta(newRs)['name']), (m) => {
        const annotations = obj(m['annotations']);
        const history = [annotations[HISTORY], String(old)].filter((h) => typeof h === 'string' && h !== '');
        m['annotations'] = { ...annotations, [REVISION]: String(maxRevision + 1), [HISTORY]: history.join(',') };
      });
      step.progressed = true;
      step.reason = 'FoundNewReplicaSet';
    }
    step.newName = String(meta(newRs)['name']);
    const newRevision = String(revisionOf(newRs));
    if (obj(meta(step.deployment)['annotations'])[REVISION] !== newRevision) {
      this.store.writeMetadata(this.type('apps', 'Deployment'), namespace, name, (m) => {
        m['annotations'] = { ...obj(m['annotations']), [REVISION]: newRevision };
      });
    }
  }

  private scale(step: Step, rs: JsonObject, to: number): void {
    const from = replicasOf(rs);
    if (from === to) return;
    this.store.writeSpec(this.type('apps', 'ReplicaSet'), step.namespace, String(meta(rs)['name']), (o) => {
      obj(o['spec'])['replicas'] = to;
    });
    this.event(
      step,
      'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} replica set ${String(meta(rs)['name'])} to ${to} from ${from}`,
    );
    step.progressed = true;
  }

  /** Scales the new ReplicaSet up and the old ones down: all at once for Recreate, within the bounds otherwise. */
  private rollOut(step: Step): void {
    const { desired, newName } = step;
    const replicaSets = this.owned(step);
    const newOne = replicaSets.find((rs) => meta(rs)['name'] === newName)!;
    const olds = replicaSets.filter((rs) => meta(rs)['name'] !== newName).sort((a, b) => revisionOf(a) - revisionOf(b));
    if (obj(step.spec['strategy'])['type'] === 'Recreate') {
      const oldRunning = olds.some((rs) => replicasOf(rs) > 0 || n(obj(rs['status'])['replicas']) > 0);
      for (const rs of olds) this.scale(step, rs, 0);
      if (!oldRunning) this.scale(step, newOne, desired);
      return;
    }
    const total = replicaSets.reduce((sum, rs) => sum + replicasOf(rs), 0);
    if (replicasOf(newOne) > desired) this.scale(step, newOne, desired);
    else if (replicasOf(newOne) < desired) {
      const room = desired + step.maxSurge - total;
      if (room > 0) this.scale(step, newOne, Math.min(desired, replicasOf(newOne) + room));
    }
    const current = this.owned(step);
    const allPods = current.reduce((sum, rs) => sum + replicasOf(rs), 0);
    const fresh = current.find((rs) => meta(rs)['name'] === newName)!;
    const newUnavailable = replicasOf(fresh) - availableOf(fresh);
    let canScaleDown = allPods - (desired - step.maxUnavailable) - newUnavailable;
    for (const rs of current.filter((r) => meta(r)['name'] !== newName).sort((a, b) => revisionOf(a) - revisionOf(b))) {
      if (canScaleDown <= 0) break;
      const cut = Math.min(replicasOf(rs), canScaleDown);
      if (cut > 0) {
        this.scale(step, rs, replicasOf(rs) - cut);
        canScaleDown -= cut;
      }
    }
  }

  /** Pods become available one per tick and ReplicaSet, unless their image never becomes ready. */
  private replicaSetStatuses(step: Step): void {
    for (const rs of this.owned(step)) {
      const want = replicasOf(rs);
      const previous = availableOf(rs);
      const available =
        this.healthy(obj(rs['spec'])['template']) && previous < want ? previous + 1 : Math.min(previous, want);
      if (available !== n(obj(rs['status'])['availableReplicas']) || n(obj(rs['status'])['replicas'], -1) !== want)
        step.progressed = true;
      this.store.writeStatus(
        this.type('apps', 'ReplicaSet'),
        step.namespace,
        String(meta(rs)['name']),
        {
          replicas: want,
          fullyLabeledReplicas: want,
          readyReplicas: available,
          availableReplicas: available,
          observedGeneration: n(meta(rs)['generation'], 1),
        },
        MANAGER,
      );
    }
  }

  /** The `Progressing` condition: paused, complete, progressing, or past its deadline. */
  private progressing(step: Step, complete: boolean, previous: JsonObject | undefined): JsonObject {
    const { newName, at } = step;
    if (step.spec['paused'] === true) {
      return condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', previous, at);
    }
    if (complete) {
      const message = `ReplicaSet "${newName}" has successfully progressed.`;
      return condition('Progressing', 'True', 'NewReplicaSetAvailable', message, previous, at);
    }
    if (step.progressed) {
      const message =
        step.reason === 'NewReplicaSetCreated'
          ? `Created new replica set "${newName}"`
          : step.reason === 'FoundNewReplicaSet'
            ? `Found new replica set "${newName}"`
            : `ReplicaSet "${newName}" is progressing.`;
      return condition('Progressing', 'True', step.reason, message, previous, at);
    }
    const deadline = n(step.spec['progressDeadlineSeconds'], 600) * 1000 * this.timeScale;
    if (previous?.['reason'] === 'ProgressDeadlineExceeded' || step.now - step.tracking.at > deadline) {
      const message = `ReplicaSet "${newName}" has timed out progressing.`;
      return condition('Progressing', 'False', 'ProgressDeadlineExceeded', message, previous, at);
    }
    return (
      previous ??
      condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${newName}" is progressing.`, undefined, at)
    );
  }

  private writeStatus(step: Step): void {
    const all = this.owned(step);
    const newest = all.find((rs) => meta(rs)['name'] === step.newName)!;
    const sum = (f: (rs: JsonObject) => number): number => all.reduce((s, rs) => s + f(rs), 0);
    const replicas = sum((rs) => n(obj(rs['status'])['replicas']));
    const updated = n(obj(newest['status'])['replicas']);
    const available = sum((rs) => n(obj(rs['status'])['availableReplicas']));
    const conditions = obj(step.deployment['status'])['conditions'];
    const previousOf = (type: string): JsonObject | undefined =>
      (Array.isArray(conditions) ? (conditions as JsonObject[]) : []).find((c) => c['type'] === type);
    const availableCondition =
      available >= step.desired - step.maxUnavailable
        ? condition(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            previousOf('Available'),
            step.at,
          )
        : condition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            previousOf('Available'),
            step.at,
          );
    const complete = updated === step.desired && replicas === updated && available === updated;
    if (step.progressed) step.tracking.at = step.now;
    const progressing = this.progressing(step, complete, previousOf('Progressing'));
    this.store.writeStatus(
      this.type('apps', 'Deployment'),
      step.namespace,
      step.name,
      {
        observedGeneration: step.tracking.generation,
        replicas,
        updatedReplicas: updated,
        readyReplicas: available,
        availableReplicas: available,
        ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
        conditions: [availableCondition, progressing],
      },
      MANAGER,
    );
  }

  private event(step: Step, reason: string, message: string, type = 'Normal'): void {
    const at = isoNow();
    const { deployment: involved, namespace } = step;
    const metadata = meta(involved);
    this.store.create(
      this.type('', 'Event'),
      namespace,
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${String(metadata['name'])}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: String(involved['apiVersion']),
          kind: String(involved['kind']),
          name: String(metadata['name']),
          namespace,
          uid: String(metadata['uid']),
          resourceVersion: String(metadata['resourceVersion']),
        },
        reason,
        message,
        type,
        source: { component: 'deployment-controller' },
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
        reportingComponent: 'deployment-controller',
      },
      { fieldManager: MANAGER },
    );
  }
}
