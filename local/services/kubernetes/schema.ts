import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type PatchMeta, patchMetaOf } from './patch-meta';
import type { ResourceType } from './resources';

/**
 * The schemas of the built-in kinds, derived from @kubernetes/client-node's generated models. Those models are
 * generated from the upstream OpenAPI document (their header says which version): each model's
 * `attributeTypeMap` gives the fields, their types and formats; its declaration file gives the descriptions
 * and which fields are required. The patch strategies and merge keys, which the models do not carry, come from
 * `patch-meta.ts` (taken from the upstream document). See ADR 0028.
 *
 * Read on first use and cached: nothing of it is loaded by a server that is never patched, validated strictly
 * or asked for its OpenAPI documents.
 */

export type TypeRef =
  | { readonly kind: 'string' | 'integer' | 'number' | 'boolean' | 'date-time' | 'int-or-string' | 'any' }
  | { readonly kind: 'model'; readonly model: string }
  | { readonly kind: 'array'; readonly items: TypeRef }
  | { readonly kind: 'map'; readonly values: TypeRef };

export interface Property {
  readonly name: string;
  readonly type: TypeRef;
  readonly format: string;
  readonly description?: string;
  readonly patch?: PatchMeta;
}

export interface Model {
  /** The client-node name: `V1PodSpec`. */
  readonly name: string;
  readonly description: string;
  readonly properties: ReadonlyMap<string, Property>;
  readonly required: readonly string[];
}

const require_ = createRequire(__filename);
let modelsDir: string | null = null;
const cache = new Map<string, Model | null>();

function folder(): string {
  modelsDir ??= join(dirname(require_.resolve('@kubernetes/client-node/package.json')), 'dist', 'gen', 'models');
  return modelsDir;
}

function typeOf(type: string, format: string): TypeRef {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { kind: 'array', items: typeOf(array[1]!, '') };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { kind: 'map', values: typeOf(map[1]!, '') };
  switch (type) {
    case 'string':
      return { kind: 'string' };
    case 'number':
      return { kind: format === 'double' ? 'number' : 'integer' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'Date':
      return { kind: 'date-time' };
    case 'IntOrString':
      return { kind: 'int-or-string' };
    case 'any':
    case 'object':
      return { kind: 'any' };
    default:
      return { kind: 'model', model: type };
  }
}

function unescapeComment(text: string): string {
  return text.replace(/\\(['"\\])/g, '$1').trim();
}

/** Descriptions and required fields from a model's declaration file. */
function declarations(text: string): {
  description: string;
  fields: Map<string, { description?: string; required: boolean }>;
} {
  const fields = new Map<string, { description?: string; required: boolean }>();
  let description = '';
  let comment: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.trim();
    if (line === '/**') {
      const body: string[] = [];
      for (i += 1; i < lines.length && lines[i]!.trim() !== '*/'; i += 1)
        body.push(lines[i]!.trim().replace(/^\* ?/, ''));
      comment = unescapeComment(body.join(' '));
      continue;
    }
    if (line.startsWith('export declare class')) description = comment ?? '';
    const property = /^'([^']+)'(\?)?:/.exec(line);
    if (property) {
      fields.set(property[1]!, { ...(comment ? { description: comment } : {}), required: property[2] !== '?' });
    }
    comment = undefined;
  }
  return { description, fields };
}

/** A model by its client-node name; null when client-node has none of that name. */
export function model(name: string): Model | null {
  if (cache.has(name)) return cache.get(name)!;
  let js: string;
  let dts: string;
  try {
    js = readFileSync(join(folder(), `${name}.js`), 'utf8');
    dts = readFileSync(join(folder(), `${name}.d.ts`), 'utf8');
  } catch {
    cache.set(name, null);
    return null;
  }
  const declared = declarations(dts);
  const properties = new Map<string, Property>();
  const attribute = /"baseName": "([^"]+)",\s*"type": "([^"]+)",\s*"format": "([^"]*)"/g;
  for (const m of js.matchAll(attribute)) {
    const [, baseName, type, format] = m as unknown as [string, string, string, string];
    const field = declared.fields.get(baseName);
    const patch = patchMetaOf(name, baseName);
    properties.set(baseName, {
      name: baseName,
      type: typeOf(type, format),
      format,
      ...(field?.description ? { description: field.description } : {}),
      ...(patch ? { patch } : {}),
    });
  }
  const required = [...declared.fields].filter(([k, f]) => f.required && properties.has(k)).map(([k]) => k);
  const result: Model = { name, description: declared.description, properties, required };
  cache.set(name, result);
  return result;
}

/** The client-node model of a built-in kind (`V1Deployment`, `CoreV1Event`); null for custom resources. */
export function modelNameOf(type: Pick<ResourceType, 'group' | 'version' | 'kind' | 'crd'>): string | null {
  if (type.crd) return null;
  const version = type.version.charAt(0).toUpperCase() + type.version.slice(1);
  const plain = `${version}${type.kind}`;
  if (type.group === '' && type.kind === 'Event') return `Core${plain}`;
  return model(plain) ? plain : null;
}

/** The model of a property's type, through arrays and maps; null for scalars. */
export function modelOfType(type: TypeRef | undefined): Model | null {
  if (!type) return null;
  if (type.kind === 'model') return model(type.model);
  if (type.kind === 'array') return modelOfType(type.items);
  if (type.kind === 'map') return modelOfType(type.values);
  return null;
}

/** Every model reachable from `roots`, roots first (breadth first). */
export function closure(roots: readonly string[]): Model[] {
  const seen = new Set<string>();
  const out: Model[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const m = model(name);
    if (!m) continue;
    out.push(m);
    for (const p of m.properties.values()) {
      for (let t: TypeRef = p.type; ; ) {
        if (t.kind === 'array') t = t.items;
        else if (t.kind === 'map') t = t.values;
        else {
          if (t.kind === 'model' && !seen.has(t.model)) queue.push(t.model);
          break;
        }
      }
    }
  }
  return out;
}
