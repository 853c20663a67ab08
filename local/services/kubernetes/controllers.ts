import { DeploymentController } from './deployments';
import { isObject, type Json, type JsonObject } from './fields';
import { PodController } from './pods';
import type { ResourceRegistry, ResourceType } from './resources';
import type { ObjectStore } from './store';
import { templateHash } from './templates';

/**
 * The workload controllers of the simulated cluster. They advance rollouts one step per tick, as a real
 * cluster does over seconds: Deployments through their ReplicaSets (`deployments.ts`), StatefulSets and
 * DaemonSets pod by pod (here), then the Pods of every ReplicaSet and the endpoints of every Service (`pods.ts`).
 *
 * No container runs: a ReplicaSet's pods become available one per tick, unless `isReady(image)` says an image
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

export class WorkloadControllers {
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  private readonly timeScale: number;
  private readonly nodes: number;
  public isReady: (image: string) => boolean;
  /** Per DaemonSet uid: the template hash being rolled out. */
  private readonly daemonHashes = new Map<string, string>();
  private readonly pods: PodController;
  private readonly deployments: DeploymentController;

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
    this.deployments = new DeploymentController(store, registry, this.timeScale, (template) => this.healthy(template));
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
      this.guard(() => this.deployments.sync(deployment));
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
