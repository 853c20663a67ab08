import { randomBytes } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './fields';
import { PodController } from './pods';
import type { ResourceRegistry, ResourceType } from './resources';
import type { ObjectStore } from './store';
import { equalIgnoreHash, HASH_LABEL, templateHash } from './templates';

/**
 * The workload controllers of the simulated cluster. They advance rollouts one step per tick, as a real
 * cluster does over seconds: the Deployment controller creates (or finds) the ReplicaSet of the current pod
 * template, with the `deployment.kubernetes.io/revision` annotation and an owner reference, scales it up and
 * the old ones down within maxSurge/maxUnavailable, and writes the Deployment's status and its `Available` and
 * `Progressing` conditions, ending in `ProgressDeadlineExceeded` when no progress is made within
 * progressDeadlineSeconds (scaled by `timeScale`). StatefulSets and DaemonSets roll pod by pod.
 *
 * There are no pods: a ReplicaSet's pods become available one per tick, unless `isReady(image)` says an image
 * of the template never becomes ready (by default, an image whose reference contains `never-ready`).
 */
export interface ControllerOptions {
  /** Milliseconds between two steps. Default 500. */
  readonly tickMs?: number;
  /** Factor applied to progressDeadlineSeconds: 0.01 makes 600 s last 6 s. Default 1. */
  readonly timeScale?: number;
  /** Nodes a DaemonSet runs on. Default 2. */
  readonly nodes?: number;
  /** Whether pods of an image ever become ready. Default: unless the reference contains `never-ready`. */
  readonly isReady?: (image: string) => boolean;
}

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

function imagesOf(template: Json | undefined): string[] {
  const spec = obj(obj(template)['spec']);
  const images: string[] = [];
  for (const list of ['initContainers', 'containers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) for (const c of containers) images.push(String(obj(c)['image'] ?? ''));
  }
  return images;
}

/** `25%` of 4 rounded up or down, or a plain number. */
function intOrPercent(value: Json | undefined, total: number, roundUp: boolean, fallback: string): number {
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

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class WorkloadControllers {
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  private readonly timeScale: number;
  private readonly nodes: number;
  public isReady: (image: string) => boolean;
  /** Per Deployment uid: when it last made progress (ms), and the generation that started it. */
  private readonly progress = new Map<string, { at: number; generation: number }>();
  /** Per DaemonSet uid: the template hash being rolled out. */
  private readonly daemonHashes = new Map<string, string>();
  private readonly pods: PodController;

  public constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    options: ControllerOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 500;
    this.timeScale = options.timeScale ?? 1;
    this.nodes = options.nodes ?? 2;
    this.isReady = options.isReady ?? ((image) => !image.includes('never-ready'));
    this.pods = new PodController(store, registry, () => this.isReady);
  }

  public start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  public stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private type(group: string, kind: string): ResourceType {
    return this.registry.byGroupKind(group, kind)!;
  }

  /** One step of every controller. */
  public tick(): void {
    for (const deployment of this.store.all(this.type('apps', 'Deployment')))
      this.guard(() => this.deployment(deployment));
    for (const sts of this.store.all(this.type('apps', 'StatefulSet'))) this.guard(() => this.statefulSet(sts));
    for (const ds of this.store.all(this.type('apps', 'DaemonSet'))) this.guard(() => this.daemonSet(ds));
    this.pods.tick();
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch {
      // An object deleted between the listing and the step: the next tick sees the new state.
    }
  }

  private healthy(template: Json | undefined): boolean {
    return imagesOf(template).every((image) => this.isReady(image));
  }

  private event(namespace: string, involved: JsonObject, reason: string, message: string, type = 'Normal'): void {
    const at = isoNow();
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

  private deployment(deployment: JsonObject): void {
    const metadata = meta(deployment);
    const namespace = String(metadata['namespace']);
    const name = String(metadata['name']);
    const uid = String(metadata['uid']);
    const generation = n(metadata['generation'], 1);
    const spec = obj(deployment['spec']);
    const template = obj(spec['template']);
    const desired = n(spec['replicas'], 1);
    const rsType = this.type('apps', 'ReplicaSet');
    const deploymentType = this.type('apps', 'Deployment');
    const now = Date.now();
    const at = isoNow();
    let progressed = false;

    let tracking = this.progress.get(uid);
    if (!tracking || tracking.generation !== generation) {
      tracking = { at: now, generation };
      this.progress.set(uid, tracking);
      progressed = true;
    }

    const owned = () =>
      this.store
        .list(rsType, namespace)
        .filter(
          (rs) =>
            Array.isArray(meta(rs)['ownerReferences']) &&
            (meta(rs)['ownerReferences'] as JsonObject[]).some((o) => o['uid'] === uid && o['controller'] === true),
        );
    const revisionOf = (rs: JsonObject): number => Number(obj(meta(rs)['annotations'])[REVISION] ?? 0);
    const hash = templateHash(template);
    let replicaSets = owned();
    const maxRevision = replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
    let newRs = replicaSets.find((rs) => equalIgnoreHash(obj(rs['spec'])['template'], template));
    let progressingReason = 'ReplicaSetUpdated';

    if (!newRs) {
      const rsName = `${name}-${hash}`;
      const labels = { ...obj(obj(template['metadata'])['labels']), [HASH_LABEL]: hash };
      const selector = structuredClone(obj(spec['selector']));
      selector['matchLabels'] = { ...obj(selector['matchLabels']), [HASH_LABEL]: hash };
      const annotations: JsonObject = {};
      for (const [k, v] of Object.entries(obj(metadata['annotations']))) {
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
            name: rsName,
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
      progressed = true;
      progressingReason = 'NewReplicaSetCreated';
      replicaSets = owned();
    } else if (revisionOf(newRs) < maxRevision) {
      // A template seen before (a rollback): its ReplicaSet becomes the newest revision again.
      const old = revisionOf(newRs);
      newRs = this.store.writeMetadata(rsType, namespace, String(meta(newRs)['name']), (m) => {
        const annotations = obj(m['annotations']);
        const history = [annotations[HISTORY], String(old)].filter((h) => typeof h === 'string' && h !== '');
        m['annotations'] = { ...annotations, [REVISION]: String(maxRevision + 1), [HISTORY]: history.join(',') };
      });
      progressed = true;
      progressingReason = 'FoundNewReplicaSet';
      replicaSets = owned();
    }
    const newName = String(meta(newRs)['name']);
    const newRevision = String(revisionOf(newRs));
    if (obj(metadata['annotations'])[REVISION] !== newRevision) {
      this.store.writeMetadata(deploymentType, namespace, name, (m) => {
        m['annotations'] = { ...obj(m['annotations']), [REVISION]: newRevision };
      });
    }

    const paused = spec['paused'] === true;
    const strategy = obj(spec['strategy']);
    const rolling = obj(strategy['rollingUpdate']);
    const maxSurge = strategy['type'] === 'Recreate' ? 0 : intOrPercent(rolling['maxSurge'], desired, true, '25%');
    let maxUnavailable =
      strategy['type'] === 'Recreate' ? desired : intOrPercent(rolling['maxUnavailable'], desired, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;

    const replicasOf = (rs: JsonObject): number => n(obj(rs['spec'])['replicas']);
    const availableOf = (rs: JsonObject): number => Math.min(n(obj(rs['status'])['availableReplicas']), replicasOf(rs));
    const scale = (rs: JsonObject, to: number): void => {
      const from = replicasOf(rs);
      if (from === to) return;
      this.store.writeSpec(rsType, namespace, String(meta(rs)['name']), (o) => {
        obj(o['spec'])['replicas'] = to;
      });
      this.event(
        namespace,
        deployment,
        'ScalingReplicaSet',
        `Scaled ${to > from ? 'up' : 'down'} replica set ${String(meta(rs)['name'])} to ${to} from ${from}`,
      );
      progressed = true;
    };

    if (!paused) {
      const newOne = replicaSets.find((rs) => meta(rs)['name'] === newName)!;
      const olds = replicaSets
        .filter((rs) => meta(rs)['name'] !== newName)
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      if (strategy['type'] === 'Recreate') {
        const oldRunning = olds.some((rs) => replicasOf(rs) > 0 || n(obj(rs['status'])['replicas']) > 0);
        for (const rs of olds) scale(rs, 0);
        if (!oldRunning) scale(newOne, desired);
      } else {
        const total = replicaSets.reduce((sum, rs) => sum + replicasOf(rs), 0);
        if (replicasOf(newOne) > desired) scale(newOne, desired);
        else if (replicasOf(newOne) < desired) {
          const room = desired + maxSurge - total;
          if (room > 0) scale(newOne, Math.min(desired, replicasOf(newOne) + room));
        }
        const current = owned();
        const allPods = current.reduce((sum, rs) => sum + replicasOf(rs), 0);
        const fresh = current.find((rs) => meta(rs)['name'] === newName)!;
        const newUnavailable = replicasOf(fresh) - availableOf(fresh);
        let canScaleDown = allPods - (desired - maxUnavailable) - newUnavailable;
        for (const rs of current
          .filter((r) => meta(r)['name'] !== newName)
          .sort((a, b) => revisionOf(a) - revisionOf(b))) {
          if (canScaleDown <= 0) break;
          const cut = Math.min(replicasOf(rs), canScaleDown);
          if (cut > 0) {
            scale(rs, replicasOf(rs) - cut);
            canScaleDown -= cut;
          }
        }
      }
    }

    // Pods become available one per tick and ReplicaSet, unless their image never becomes ready.
    for (const rs of owned()) {
      const want = replicasOf(rs);
      const previous = availableOf(rs);
      const available =
        this.healthy(obj(rs['spec'])['template']) && previous < want ? previous + 1 : Math.min(previous, want);
      if (available !== n(obj(rs['status'])['availableReplicas']) || n(obj(rs['status'])['replicas'], -1) !== want)
        progressed = true;
      this.store.writeStatus(
        rsType,
        namespace,
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

    const all = owned();
    const newest = all.find((rs) => meta(rs)['name'] === newName)!;
    const sum = (f: (rs: JsonObject) => number): number => all.reduce((s, rs) => s + f(rs), 0);
    const replicas = sum((rs) => n(obj(rs['status'])['replicas']));
    const updated = n(obj(newest['status'])['replicas']);
    const available = sum((rs) => n(obj(rs['status'])['availableReplicas']));
    const previousConditions = Array.isArray(obj(deployment['status'])['conditions'])
      ? (obj(deployment['status'])['conditions'] as JsonObject[])
      : [];
    const previousOf = (type: string): JsonObject | undefined => previousConditions.find((c) => c['type'] === type);

    const availableCondition =
      available >= desired - maxUnavailable
        ? condition(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            previousOf('Available'),
            at,
          )
        : condition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            previousOf('Available'),
            at,
          );
    const complete = updated === desired && replicas === updated && available === updated;
    const previousProgressing = previousOf('Progressing');
    if (progressed) tracking.at = now;
    let progressing: JsonObject;
    if (paused) {
      progressing = condition(
        'Progressing',
        'Unknown',
        'DeploymentPaused',
        'Deployment is paused',
        previousProgressing,
        at,
      );
    } else if (complete) {
      progressing = condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${newName}" has successfully progressed.`,
        previousProgressing,
        at,
      );
    } else if (progressed) {
      const message =
        progressingReason === 'NewReplicaSetCreated'
          ? `Created new replica set "${newName}"`
          : progressingReason === 'FoundNewReplicaSet'
            ? `Found new replica set "${newName}"`
            : `ReplicaSet "${newName}" is progressing.`;
      progressing = condition('Progressing', 'True', progressingReason, message, previousProgressing, at);
    } else if (
      previousProgressing?.['reason'] === 'ProgressDeadlineExceeded' ||
      now - tracking.at > n(spec['progressDeadlineSeconds'], 600) * 1000 * this.timeScale
    ) {
      progressing = condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${newName}" has timed out progressing.`,
        previousProgressing,
        at,
      );
    } else {
      progressing =
        previousProgressing ??
        condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${newName}" is progressing.`, undefined, at);
    }

    this.store.writeStatus(
      deploymentType,
      namespace,
      name,
      {
        observedGeneration: generation,
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

  private statefulSet(sts: JsonObject): void {
    const metadata = meta(sts);
    const namespace = String(metadata['namespace']);
    const name = String(metadata['name']);
    const spec = obj(sts['spec']);
    const status = obj(sts['status']);
    const replicas = n(spec['replicas'], 1);
    const updateRevision = `${name}-${templateHash(spec['template'])}`;
    const strategy = obj(spec['updateStrategy']);
    const partition = strategy['type'] === 'RollingUpdate' ? n(obj(strategy['rollingUpdate'])['partition']) : replicas;
    const healthy = this.healthy(spec['template']);
    let current = typeof status['currentRevision'] === 'string' ? String(status['currentRevision']) : updateRevision;
    let ready = n(status['readyReplicas']);
    let updated = status['updateRevision'] === updateRevision ? n(status['updatedReplicas']) : 0;
    if (current === updateRevision) {
      // First rollout (or back to the current revision): pods start one by one.
      if (healthy && ready < replicas) ready += 1;
      ready = Math.min(ready, replicas);
      updated = ready;
    } else {
      const target = Math.max(0, replicas - partition);
      if (updated < target) {
        if (healthy) updated += 1;
        else if (updated === 0) {
          updated = 1;
          ready = Math.max(0, replicas - 1);
        }
      }
      if (healthy && ready < replicas) ready += 1;
      if (healthy && updated >= replicas && ready >= replicas) current = updateRevision;
    }
    this.store.writeStatus(
      this.type('apps', 'StatefulSet'),
      namespace,
      name,
      {
        observedGeneration: n(metadata['generation'], 1),
        replicas,
        readyReplicas: ready,
        availableReplicas: ready,
        currentReplicas: current === updateRevision ? updated : replicas - updated,
        updatedReplicas: updated,
        currentRevision: current,
        updateRevision,
        collisionCount: 0,
      },
      MANAGER,
    );
  }

  private daemonSet(ds: JsonObject): void {
    const metadata = meta(ds);
    const namespace = String(metadata['namespace']);
    const name = String(metadata['name']);
    const uid = String(metadata['uid']);
    const spec = obj(ds['spec']);
    const status = obj(ds['status']);
    const hash = templateHash(spec['template']);
    const desired = this.nodes;
    const healthy = this.healthy(spec['template']);
    const first = !this.daemonHashes.has(uid);
    const changed = this.daemonHashes.get(uid) !== hash;
    this.daemonHashes.set(uid, hash);
    let updated = changed && !first ? 0 : n(status['updatedNumberScheduled']);
    let available = n(status['numberAvailable']);
    if (first) {
      updated = Math.min(desired, updated + 1);
      if (healthy) available = Math.min(updated, available + 1);
    } else if (updated < desired) {
      if (healthy) updated += 1;
      else if (updated === 0) {
        updated = 1;
        available = desired - 1;
      }
    }
    if (healthy && available < updated) available += 1;
    this.store.writeStatus(
      this.type('apps', 'DaemonSet'),
      namespace,
      name,
      {
        observedGeneration: n(metadata['generation'], 1),
        desiredNumberScheduled: desired,
        currentNumberScheduled: desired,
        numberMisscheduled: 0,
        numberReady: available,
        numberAvailable: available,
        ...(desired - available > 0 ? { numberUnavailable: desired - available } : {}),
        updatedNumberScheduled: updated,
      },
      MANAGER,
    );
  }
}
