import { isObject, type JsonObject } from './fields';
import type { ResourceType } from './resources';

/**
 * Defaulting: what the API server fills in on a write when the request leaves it out, per kind, as the
 * upstream `SetDefaults_*` functions of k8s.io/api do (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go).
 * Only what a client of the simulated server can see is defaulted.
 */

function meta(object: JsonObject): JsonObject {
  if (!isObject(object['metadata'])) object['metadata'] = {};
  return object['metadata'] as JsonObject;
}

/** Sets every key of `values` that `target` lacks, recursively into maps both have. */
export function defaults(target: JsonObject, values: JsonObject): void {
  for (const [k, v] of Object.entries(values)) {
    if (target[k] === undefined) target[k] = structuredClone(v);
    else if (isObject(target[k]) && isObject(v)) defaults(target[k] as JsonObject, v);
  }
}

function podTemplateDefaults(template: unknown): void {
  if (!isObject(template) || !isObject(template['spec'])) return;
  podSpecDefaults(template['spec']);
}

export function podSpecDefaults(spec: JsonObject): void {
  defaults(spec, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
  });
  // SetDefaults_ConfigMapVolumeSource, SetDefaults_SecretVolumeSource: mode 0644.
  if (Array.isArray(spec['volumes'])) {
    for (const volume of spec['volumes']) {
      if (!isObject(volume)) continue;
      for (const source of ['configMap', 'secret']) {
        if (isObject(volume[source])) defaults(volume[source] as JsonObject, { defaultMode: 420 });
      }
    }
  }
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) if (isObject(c)) containerDefaults(c);
  }
}

/** SetDefaults_Probe: timeouts, periods and thresholds; an HTTP probe's scheme. */
function probeDefaults(probe: unknown): void {
  if (!isObject(probe)) return;
  defaults(probe, { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  if (isObject(probe['httpGet'])) defaults(probe['httpGet'], { scheme: 'HTTP' });
}

function containerDefaults(c: JsonObject): void {
  defaults(c, { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
  if (c['imagePullPolicy'] === undefined) {
    const image = String(c['image'] ?? '');
    c['imagePullPolicy'] = image.endsWith(':latest') || !/[:@][^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
  }
  if (Array.isArray(c['ports'])) for (const p of c['ports']) if (isObject(p)) defaults(p, { protocol: 'TCP' });
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) probeDefaults(c[probe]);
  // SetDefaults_ObjectFieldSelector: a fieldRef without apiVersion means v1.
  if (Array.isArray(c['env'])) {
    for (const e of c['env']) {
      const from = isObject(e) ? e['valueFrom'] : undefined;
      if (isObject(from) && isObject(from['fieldRef'])) defaults(from['fieldRef'], { apiVersion: 'v1' });
    }
  }
}

export function applyDefaults(
  type: ResourceType,
  object: JsonObject,
  previous: JsonObject | null,
  allocateIp: () => string,
): void {
  const spec = isObject(object['spec']) ? object['spec'] : null;
  const key = `${type.group}/${type.kind}`;
  if (key === '/Namespace') {
    object['status'] = { phase: 'Active' };
    defaults(meta(object), { labels: { 'kubernetes.io/metadata.name': String(meta(object)['name']) } });
    return;
  }
  if (!spec) return;
  switch (key) {
    case 'apps/Deployment':
      defaults(spec, {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate' },
      });
      if (isObject(spec['strategy']) && spec['strategy']['type'] === 'RollingUpdate') {
        defaults(spec['strategy'], { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/StatefulSet':
      defaults(spec, {
        replicas: 1,
        podManagementPolicy: 'OrderedReady',
        revisionHistoryLimit: 10,
        updateStrategy: { type: 'RollingUpdate' },
      });
      if (isObject(spec['updateStrategy']) && spec['updateStrategy']['type'] === 'RollingUpdate') {
        defaults(spec['updateStrategy'], { rollingUpdate: { partition: 0 } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/DaemonSet':
      defaults(spec, { revisionHistoryLimit: 10, updateStrategy: { type: 'RollingUpdate' } });
      if (isObject(spec['updateStrategy']) && spec['updateStrategy']['type'] === 'RollingUpdate') {
        defaults(spec['updateStrategy'], { rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/ReplicaSet':
      defaults(spec, { replicas: 1 });
      podTemplateDefaults(spec['template']);
      break;
    case '/Pod':
      podSpecDefaults(spec);
      break;
    case '/Service': {
      defaults(spec, {
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      });
      const previousIp = previous && isObject(previous['spec']) ? previous['spec']['clusterIP'] : undefined;
      if (spec['clusterIP'] === undefined) spec['clusterIP'] = (previousIp as string | undefined) ?? allocateIp();
      spec['clusterIPs'] = [spec['clusterIP'] as string];
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports']) if (isObject(p)) defaults(p, { protocol: 'TCP', targetPort: p['port'] ?? 0 });
      }
      break;
    }
  }
}
