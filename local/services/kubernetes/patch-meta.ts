/**
 * The patch strategies and merge keys of the built-in kinds' fields, as the upstream OpenAPI document
 * (kubernetes/kubernetes api/openapi-spec, `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`) and
 * the struct tags of k8s.io/api (`patchStrategy`, `patchMergeKey`) declare them, keyed by client-node model and
 * field. A field that is not listed is replaced whole by a strategic merge patch (lists) or merged (maps).
 * The Kubernetes documentation shows the same for DeploymentSpec.strategy ("retainKeys") and PodSpec.containers
 * ("merge" by "name"): docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch.
 */

export interface PatchMeta {
  /** `merge`, `retainKeys`, or both (`merge,retainKeys`). */
  readonly strategy: string;
  /** The merge key of a list of objects; absent for a list of scalars merged as a set. */
  readonly key?: string;
}

const merge = (key?: string): PatchMeta => ({ strategy: 'merge', ...(key ? { key } : {}) });
const mergeRetain = (key: string): PatchMeta => ({ strategy: 'merge,retainKeys', key });
const containerLists = {
  ports: merge('containerPort'),
  env: merge('name'),
  volumeMounts: merge('mountPath'),
  volumeDevices: merge('devicePath'),
};
const conditions = { conditions: merge('type') };

const TABLE: Readonly<Record<string, Readonly<Record<string, PatchMeta>>>> = {
  V1ObjectMeta: { finalizers: merge(), ownerReferences: merge('uid') },
  V1PodSpec: {
    volumes: mergeRetain('name'),
    initContainers: merge('name'),
    containers: merge('name'),
    ephemeralContainers: merge('name'),
    imagePullSecrets: merge('name'),
    hostAliases: merge('ip'),
    topologySpreadConstraints: merge('topologyKey'),
    resourceClaims: mergeRetain('name'),
    schedulingGates: merge('name'),
  },
  V1Container: containerLists,
  V1EphemeralContainer: containerLists,
  V1PodStatus: {
    ...conditions,
    podIPs: merge('ip'),
    hostIPs: merge('ip'),
    resourceClaimStatuses: mergeRetain('name'),
  },
  V1ServiceSpec: { ports: merge('port') },
  V1ServiceStatus: conditions,
  V1ServiceAccount: { secrets: merge('name') },
  V1NamespaceStatus: conditions,
  V1PersistentVolumeClaimStatus: conditions,
  V1DeploymentSpec: { strategy: { strategy: 'retainKeys' } },
  V1DeploymentStatus: conditions,
  V1ReplicaSetStatus: conditions,
  V1StatefulSetStatus: conditions,
  V1DaemonSetStatus: conditions,
  V1JobStatus: conditions,
  V1PodDisruptionBudgetStatus: conditions,
  V2HorizontalPodAutoscalerStatus: conditions,
};

export function patchMetaOf(model: string, field: string): PatchMeta | undefined {
  return TABLE[model]?.[field];
}
