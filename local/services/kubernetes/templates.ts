import { createHash } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './fields';

/** Pod templates as the workload controllers compare and name them. */

export const HASH_LABEL = 'pod-template-hash';
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

export function stable(value: Json | undefined): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * A template as Go's semantic equality sees it: nulls, empty maps and empty lists are the same as absent (a
 * template that kubectl sends back, `creationTimestamp: null` and `resources: {}` included, is the same template).
 */
export function normalTemplate(value: Json | undefined): Json | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => normalTemplate(item) ?? null);
    return items.length > 0 ? items : undefined;
  }
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const normal = normalTemplate(v);
      if (normal !== undefined) out[k] = normal;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

/** Whether two pod templates are equal but for the pod-template-hash label (the controller's EqualIgnoreHash). */
export function equalIgnoreHash(a: Json | undefined, b: Json | undefined): boolean {
  const strip = (t: Json | undefined): string => {
    const copy = structuredClone(obj(t));
    const labels = obj(obj(copy['metadata'])['labels']);
    delete labels[HASH_LABEL];
    return stable(normalTemplate(copy));
  };
  return strip(a) === strip(b);
}

/** A pod-template-hash-like digest of a template: 10 characters of Kubernetes' "safe" alphabet. */
export function templateHash(template: Json | undefined): string {
  const digest = createHash('sha256')
    .update(stable(normalTemplate(template)))
    .digest();
  let out = '';
  for (let i = 0; i < 10; i += 1) out += SAFE[digest[i]! % SAFE.length];
  return out;
}
