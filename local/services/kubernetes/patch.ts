import { isObject, type Json, type JsonObject } from './fields';
import { type Model, model, modelOfType } from './schema';
import { badRequest, StatusError } from './status';

/**
 * The three patch formats of the API server besides apply: RFC 7386 JSON merge patch, RFC 6902 JSON patch,
 * and the strategic merge patch of k8s.io/apimachinery/pkg/util/strategicpatch, which merges lists by their
 * patch merge keys (containers and env by name, ports by containerPort, ...) and honours the `$patch`
 * (replace, merge, delete), `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`
 * directives. kubectl's apply, edit, patch and set image send strategic merge patches.
 */

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** A strategic merge patch applied to an object whose schema is the client-node model `modelName`. */
export function strategicMergePatch(target: JsonObject, patch: Json, modelName: string): JsonObject {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  const merged = mergeMap(target, patch, model(modelName));
  return merged ?? {};
}

/** Merges a patch map into an original map; null when a `$patch: delete` removes the map. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: Model | null): JsonObject | null {
  const directive = patch[PATCH];
  if (directive === 'delete') return null;
  if (directive === 'replace') return stripDirectives(withoutKey(patch, PATCH), schema);
  if (directive !== undefined && directive !== 'merge') {
    throw badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  let result: JsonObject = structuredClone(original);
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('$retainKeys must be a list of field names');
    const keep = new Set(retain.map(String));
    result = Object.fromEntries(Object.entries(result).filter(([k]) => keep.has(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        const drop = value.map((v) => JSON.stringify(v));
        result[field] = current.filter((item) => !drop.includes(JSON.stringify(item)));
      }
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ORDER) || key.startsWith(DELETE_PRIMITIVE)) continue;
    const property = schema?.properties.get(key);
    if (value === null) {
      delete result[key];
      continue;
    }
    const childSchema = modelOfType(property?.type);
    if (isObject(value)) {
      const current = result[key];
      const merged = mergeMap(isObject(current) ? current : {}, value, childSchema);
      if (merged === null) delete result[key];
      else result[key] = merged;
      continue;
    }
    if (Array.isArray(value)) {
      const current = result[key];
      const strategy = property?.patch?.strategy ?? '';
      result[key] = strategy.includes('merge')
        ? mergeList(Array.isArray(current) ? current : [], value, property?.patch?.key, childSchema)
        : (stripList(value, childSchema) as Json[]);
      continue;
    }
    result[key] = value;
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER) || !Array.isArray(order)) continue;
    const field = key.slice(SET_ORDER.length);
    const list = result[field];
    const mergeKey = schema?.properties.get(field)?.patch?.key;
    if (Array.isArray(list)) result[field] = setElementOrder(list, order, mergeKey);
  }
  return result;
}

/** Merges a patch list into an original list by the merge key (a list of scalars: as a set). */
function mergeList(original: Json[], patch: Json[], mergeKey: string | undefined, schema: Model | null): Json[] {
  if (patch.some((item) => isObject(item) && item[PATCH] === 'replace')) {
    return stripList(
      patch.filter((item) => !(isObject(item) && item[PATCH] === 'replace')),
      schema,
    ) as Json[];
  }
  if (!mergeKey) {
    const out = [...original];
    const seen = new Set(out.map((item) => JSON.stringify(item)));
    for (const item of patch) {
      if (!seen.has(JSON.stringify(item))) {
        out.push(structuredClone(item));
        seen.add(JSON.stringify(item));
      }
    }
    return out;
  }
  const out: Json[] = structuredClone(original);
  const indexOf = (key: Json | undefined): number =>
    out.findIndex((item) => isObject(item) && JSON.stringify(item[mergeKey]) === JSON.stringify(key));
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`the list items of a strategic merge patch on ${mergeKey} must be maps`);
    if (item[mergeKey] === undefined) {
      throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    }
    const at = indexOf(item[mergeKey]);
    if (item[PATCH] === 'delete') {
      if (at !== -1) out.splice(at, 1);
      continue;
    }
    if (at === -1) {
      out.push(stripDirectives(item, schema));
    } else {
      const merged = mergeMap(out[at] as JsonObject, item, schema);
      if (merged === null) out.splice(at, 1);
      else out[at] = merged;
    }
  }
  return out;
}

/**
 * Orders a merged list as `$setElementOrder` says: the listed items in that order; items the patch did not
 * list (the server's own) keep their place after the item that preceded them.
 */
function setElementOrder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const keyOf = (item: Json): string => JSON.stringify(mergeKey && isObject(item) ? (item[mergeKey] ?? null) : item);
  const wanted = order.map((o) => JSON.stringify(mergeKey && isObject(o) ? (o[mergeKey] ?? null) : o));
  const rank = new Map(wanted.map((k, i) => [k, i]));
  const listed = list.filter((item) => rank.has(keyOf(item))).sort((a, b) => rank.get(keyOf(a))! - rank.get(keyOf(b))!);
  const out: Json[] = [];
  let next = 0;
  for (const item of list) {
    if (rank.has(keyOf(item))) out.push(listed[next++]!);
    else out.push(item);
  }
  return out;
}

function withoutKey(object: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}

/** A patch value stored as it is: its directives removed, nulls dropped. */
function stripDirectives(value: JsonObject, schema: Model | null): JsonObject {
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('$') || v === null) continue;
    const child = modelOfType(schema?.properties.get(key)?.type);
    if (isObject(v)) {
      if (v[PATCH] === 'delete') continue;
      out[key] = stripDirectives(v, child);
    } else if (Array.isArray(v)) out[key] = stripList(v, child) as Json[];
    else out[key] = v;
  }
  return out;
}

function stripList(list: Json[], schema: Model | null): Json[] {
  return list
    .filter((item) => !(isObject(item) && (item[PATCH] === 'delete' || item[PATCH] === 'replace')))
    .map((item) => (isObject(item) ? stripDirectives(item, schema) : item));
}

/** RFC 6902 JSON patch: add, replace, remove, test, move, copy. */
export function jsonPatch(target: JsonObject, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch must be a list of operations');
  let document = structuredClone(target) as Json;
  for (const op of operations) {
    if (!isObject(op) || typeof op['path'] !== 'string') throw badRequest('invalid JSON patch operation');
    if (op['op'] === 'move' || op['op'] === 'copy') {
      if (typeof op['from'] !== 'string') throw badRequest(`JSON patch ${String(op['op'])} needs from`);
      const value = valueAtPointer(document, op['from']);
      if (op['op'] === 'move') document = applyOperation(document, { op: 'remove', path: op['from'] });
      document = applyOperation(document, { op: 'add', path: op['path'], value: value ?? null });
      continue;
    }
    document = applyOperation(document, op);
  }
  return document;
}

function steps(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAtPointer(document: Json, pointer: string): Json | undefined {
  let node: Json | undefined = document;
  for (const step of steps(pointer)) {
    node = Array.isArray(node) ? node[Number(step)] : isObject(node) ? node[step] : undefined;
  }
  return node;
}

function applyOperation(document: Json, op: JsonObject): Json {
  const path = String(op['path']);
  const all = steps(path);
  const last = all.pop();
  let parent: Json = document;
  for (const step of all) {
    parent = Array.isArray(parent) ? (parent[Number(step)] ?? null) : isObject(parent) ? (parent[step] ?? null) : null;
  }
  if (last === undefined || parent === null || typeof parent !== 'object')
    throw badRequest(`JSON patch path ${path} does not exist`);
  const container = parent as JsonObject | Json[];
  if (op['op'] === 'test') {
    const actual = Array.isArray(container) ? container[Number(last)] : container[last];
    if (JSON.stringify(actual) !== JSON.stringify(op['value']))
      throw new StatusError(422, 'Invalid', `JSON patch test failed at ${path}`);
  } else if (op['op'] === 'remove') {
    if (Array.isArray(container)) container.splice(Number(last), 1);
    else delete container[last];
  } else if (op['op'] === 'add' || op['op'] === 'replace') {
    const value = structuredClone(op['value'] ?? null);
    if (Array.isArray(container)) {
      if (op['op'] === 'add') container.splice(last === '-' ? container.length : Number(last), 0, value);
      else container[Number(last)] = value;
    } else {
      container[last] = value;
    }
  } else {
    throw badRequest(`unsupported JSON patch operation ${String(op['op'])}`);
  }
  return document;
}
