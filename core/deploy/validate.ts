import { ManifestInvalid, type ManifestIssue } from './errors';
import { builtinNamespaced, POD_SPEC_PATHS } from './kinds';
import { groupOf, isRecord, type KubernetesObject, type ManifestDocument, objectKey } from './types';

/** What an environment allows its manifests to touch. */
export interface DeployScope {
  /** Namespace of namespaced objects that name none. */
  readonly namespace: string;
  /** Further namespaces the manifests may name. */
  readonly allowedNamespaces: readonly string[];
  /** Cluster-scoped kinds the manifests may contain. */
  readonly clusterScopedKinds: readonly string[];
}

/**
 * How the cluster scopes a kind that is not built in: true namespaced, false cluster-scoped, null unknown
 * (the cluster does not serve it). Built-in kinds never reach it.
 */
export type ScopeLookup = (apiVersion: string, kind: string) => boolean | null;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const API_VERSION =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The scopes that CustomResourceDefinitions in the manifests declare, so that their custom resources can be
 * validated before the CRDs exist in the cluster. Keyed `group/Kind`.
 */
export function scopesFromCrds(documents: readonly ManifestDocument[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const { object } of documents) {
    if (object.kind !== 'CustomResourceDefinition' || !isRecord(object['spec'])) continue;
    const spec = object['spec'];
    const names = spec['names'];
    if (typeof spec['group'] === 'string' && isRecord(names) && typeof names['kind'] === 'string') {
      scopes.set(`${spec['group']}/${names['kind']}`, spec['scope'] !== 'Cluster');
    }
  }
  return scopes;
}

/**
 * Checks every document before anything is applied, and fills in the environment's namespace where a
 * namespaced object names none. Returns the objects to apply (copies, in manifest order); throws
 * `ManifestInvalid` listing every problem (the document, the field, what is wrong) otherwise.
 *
 * Checked: apiVersion, kind and metadata.name are present and well formed; labels and annotations are maps of
 * strings with valid keys; the namespace is the environment's or an allowed one; cluster-scoped kinds are
 * among `clusterScopedKinds` and Namespaces created are allowed ones; no object appears twice; workloads have
 * a pod template whose containers have names and images; the kind is served by the cluster.
 */
export function validateDocuments(
  documents: readonly ManifestDocument[],
  scope: DeployScope,
  lookupScope: ScopeLookup,
): KubernetesObject[] {
  const issues: ManifestIssue[] = [];
  const crdScopes = scopesFromCrds(documents);
  const allowedNamespaces = new Set([scope.namespace, ...scope.allowedNamespaces]);
  const seen = new Map<string, string>();
  const objects: KubernetesObject[] = [];
  if (documents.length === 0) {
    issues.push({
      source: { file: '(manifests)', index: 0 },
      object: null,
      field: '',
      message: 'contain no documents',
    });
  }

  for (const { source, object: original } of documents) {
    const object = structuredClone(original);
    const problem = (field: string, message: string, named = true): void => {
      const label = named && typeof object.kind === 'string' && isRecord(object.metadata) ? nameOf(object) : null;
      issues.push({ source, object: label, field, message });
    };
    const before = issues.length;

    if (typeof object.apiVersion !== 'string' || object.apiVersion === '') {
      problem('apiVersion', 'is missing', false);
    } else if (!API_VERSION.test(object.apiVersion)) {
      problem('apiVersion', `"${object.apiVersion}" is not an API version such as "v1" or "apps/v1"`, false);
    }
    if (typeof object.kind !== 'string' || object.kind === '') {
      problem('kind', 'is missing', false);
    } else if (!KIND.test(object.kind)) {
      problem('kind', `"${object.kind}" is not a kind such as "Deployment"`, false);
    }
    if (!isRecord(object.metadata)) {
      problem('metadata', 'is missing', false);
      continue;
    }
    const metadata = object.metadata;
    if (typeof metadata.name !== 'string' || metadata.name === '') {
      problem(
        'metadata.name',
        metadata['generateName'] ? 'is missing (generateName cannot be applied)' : 'is missing',
        false,
      );
    } else if (metadata.name.length > 253 || !DNS_SUBDOMAIN.test(metadata.name)) {
      problem(
        'metadata.name',
        `"${metadata.name}" must be lowercase letters, digits, "-" and "." (at most 253)`,
        false,
      );
    }
    if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
      problem('metadata.namespace', 'must be a string');
    }
    checkStringMap(metadata.labels, 'metadata.labels', true, problem);
    checkStringMap(metadata.annotations, 'metadata.annotations', false, problem);
    if (issues.length > before) continue;

    const group = groupOf(object.apiVersion);
    const namespaced =
      builtinNamespaced(group, object.kind) ??
      crdScopes.get(`${group}/${object.kind}`) ??
      lookupScope(object.apiVersion, object.kind);
    if (namespaced === null) {
      problem(
        'kind',
        `${object.kind} (${object.apiVersion}) is not served by the cluster: is its CustomResourceDefinition installed?`,
      );
      continue;
    }
    if (namespaced) {
      const namespace = metadata.namespace ?? scope.namespace;
      if (!allowedNamespaces.has(namespace)) {
        problem(
          'metadata.namespace',
          `"${namespace}" is not allowed in this environment (allowed: ${[...allowedNamespaces].join(', ')})`,
        );
      }
      metadata.namespace = namespace;
    } else {
      if (!scope.clusterScopedKinds.includes(object.kind)) {
        const allowed = scope.clusterScopedKinds.length > 0 ? scope.clusterScopedKinds.join(', ') : 'none';
        problem(
          'kind',
          `${object.kind} is cluster-scoped and not among this environment's clusterScopedKinds (${allowed})`,
        );
      }
      if (object.kind === 'Namespace' && group === '' && !allowedNamespaces.has(metadata.name)) {
        problem('metadata.name', `namespace "${metadata.name}" is not among the environment's namespaces`);
      }
      // As kubectl does: a namespace on a cluster-scoped object means nothing and is dropped.
      delete metadata.namespace;
    }

    const podSpecPath = group === 'apps' || group === 'batch' || group === '' ? POD_SPEC_PATHS[object.kind] : undefined;
    if (podSpecPath) checkPodSpec(object, podSpecPath, problem);

    const key = objectKey({
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: metadata.name,
      namespace: metadata.namespace,
    });
    const first = seen.get(key);
    if (first) {
      problem('metadata.name', `is the same object as ${first}`);
    } else {
      seen.set(key, `${source.file}#${source.index}`);
    }
    if (issues.length === before) objects.push(object);
  }

  if (issues.length > 0) throw new ManifestInvalid(issues);
  return objects;
}

function nameOf(object: KubernetesObject): string {
  return `${object.kind} ${typeof object.metadata.name === 'string' ? object.metadata.name : '(unnamed)'}`;
}

function checkStringMap(
  value: unknown,
  field: string,
  labels: boolean,
  problem: (field: string, message: string) => void,
): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    problem(field, 'must be a map of strings');
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (!LABEL_NAME.test(key))
      problem(`${field}.${key}`, 'is not a valid key (prefix/name, name at most 63 characters)');
    if (typeof entry !== 'string') {
      problem(`${field}.${key}`, `must be a string, not ${typeof entry} (quote it in YAML)`);
    } else if (labels && !LABEL_VALUE.test(entry)) {
      problem(`${field}.${key}`, 'is not a valid label value (at most 63 letters, digits, "-", "_", ".")');
    }
  }
}

function checkPodSpec(
  object: KubernetesObject,
  path: readonly string[],
  problem: (field: string, message: string) => void,
): void {
  let node: unknown = object;
  for (const [i, step] of path.entries()) {
    if (!isRecord(node) || !isRecord(node[step])) {
      problem(path.slice(0, i + 1).join('.'), 'is missing (a workload needs a pod template)');
      return;
    }
    node = node[step];
  }
  const podSpec = node as Record<string, unknown>;
  const base = path.join('.');
  for (const listName of ['initContainers', 'containers']) {
    const list = podSpec[listName];
    if (list === undefined && listName === 'initContainers') continue;
    if (!Array.isArray(list) || list.length === 0) {
      problem(`${base}.${listName}`, 'must list at least one container');
      continue;
    }
    const names = new Set<string>();
    list.forEach((container: unknown, i: number) => {
      const at = `${base}.${listName}[${i}]`;
      if (!isRecord(container)) {
        problem(at, 'must be a mapping');
        return;
      }
      if (typeof container['name'] !== 'string' || !DNS_LABEL.test(container['name'])) {
        problem(`${at}.name`, 'must be a DNS label (lowercase letters, digits, "-")');
      } else if (names.has(container['name'])) {
        problem(`${at}.name`, `"${container['name']}" is used by two containers`);
      } else {
        names.add(container['name']);
      }
      if (typeof container['image'] !== 'string' || container['image'] === '') {
        problem(`${at}.image`, 'is missing');
      }
    });
  }
}
