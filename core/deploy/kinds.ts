/**
 * What the deployer knows about Kubernetes kinds without asking a cluster: which are cluster-scoped, in which
 * order to apply them, and whose rollout to watch. Kinds not listed (custom resources) are resolved through
 * the cluster's discovery, or through a CustomResourceDefinition in the same manifests.
 */

/** Built-in cluster-scoped kinds, by API group (`''` is the core group). */
const CLUSTER_SCOPED: Readonly<Record<string, readonly string[]>> = {
  '': ['Namespace', 'Node', 'PersistentVolume', 'ComponentStatus'],
  'rbac.authorization.k8s.io': ['ClusterRole', 'ClusterRoleBinding'],
  'apiextensions.k8s.io': ['CustomResourceDefinition'],
  'apiregistration.k8s.io': ['APIService'],
  'storage.k8s.io': ['StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment'],
  'scheduling.k8s.io': ['PriorityClass'],
  'node.k8s.io': ['RuntimeClass'],
  'networking.k8s.io': ['IngressClass'],
  'admissionregistration.k8s.io': [
    'MutatingWebhookConfiguration',
    'ValidatingWebhookConfiguration',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ],
  'certificates.k8s.io': ['CertificateSigningRequest'],
  'flowcontrol.apiserver.k8s.io': ['FlowSchema', 'PriorityLevelConfiguration'],
};

/** Built-in namespaced kinds, by API group, so that no discovery is needed for them. */
const NAMESPACED: Readonly<Record<string, readonly string[]>> = {
  '': [
    'ConfigMap',
    'Secret',
    'Service',
    'ServiceAccount',
    'Pod',
    'PersistentVolumeClaim',
    'ReplicationController',
    'Endpoints',
    'LimitRange',
    'ResourceQuota',
    'Event',
    'PodTemplate',
  ],
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision'],
  batch: ['Job', 'CronJob'],
  autoscaling: ['HorizontalPodAutoscaler'],
  policy: ['PodDisruptionBudget'],
  'networking.k8s.io': ['Ingress', 'NetworkPolicy'],
  'rbac.authorization.k8s.io': ['Role', 'RoleBinding'],
  'coordination.k8s.io': ['Lease'],
  'discovery.k8s.io': ['EndpointSlice'],
  'events.k8s.io': ['Event'],
};

/** Whether a built-in kind is namespaced; null when the kind is not a built-in one (a custom resource). */
export function builtinNamespaced(group: string, kind: string): boolean | null {
  if (CLUSTER_SCOPED[group]?.includes(kind)) return false;
  if (NAMESPACED[group]?.includes(kind)) return true;
  return null;
}

/**
 * Apply order: what others depend on comes first. Namespaces; CRDs (so that their custom resources can be
 * applied later); policy and quota of the namespace; ServiceAccounts and RBAC; configuration (ConfigMaps,
 * Secrets) and storage; Services; workloads; what points at workloads (autoscalers, ingresses); custom
 * resources last. Documents of the same rank keep their manifest order.
 */
const APPLY_ORDER: readonly string[] = [
  'Namespace',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
  'RuntimeClass',
  'ResourceQuota',
  'LimitRange',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Secret',
  'ConfigMap',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

/** The rank of a kind in the apply order; unknown kinds (custom resources) come after every known one. */
export function applyRank(kind: string): number {
  const rank = APPLY_ORDER.indexOf(kind);
  return rank === -1 ? APPLY_ORDER.length : rank;
}

/** Workload kinds whose rollout `kubectl rollout status` knows. */
export const WORKLOAD_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** Kinds whose pod template the image is rendered into, with the path of their pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};

/**
 * Whether the rollout of an object is watched: the workloads, and custom resources (whose operators report
 * progress through kstatus conditions). Built-in objects without a rollout (ConfigMaps, Services, RBAC, ...)
 * are not.
 */
export function isWatched(group: string, kind: string): boolean {
  if (WORKLOAD_KINDS.includes(kind) && group === 'apps') return true;
  return builtinNamespaced(group, kind) === null;
}
