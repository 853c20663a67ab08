/**
 * The resource types the simulated API server serves, and their discovery documents. Built-in kinds are listed
 * here; CustomResourceDefinitions register more at run time.
 */

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name in URLs: `deployments`. */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Whether metadata.generation is kept (bumped on spec changes): workloads and custom resources. */
  readonly generation: boolean;
  readonly subresources: readonly ('status' | 'scale' | 'log')[];
  /** Registered by a CRD, with its name. */
  readonly crd?: string;
  /** The verbs discovery lists; default: every verb of a stored resource. */
  readonly verbs?: readonly string[];
}

/** The kinds of the `all` category, as the API server lists them (`kubectl get all`). */
const ALL = new Set([
  '/Pod',
  '/Service',
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'batch/Job',
  'batch/CronJob',
  'autoscaling/HorizontalPodAutoscaler',
]);

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<Pick<ResourceType, 'shortNames' | 'generation' | 'subresources' | 'verbs'>> = {},
): ResourceType {
  return {
    ...(extra.verbs ? { verbs: extra.verbs } : {}),
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: extra.shortNames ?? [],
    generation: extra.generation ?? false,
    subresources: extra.subresources ?? [],
  };
}

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status'] }),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], subresources: ['status'] }),
  builtin('', 'v1', 'Pod', 'pods', true, { shortNames: ['po'], subresources: ['status', 'log'] }),
  builtin('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  builtin('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, { shortNames: ['pvc'] }),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    generation: true,
    subresources: ['status', 'scale'],
  }),
  builtin('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'],
    generation: true,
    subresources: ['status', 'scale'],
  }),
  builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
    shortNames: ['ds'],
    generation: true,
    subresources: ['status'],
  }),
  builtin('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'],
    generation: true,
    subresources: ['status', 'scale'],
  }),
  builtin('batch', 'v1', 'Job', 'jobs', true, { generation: true, subresources: ['status'] }),
  builtin('batch', 'v1', 'CronJob', 'cronjobs', true, {
    shortNames: ['cj'],
    generation: true,
    subresources: ['status'],
  }),
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  builtin('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, {
    shortNames: ['ing'],
    generation: true,
    subresources: ['status'],
  }),
  builtin('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, {
    shortNames: ['netpol'],
    generation: true,
  }),
  builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, {
    shortNames: ['pdb'],
    generation: true,
  }),
  builtin('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, { shortNames: ['hpa'] }),
  builtin('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  builtin('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  builtin('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, {
    verbs: ['create'],
  }),
  builtin('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, {
    verbs: ['create'],
  }),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'],
    generation: true,
    subresources: ['status'],
  }),
];

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The registry: built-ins plus what CRDs add. */
export class ResourceRegistry {
  private readonly types: ResourceType[] = [...BUILTIN_RESOURCES];

  public all(): readonly ResourceType[] {
    return this.types;
  }

  public byPlural(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  public byKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Any served version of a group's kind (for owner references and CRD-less lookups). */
  public byGroupKind(group: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.kind === kind);
  }

  public register(types: readonly ResourceType[]): void {
    for (const type of types) {
      const index = this.types.findIndex(
        (t) => t.group === type.group && t.version === type.version && t.plural === type.plural,
      );
      if (index === -1) this.types.push(type);
      else this.types[index] = type;
    }
  }

  public unregisterCrd(crdName: string): void {
    for (let i = this.types.length - 1; i >= 0; i -= 1) {
      if (this.types[i]!.crd === crdName) this.types.splice(i, 1);
    }
  }

  public groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const type of this.types) {
      if (type.group === '') continue;
      const versions = groups.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      groups.set(type.group, versions);
    }
    return groups;
  }

  /** The APIResourceList of one group version, or null when the group version is not served. */
  public resourceList(group: string, version: string): Record<string, unknown> | null {
    const types = this.types.filter((t) => t.group === group && t.version === version);
    if (types.length === 0) return null;
    const resources: Record<string, unknown>[] = [];
    for (const type of types) {
      const entry: Record<string, unknown> = {
        name: type.plural,
        singularName: type.singular,
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: type.verbs ?? VERBS,
      };
      if (type.shortNames.length > 0) entry['shortNames'] = type.shortNames;
      if (ALL.has(`${type.group}/${type.kind}`)) entry['categories'] = ['all'];
      resources.push(entry);
      for (const sub of type.subresources) {
        resources.push({
          name: `${type.plural}/${sub}`,
          singularName: '',
          namespaced: type.namespaced,
          ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { kind: type.kind }),
          verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
        });
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
  }

  public groupList(): Record<string, unknown> {
    const groups = [...this.groups()].map(([name, versions]) => groupDocument(name, versions));
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
}

export function groupDocument(name: string, versions: readonly string[]): Record<string, unknown> {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: entries, preferredVersion: entries[0] };
}

/** The resource types a CustomResourceDefinition declares (one per served version). */
export function typesFromCrd(crd: Record<string, unknown>): ResourceType[] {
  const spec = crd['spec'] as Record<string, unknown> | undefined;
  const names = spec?.['names'] as Record<string, unknown> | undefined;
  const versions = spec?.['versions'];
  const metadata = crd['metadata'] as Record<string, unknown>;
  if (!spec || !names || !Array.isArray(versions)) return [];
  const plural = String(names['plural'] ?? '');
  const kind = String(names['kind'] ?? '');
  return versions
    .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && v['served'] !== false)
    .map((v) => {
      const subresources = (v['subresources'] ?? {}) as Record<string, unknown>;
      return {
        group: String(spec['group'] ?? ''),
        version: String(v['name'] ?? ''),
        kind,
        plural,
        singular: String(names['singular'] ?? kind.toLowerCase()),
        namespaced: spec['scope'] !== 'Cluster',
        shortNames: Array.isArray(names['shortNames']) ? names['shortNames'].map(String) : [],
        generation: true,
        subresources: [
          ...('status' in subresources ? (['status'] as const) : []),
          ...('scale' in subresources ? (['scale'] as const) : []),
        ],
        crd: String(metadata['name']),
      };
    });
}
