import { ENVIRONMENT_LABEL, isRecord, type KubernetesObject } from '../types';

/**
 * The objects of a canary or blue-green rollout, made from the rendered ones: the target Deployment, its
 * `<name>-canary` (or `<name>-preview`) copy with the new image, a preview Service, and the track label that tells
 * their pods apart. Pure. Kubernetes documents this shape ("Canary deployments", Managing Workloads): two
 * Deployments whose pods share the Service's selector labels and differ in a `track` label.
 */

/** The pod label that says which Deployment a pod belongs to: `stable`, `canary` or `preview`. */
export const TRACK_LABEL = 'stepline.dev/track';
export type Track = 'stable' | 'canary' | 'preview';

type Json = Record<string, unknown>;

const at = (object: unknown, ...path: string[]): unknown => {
  let node = object;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  return node;
};

export function isDeployment(object: KubernetesObject): boolean {
  return object.kind === 'Deployment' && (object.apiVersion === 'apps/v1' || object.apiVersion.startsWith('apps/'));
}

/** `spec.replicas`, 1 when unset (the API server's default). */
export function replicasOf(deployment: KubernetesObject): number {
  const replicas = at(deployment, 'spec', 'replicas');
  return typeof replicas === 'number' ? replicas : 1;
}

export function selectorOf(deployment: KubernetesObject): Record<string, string> {
  const labels = at(deployment, 'spec', 'selector', 'matchLabels');
  return isRecord(labels) ? (labels as Record<string, string>) : {};
}

export function templateLabelsOf(deployment: KubernetesObject): Record<string, string> {
  const labels = at(deployment, 'spec', 'template', 'metadata', 'labels');
  return isRecord(labels) ? (labels as Record<string, string>) : {};
}

/** A copy with `spec.replicas` set. */
export function withReplicas(deployment: KubernetesObject, replicas: number): KubernetesObject {
  const copy = structuredClone(deployment);
  (copy['spec'] as Json)['replicas'] = replicas;
  return copy;
}

/** A copy whose pod template carries the track label (the selector is immutable and is left alone). */
export function withTrack(deployment: KubernetesObject, track: Track): KubernetesObject {
  const copy = structuredClone(deployment);
  const template = (((copy['spec'] as Json)['template'] as Json | undefined) ?? {}) as Json;
  const metadata = ((template['metadata'] as Json | undefined) ?? {}) as Json;
  metadata['labels'] = { ...((metadata['labels'] as Json | undefined) ?? {}), [TRACK_LABEL]: track };
  template['metadata'] = metadata;
  (copy['spec'] as Json)['template'] = template;
  return copy;
}

/**
 * `<name>-canary` or `<name>-preview`: the target's spec with the new image, its selector and pod labels plus the
 * track, `replicas` pods. Its name is fixed, so a run that crashed leaves one that the next run adopts, never a
 * second one.
 */
export function trackCopy(target: KubernetesObject, track: 'canary' | 'preview', replicas: number): KubernetesObject {
  const copy = withReplicas(withTrack(target, track), replicas);
  copy.metadata = {
    name: `${target.metadata.name}-${track}`,
    ...(target.metadata.namespace ? { namespace: target.metadata.namespace } : {}),
    labels: { ...(target.metadata.labels ?? {}), [TRACK_LABEL]: track },
    ...(target.metadata.annotations ? { annotations: { ...target.metadata.annotations } } : {}),
  };
  const spec = copy['spec'] as Json;
  spec['selector'] = { matchLabels: { ...selectorOf(target), [TRACK_LABEL]: track } };
  return copy;
}

/** Whether a Service's selector picks the target's pods (every selector label on the pod template). */
export function selectsPods(service: KubernetesObject, deployment: KubernetesObject): boolean {
  const selector = at(service, 'spec', 'selector');
  if (!isRecord(selector) || Object.keys(selector).length === 0) return false;
  const labels = templateLabelsOf(deployment);
  return Object.entries(selector).every(([key, value]) => key === TRACK_LABEL || labels[key] === value);
}

/** A copy of a Service whose selector also requires the track. */
export function serviceForTrack(service: KubernetesObject, track: Track): KubernetesObject {
  const copy = structuredClone(service);
  const spec = copy['spec'] as Json;
  spec['selector'] = { ...((spec['selector'] as Json | undefined) ?? {}), [TRACK_LABEL]: track };
  return copy;
}

/** `<service>-preview`: the active Service's ports, ClusterIP, selecting the preview pods. */
export function previewService(active: KubernetesObject): KubernetesObject {
  const spec = (active['spec'] as Json | undefined) ?? {};
  const ports = Array.isArray(spec['ports'])
    ? (spec['ports'] as Json[]).map(({ nodePort: _nodePort, ...port }) => port)
    : [];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${active.metadata.name}-preview`,
      ...(active.metadata.namespace ? { namespace: active.metadata.namespace } : {}),
      labels: { ...(active.metadata.labels ?? {}), [TRACK_LABEL]: 'preview' },
    },
    spec: {
      type: 'ClusterIP',
      ports,
      selector: { ...((spec['selector'] as Json | undefined) ?? {}), [TRACK_LABEL]: 'preview' },
    },
  };
}

/** The label selector of the canary and preview Deployments of an environment (for adoption and abort). */
export function trackSelector(environment: string): string {
  return `${ENVIRONMENT_LABEL}=${environment},${TRACK_LABEL}`;
}

/** A live object reduced to what an apply may send back: identity, labels, annotations, spec. */
export function applicable(live: KubernetesObject): KubernetesObject {
  const { metadata, status: _status, ...rest } = live;
  return {
    ...rest,
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: {
      name: metadata.name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: ownAnnotations(metadata.annotations) } : {}),
    },
  };
}

/** Annotations without those the Deployment controller writes (`deployment.kubernetes.io/revision`). */
function ownAnnotations(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).filter(([key]) => !key.startsWith('deployment.kubernetes.io/')),
  );
}
