import { isObject, type Json, type JsonObject } from './fields';
import type { ResourceType } from './resources';
import { type Model, model, modelNameOf, type TypeRef } from './schema';
import { badRequest, invalid } from './status';

/**
 * Decoding a request body as the API server does: fields the kind's schema does not declare are dropped (a
 * built-in kind's Go struct has no place for them; a custom resource's are pruned unless its schema says
 * `x-kubernetes-preserve-unknown-fields`), and the request's `fieldValidation` says what that costs: `Strict`
 * refuses the request, `Warn` (the default) answers with a `Warning` header per field, `Ignore` says nothing.
 * A custom resource is also checked against its CRD's openAPIV3Schema: a value of the wrong type is refused.
 * See docs/reference/using-api/api-concepts/#field-validation and
 * docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning.
 */

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation: Unsupported value: "${value}": supported values: "Ignore", "Strict", "Warn"`);
}

export interface Decoded {
  readonly object: JsonObject;
  /** `unknown field "spec.foo"` for each field dropped. */
  readonly warnings: readonly string[];
}

const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * The body as stored: unknown fields dropped. `partial` (an applied configuration) skips nothing else; the
 * directives of a strategic merge patch (`$patch`, `$setElementOrder/...`) are kept.
 */
export function decode(
  type: ResourceType,
  body: JsonObject,
  validation: FieldValidation,
  crdSchema: JsonObject | null,
): Decoded {
  const unknown: string[] = [];
  const errors: { field: string; message: string }[] = [];
  let object: JsonObject;
  if (crdSchema) {
    object = pruneCustom(body, crdSchema, '', unknown, errors, true) as JsonObject;
    const metadata = model('V1ObjectMeta');
    if (isObject(body['metadata']) && metadata)
      object['metadata'] = pruneModel(body['metadata'], metadata, 'metadata', unknown);
  } else {
    const name = modelNameOf(type);
    const root = name ? model(name) : null;
    object = root ? pruneModel(body, root, '', unknown) : body;
  }
  if (errors.length > 0) {
    const metadata = isObject(body['metadata']) ? body['metadata'] : {};
    throw invalid(type.group, type.kind, String(metadata['name'] ?? ''), errors);
  }
  if (unknown.length > 0 && validation === 'Strict') {
    const fields = unknown.map((f) => `unknown field "${f}"`).join(', ');
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${fields}`,
    );
  }
  return { object, warnings: validation === 'Warn' ? unknown.map((f) => `unknown field "${f}"`) : [] };
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function pruneModel(value: JsonObject, schema: Model, path: string, unknown: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('$')) {
      out[key] = v;
      continue;
    }
    const property = schema.properties.get(key);
    if (!property) {
      unknown.push(join(path, key));
      continue;
    }
    out[key] = pruneTyped(v, property.type, join(path, key), unknown);
  }
  return out;
}

function pruneTyped(value: Json, type: TypeRef, path: string, unknown: string[]): Json {
  if (type.kind === 'model' && isObject(value)) {
    const m = model(type.model);
    return m ? pruneModel(value, m, path, unknown) : value;
  }
  if (type.kind === 'array' && Array.isArray(value)) {
    return value.map((item, i) => pruneTyped(item, type.items, `${path}[${i}]`, unknown));
  }
  if (type.kind === 'map' && isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, pruneTyped(v, type.values, `${path}.${k}`, unknown)]),
    );
  }
  return value;
}

const TYPE_NAMES: Record<string, (v: Json) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  object: (v) => isObject(v),
  array: (v) => Array.isArray(v),
};

function describeValue(value: Json): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
}

/** A custom resource's value checked and pruned against its structural schema. */
function pruneCustom(
  value: Json,
  schema: JsonObject,
  path: string,
  unknown: string[],
  errors: { field: string; message: string }[],
  root = false,
): Json {
  if (value === null) {
    if (schema['nullable'] !== true && !root)
      errors.push({ field: path, message: 'Invalid value: "null": field must not be null' });
    return value;
  }
  const type = schema['type'];
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      errors.push({
        field: path,
        message: `Invalid value: ${describeValue(value)}: ${path} in body must be of type integer,string`,
      });
    }
    return value;
  }
  if (typeof type === 'string' && TYPE_NAMES[type] && !TYPE_NAMES[type]!(value)) {
    const actual = Array.isArray(value) ? 'array' : isObject(value) ? 'object' : typeof value;
    errors.push({
      field: path,
      message: `Invalid value: "${actual}": ${path} in body must be of type ${type}: "${actual}"`,
    });
    return value;
  }
  if (Array.isArray(schema['enum']) && !schema['enum'].some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    const allowed = schema['enum'].map((e) => JSON.stringify(e)).join(', ');
    errors.push({ field: path, message: `Unsupported value: ${describeValue(value)}: supported values: ${allowed}` });
  }
  if (Array.isArray(value)) {
    const items = isObject(schema['items']) ? schema['items'] : null;
    return items ? value.map((item, i) => pruneCustom(item, items, `${path}[${i}]`, unknown, errors)) : value;
  }
  if (!isObject(value)) return value;
  const properties = isObject(schema['properties']) ? schema['properties'] : null;
  const additional = schema['additionalProperties'];
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const child = join(path, key);
    if (root && ROOT_FIELDS.has(key)) {
      out[key] = v;
    } else if (properties && isObject(properties[key])) {
      out[key] = pruneCustom(v, properties[key] as JsonObject, child, unknown, errors);
    } else if (isObject(additional)) {
      out[key] = pruneCustom(v, additional, child, unknown, errors);
    } else if (preserve || additional === true) {
      out[key] = v;
    } else {
      unknown.push(child);
    }
  }
  if (Array.isArray(schema['required'])) {
    for (const key of schema['required']) {
      if (typeof key === 'string' && out[key] === undefined && !root) {
        errors.push({ field: join(path, key), message: 'Required value' });
      }
    }
  }
  return out;
}

/** The openAPIV3Schema of a CRD's version; null when it declares none. */
export function crdVersionSchema(crd: JsonObject | null, version: string): JsonObject | null {
  const spec = crd && isObject(crd['spec']) ? crd['spec'] : null;
  const versions = spec && Array.isArray(spec['versions']) ? spec['versions'] : [];
  const entry = versions.find((v) => isObject(v) && v['name'] === version) as JsonObject | undefined;
  const schema = entry && isObject(entry['schema']) ? entry['schema']['openAPIV3Schema'] : undefined;
  return isObject(schema) ? schema : null;
}
