/**
 * Field ownership for the simulated API server: the field sets of server-side apply, their `fieldsV1` form,
 * merging an applied configuration into a live object, conflicts and removal of fields an applier stopped
 * applying. It follows structured-merge-diff closely enough for a deployer to meet the behaviour it meets on a
 * real cluster: leaf fields conflict when another manager owns them and the value differs, lists of containers,
 * env vars, ports, volumes, ... merge by key, other lists are atomic.
 *
 * A path is an array of elements as fieldsV1 spells them: `f:spec`, `k:{"name":"web"}`. A field set is a set of
 * paths, each joined with `\u0000`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SEP = '\u0000';

export type FieldSet = Set<string>;

export function pathKey(path: readonly string[]): string {
  return path.join(SEP);
}

export function splitKey(key: string): string[] {
  return key.split(SEP);
}

/** Top-level fields that are identity or server-owned, never in a field set. */
const UNTRACKED_TOP = new Set(['apiVersion', 'kind', 'status']);
const UNTRACKED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

/** The key fields of an associative list, by the list's field name; null for an atomic list. */
export function listKeys(fieldName: string, items: readonly Json[]): string[] | null {
  if (!items.every(isObject)) return null;
  const objects = items as JsonObject[];
  switch (fieldName) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return ['name'];
    case 'volumeMounts':
      return ['mountPath'];
    case 'volumeDevices':
      return ['devicePath'];
    case 'conditions':
      return ['type'];
    case 'hostAliases':
      return ['ip'];
    case 'topologySpreadConstraints':
      return ['topologyKey', 'whenUnsatisfiable'];
    case 'ports':
      if (objects.some((o) => 'containerPort' in o)) return ['containerPort', 'protocol'];
      if (objects.some((o) => 'port' in o)) return ['port', 'protocol'];
      return null;
    default:
      return objects.length > 0 && objects.every((o) => typeof o['name'] === 'string') ? ['name'] : null;
  }
}

function keyOf(item: JsonObject, keys: readonly string[]): JsonObject {
  const key: JsonObject = {};
  for (const k of [...keys].sort()) {
    const value = item[k] ?? (k === 'protocol' ? 'TCP' : null);
    key[k] = value;
  }
  return key;
}

function keyElement(item: JsonObject, keys: readonly string[]): string {
  return `k:${JSON.stringify(keyOf(item, keys))}`;
}

function lastFieldName(path: readonly string[]): string {
  for (let i = path.length - 1; i >= 0; i -= 1) {
    const element = path[i]!;
    if (element.startsWith('f:')) return element.slice(2);
  }
  return '';
}

/** The field set of an object: every leaf, every map below the top level, every keyed list item. */
export function fieldSetOf(object: JsonObject): FieldSet {
  const set: FieldSet = new Set();
  const walk = (value: Json, path: string[]): void => {
    if (isObject(value)) {
      const entries = Object.entries(value);
      if (path.length > 1 || entries.length === 0) set.add(pathKey(path));
      for (const [k, v] of entries) walk(v, [...path, `f:${k}`]);
      return;
    }
    if (Array.isArray(value)) {
      const keys = listKeys(lastFieldName(path), value);
      set.add(pathKey(path));
      if (keys) {
        for (const item of value as JsonObject[]) {
          const itemPath = [...path, keyElement(item, keys)];
          set.add(pathKey(itemPath));
          for (const [k, v] of Object.entries(item)) walk(v, [...itemPath, `f:${k}`]);
        }
      }
      return;
    }
    set.add(pathKey(path));
  };
  for (const [k, v] of Object.entries(object)) {
    if (UNTRACKED_TOP.has(k)) continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (!UNTRACKED_METADATA.has(mk)) walk(mv, ['f:metadata', `f:${mk}`]);
      }
      continue;
    }
    walk(v, [`f:${k}`]);
  }
  return set;
}

/** Whether a path is a leaf in `object` (a scalar, an atomic list or an empty map), so values can be compared. */
function isLeafValue(value: Json | undefined, path: readonly string[]): boolean {
  if (value === undefined) return false;
  if (isObject(value)) return Object.keys(value).length === 0;
  if (Array.isArray(value)) return listKeys(lastFieldName(path), value) === null;
  return true;
}

/** The value at a path; undefined when absent. */
export function valueAt(object: Json, path: readonly string[]): Json | undefined {
  let node: Json | undefined = object;
  for (let i = 0; i < path.length; i += 1) {
    const element = path[i]!;
    if (node === undefined) return undefined;
    if (element.startsWith('f:')) {
      if (!isObject(node)) return undefined;
      node = node[element.slice(2)];
    } else if (element.startsWith('k:')) {
      if (!Array.isArray(node)) return undefined;
      const key = JSON.parse(element.slice(2)) as JsonObject;
      const keys = Object.keys(key);
      node = (node as Json[]).find(
        (item) => isObject(item) && JSON.stringify(keyOf(item, keys)) === JSON.stringify(key),
      );
    } else {
      return undefined;
    }
  }
  return node;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** `.spec.template.spec.containers[name="web"].image`, as the API server writes paths in conflict messages. */
export function describePath(key: string): string {
  return splitKey(key)
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('k:')) {
        const key = JSON.parse(element.slice(2)) as JsonObject;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return element;
    })
    .join('');
}

/** The leaf paths of `applied` whose value differs from `live`. */
export function changedLeaves(
  applied: JsonObject,
  live: JsonObject | null,
  set: FieldSet = fieldSetOf(applied),
): string[] {
  const changed: string[] = [];
  for (const key of set) {
    const path = splitKey(key);
    const value = valueAt(applied, path);
    if (!isLeafValue(value, path)) continue;
    if (!live || !deepEqual(value, valueAt(live, path))) changed.push(key);
  }
  return changed;
}

/** Merges an applied configuration into a live object: maps recursively, keyed lists by key, the rest replaced. */
export function mergeApplied(live: Json | undefined, applied: Json, path: string[] = []): Json {
  if (isObject(applied) && isObject(live)) {
    const result: JsonObject = { ...live };
    for (const [k, v] of Object.entries(applied)) result[k] = mergeApplied(live[k], v, [...path, `f:${k}`]);
    return result;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const keys = listKeys(lastFieldName(path), applied) ?? null;
    const liveKeys = keys && live.every(isObject) ? keys : null;
    if (keys && liveKeys) {
      const byKey = new Map(live.map((item) => [keyElement(item as JsonObject, keys), item]));
      const appliedKeys = new Set<string>();
      const merged = (applied as JsonObject[]).map((item) => {
        const element = keyElement(item, keys);
        appliedKeys.add(element);
        return mergeApplied(byKey.get(element), item, [...path, element]);
      });
      const rest = (live as JsonObject[]).filter((item) => !appliedKeys.has(keyElement(item, keys)));
      return [...merged, ...rest];
    }
  }
  return structuredClone(applied);
}

/** Removes the field at a path (a map entry or a keyed list item); does nothing when it is absent. */
export function removeAt(object: JsonObject, path: readonly string[]): void {
  const parent = valueAt(object, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isObject(parent)) {
    delete parent[last.slice(2)];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const target = valueAt(object, path);
    const index = parent.indexOf(target as Json);
    if (index !== -1) parent.splice(index, 1);
  }
}

/** A field set as the `fieldsV1` tree of managedFields. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  // Sorted, a path's descendants follow it directly (the separator sorts before every other character).
  const keys = [...set].sort();
  keys.forEach((key, i) => {
    let node = root;
    for (const element of splitKey(key)) {
      if (!isObject(node[element])) node[element] = {};
      node = node[element] as JsonObject;
    }
    if (keys[i + 1]?.startsWith(key + SEP)) node['.'] = {};
  });
  return root;
}

/** A `fieldsV1` tree as a field set. */
export function fromFieldsV1(tree: JsonObject): FieldSet {
  const set: FieldSet = new Set();
  const walk = (node: JsonObject, path: string[]): void => {
    const entries = Object.entries(node).filter(([k]) => k !== '.');
    if (path.length > 0 && (entries.length === 0 || '.' in node)) set.add(pathKey(path));
    for (const [k, v] of entries) if (isObject(v)) walk(v, [...path, k]);
  };
  walk(tree, []);
  return set;
}
