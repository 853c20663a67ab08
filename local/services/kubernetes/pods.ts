import { createHash, randomBytes } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './fields';
import type { ResourceRegistry, ResourceType } from './resources';
import { matchesLabels, requirementsOf } from './selectors';
import type { ObjectStore } from './store';

/**
 * Pods and EndpointSlices, as the ReplicaSet controller, the kubelet and the EndpointSlice controller would
 * leave them, though no container runs. A ReplicaSet has `spec.replicas` Pods, owned by it; as many of them are
 * Ready as the simulated rollout made available (`status.availableReplicas`). A Pod not yet available is
 * `Pending` with its containers waiting in `ContainerCreating`; a Pod of an image that never becomes ready is
 * `Running` and not Ready (its readiness never succeeds). Each container status carries the image's digest: the
 * one in the reference, else a digest made from the reference. A Service with a selector gets an EndpointSlice
 * of its ready and not-ready Pods. README.md says which of these are judgment calls.
 */

const MANAGER = 'kube-controller-manager';
const KUBELET = 'kubelet';
const NODE = 'simulated-node-1';
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function meta(object: JsonObject): JsonObject {
  return obj(object['metadata']);
}

function num(value: Json | undefined): number {
  return typeof value === 'number' ? value : 0;
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function suffix(): string {
  const bytes = randomBytes(5);
  return [...bytes].map((b) => SAFE[b % SAFE.length]).join('');
}

/** The image as its digest: `repo@sha256:…` from the reference, else one made from the reference. */
export function imageId(image: string): string {
  const at = image.indexOf('@sha256:');
  if (at !== -1) return image;
  const repository = image.replace(/:[^/:]+$/, '');
  return `${repository}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** A stable pod IP from the pod's uid, in 10.244.0.0/16. */
function podIp(uid: string): string {
  const digest = createHash('sha256').update(uid).digest();
  return `10.244.${digest[0]}.${(digest[1]! % 253) + 1}`;
}

function ownedBy(object: JsonObject, uid: string): boolean {
  const owners = meta(object)['ownerReferences'];
  return Array.isArray(owners) && owners.some((o) => isObject(o) && o['uid'] === uid && o['controller'] === true);
}

function condition(type: string, status: boolean, previous: JsonObject[], at: string, reason?: string): JsonObject {
  const value = status ? 'True' : 'False';
  const before = previous.find((c) => c['type'] === type);
  const out: JsonObject = {
    type,
    status: value,
    lastProbeTime: null,
    lastTransitionTime: before && before['status'] === value ? (before['lastTransitionTime'] ?? at) : at,
  };
  if (reason && !status) out['reason'] = reason;
  return out;
}

export class PodController {
  public constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly isReady: () => (image: string) => boolean,
  ) {}

  private type(group: string, kind: string): ResourceType {
    return this.registry.byGroupKind(group, kind)!;
  }

  /** One step: the Pods of every ReplicaSet, then the EndpointSlices of every Service. */
  public tick(): void {
    const rsType = this.type('apps', 'ReplicaSet');
    for (const rs of this.store.all(rsType)) this.guard(() => this.replicaSet(rsType, rs));
    const svcType = this.type('', 'Service');
    for (const service of this.store.all(svcType)) this.guard(() => this.endpoints(service));
    // Endpoints have no owner: the endpoints controller removes those of a Service that is gone.
    const epType = this.type('', 'Endpoints');
    for (const ep of this.store.all(epType)) {
      const { name, namespace } = meta(ep) as { name: string; namespace: string };
      const managed =
        Array.isArray(meta(ep)['managedFields']) &&
        (meta(ep)['managedFields'] as JsonObject[]).some((m) => m['manager'] === 'endpoint-controller');
      if (managed && !this.store.find(svcType, namespace, name))
        this.guard(() => this.store.delete(epType, namespace, name));
    }
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch {
      // An object deleted between the listing and the step: the next tick sees the new state.
    }
  }

  private healthy(template: Json | undefined): boolean {
    const spec = obj(obj(template)['spec']);
    const ready = this.isReady();
    return ['initContainers', 'containers'].every((list) => {
      const containers = spec[list];
      return !Array.isArray(containers) || containers.every((c) => ready(String(obj(c)['image'] ?? '')));
    });
  }

  private replicaSet(rsType: ResourceType, rs: JsonObject): void {
    const metadata = meta(rs);
    const namespace = String(metadata['namespace']);
    const name = String(metadata['name']);
    const uid = String(metadata['uid']);
    const spec = obj(rs['spec']);
    const want = num(spec['replicas']);
    const healthy = this.healthy(spec['template']);
    const owners = metadata['ownerReferences'];
    const controlled = Array.isArray(owners) && owners.some((o) => isObject(o) && o['controller'] === true);
    let available = Math.min(num(obj(rs['status'])['availableReplicas']), want);
    if (!controlled) {
      // A ReplicaSet of its own: its Pods become available one per step, as a Deployment's do.
      if (healthy && available < want) available += 1;
      this.store.writeStatus(
        rsType,
        namespace,
        name,
        {
          replicas: want,
          fullyLabeledReplicas: want,
          readyReplicas: available,
          availableReplicas: available,
          observedGeneration: num(metadata['generation']) || 1,
        },
        MANAGER,
      );
    }
    const podType = this.type('', 'Pod');
    let pods = this.store.list(podType, namespace).filter((pod) => ownedBy(pod, uid));
    for (let i = pods.length; i < want; i += 1) pods.push(this.createPod(podType, rs));
    if (pods.length > want) {
      const ordered = [...pods].sort((a, b) => podRank(b) - podRank(a));
      for (const pod of ordered.slice(0, pods.length - want))
        this.store.delete(podType, namespace, String(meta(pod)['name']));
      pods = ordered.slice(pods.length - want);
    }
    pods.sort((a, b) => podRank(a) - podRank(b) || String(meta(a)['name']).localeCompare(String(meta(b)['name'])));
    for (const [index, pod] of pods.entries()) this.writePodStatus(podType, pod, index < available, healthy);
  }

  private createPod(podType: ResourceType, rs: JsonObject): JsonObject {
    const metadata = meta(rs);
    const template = obj(obj(rs['spec'])['template']);
    const templateMeta = obj(template['metadata']);
    const name = String(metadata['name']);
    return this.store.create(
      podType,
      String(metadata['namespace']),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${suffix()}`,
          generateName: `${name}-`,
          namespace: String(metadata['namespace']),
          labels: structuredClone(obj(templateMeta['labels'])),
          ...(isObject(templateMeta['annotations'])
            ? { annotations: structuredClone(templateMeta['annotations']) }
            : {}),
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name,
              uid: String(metadata['uid']),
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { ...structuredClone(obj(template['spec'])), nodeName: NODE },
      },
      { fieldManager: MANAGER },
    );
  }

  private writePodStatus(podType: ResourceType, pod: JsonObject, ready: boolean, healthy: boolean): void {
    const metadata = meta(pod);
    const status = obj(pod['status']);
    const previous = Array.isArray(status['conditions']) ? (status['conditions'] as JsonObject[]) : [];
    const at = isoNow();
    const started = ready || !healthy;
    const uid = String(metadata['uid']);
    const since = String(metadata['creationTimestamp'] ?? at);
    const previousStatuses = Array.isArray(status['containerStatuses'])
      ? (status['containerStatuses'] as JsonObject[])
      : [];
    const containers = Array.isArray(obj(pod['spec'])['containers'])
      ? (obj(pod['spec'])['containers'] as JsonObject[])
      : [];
    const containerStatuses = containers.map((c): JsonObject => {
      const image = String(c['image'] ?? '');
      const before = previousStatuses.find((s) => s['name'] === c['name']);
      const runningSince = obj(obj(before?.['state'])['running'])['startedAt'];
      return {
        name: String(c['name']),
        image,
        imageID: imageId(image),
        containerID: `simulated://${createHash('sha256')
          .update(`${uid}/${String(c['name'])}`)
          .digest('hex')
          .slice(0, 64)}`,
        ready,
        started,
        restartCount: 0,
        state: started
          ? { running: { startedAt: typeof runningSince === 'string' ? runningSince : at } }
          : { waiting: { reason: 'ContainerCreating' } },
      };
    });
    const ip = podIp(uid);
    this.store.writeStatus(
      podType,
      String(metadata['namespace']),
      String(metadata['name']),
      {
        phase: started ? 'Running' : 'Pending',
        conditions: [
          condition('PodReadyToStartContainers', started, previous, at),
          condition('Initialized', true, previous, at),
          condition('Ready', ready, previous, at, 'ContainersNotReady'),
          condition('ContainersReady', ready, previous, at, 'ContainersNotReady'),
          condition('PodScheduled', true, previous, at),
        ],
        hostIP: '10.0.0.1',
        hostIPs: [{ ip: '10.0.0.1' }],
        podIP: ip,
        podIPs: [{ ip }],
        startTime: since,
        qosClass: 'BestEffort',
        containerStatuses,
      },
      KUBELET,
    );
  }

  /** The EndpointSlice of a Service with a selector: its Pods' addresses, ready or not, and its ports. */
  private endpoints(service: JsonObject): void {
    const spec = obj(service['spec']);
    const selector = spec['selector'];
    if (!isObject(selector) || Object.keys(selector).length === 0) return;
    const metadata = meta(service);
    const namespace = String(metadata['namespace']);
    const name = String(metadata['name']);
    const uid = String(metadata['uid']);
    const podType = this.type('', 'Pod');
    const pods = this.store
      .list(podType, namespace)
      .filter((pod) =>
        matchesLabels(meta(pod)['labels'] as Record<string, string>, requirementsOf({ matchLabels: selector })),
      )
      .filter((pod) => typeof obj(pod['status'])['podIP'] === 'string');
    const containerPorts = pods.flatMap((pod) =>
      (Array.isArray(obj(pod['spec'])['containers']) ? (obj(pod['spec'])['containers'] as JsonObject[]) : []).flatMap(
        (c) => (Array.isArray(c['ports']) ? (c['ports'] as JsonObject[]) : []),
      ),
    );
    const ports = (Array.isArray(spec['ports']) ? (spec['ports'] as JsonObject[]) : []).map((p) => {
      const target = p['targetPort'] ?? p['port'];
      const port =
        typeof target === 'number' ? target : num(containerPorts.find((c) => c['name'] === target)?.['containerPort']);
      return { ...(p['name'] ? { name: p['name'] } : { name: '' }), port, protocol: p['protocol'] ?? 'TCP' };
    });
    const endpoints = pods.map((pod) => {
      const ready =
        obj(pod['status'])['phase'] === 'Running' &&
        (obj(pod['status'])['conditions'] as JsonObject[]).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
      return {
        addresses: [String(obj(pod['status'])['podIP'])],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: NODE,
        targetRef: { kind: 'Pod', namespace, name: String(meta(pod)['name']), uid: String(meta(pod)['uid']) },
      };
    });
    const sliceType = this.type('discovery.k8s.io', 'EndpointSlice');
    const sliceName = `${name}-${createHash('sha256').update(uid).digest('hex').slice(0, 5)}`;
    const slice: JsonObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: sliceName,
        namespace,
        labels: {
          'kubernetes.io/service-name': name,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
    this.write(sliceType, namespace, sliceName, slice, 'endpointslice-controller.k8s.io');
    // The v1 Endpoints too, which `kubectl describe service` (1.32) reads.
    const address = (e: JsonObject): JsonObject => ({
      ip: (e['addresses'] as string[])[0]!,
      nodeName: NODE,
      targetRef: e['targetRef']!,
    });
    const ready = endpoints.filter((e) => e.conditions.ready).map(address);
    const notReady = endpoints.filter((e) => !e.conditions.ready).map(address);
    const subsets =
      endpoints.length === 0
        ? []
        : [
            {
              ...(ready.length > 0 ? { addresses: ready } : {}),
              ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
              ports: ports as Json[],
            },
          ];
    const endpointsObject: JsonObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels: structuredClone(obj(metadata['labels'])) },
      subsets,
    };
    this.write(this.type('', 'Endpoints'), namespace, name, endpointsObject, 'endpoint-controller');
  }

  private write(type: ResourceType, namespace: string, name: string, object: JsonObject, manager: string): void {
    if (!this.store.find(type, namespace, name)) this.store.create(type, namespace, object, { fieldManager: manager });
    else this.store.update(type, namespace, name, object, { fieldManager: manager });
  }
}

/** Newer pods first: scaling down removes the newest, as the ReplicaSet controller prefers. */
function podRank(pod: JsonObject): number {
  return Date.parse(String(meta(pod)['creationTimestamp'] ?? '')) || 0;
}
