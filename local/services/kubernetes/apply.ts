import {
  changedLeaves,
  deepEqual,
  describePath,
  fieldSetOf,
  isObject,
  type JsonObject,
  mergeApplied,
  pathKey,
  removeAt,
  splitKey,
} from './fields';
import { groupVersion, type ResourceType } from './resources';
import type { ManagerEntry, Stored } from './snapshot';
import { badRequest, StatusError } from './status';

/**
 * Server-side apply and field ownership: which manager owns which fields after an apply or an update, conflicts
 * worded as the API server words them, and removal of the fields a manager stopped applying. The store decides
 * where objects live; this module decides what an apply makes of one.
 */

const SEP = '\u0000';

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function meta(object: JsonObject): JsonObject {
  if (!isObject(object['metadata'])) object['metadata'] = {};
  return object['metadata'] as JsonObject;
}

/** The applied configuration, checked as the API server checks it, without the fields an apply never sets. */
export function appliedConfiguration(applied: JsonObject): JsonObject {
  const metadata = isObject(applied['metadata']) ? applied['metadata'] : null;
  if (!metadata || metadata['name'] === undefined) {
    throw badRequest('metadata.name is required in an applied configuration');
  }
  if (Array.isArray(metadata['managedFields']) && metadata['managedFields'].length > 0) {
    throw badRequest('metadata.managedFields must be nil');
  }
  if (typeof applied['apiVersion'] !== 'string' || typeof applied['kind'] !== 'string') {
    throw badRequest('apiVersion and kind must be set in an applied configuration');
  }
  const config = structuredClone(applied);
  delete config['status'];
  delete meta(config)['managedFields'];
  delete meta(config)['resourceVersion'];
  return config;
}

/** Defaults, generation and validation of a new version of an object (the store's part of every write). */
export type Finish = (object: JsonObject, previous: JsonObject | null) => void;

export interface ApplyOutcome {
  readonly next: Stored;
  /** Nothing changed: neither the object nor its managers. */
  readonly unchanged: boolean;
}

/** The object a configuration applied by `manager` makes, and its managers; throws 409 on a conflict. */
export function applyTo(
  type: ResourceType,
  name: string,
  stored: Stored | null,
  config: JsonObject,
  options: { readonly fieldManager: string; readonly force: boolean },
  finish: Finish,
): ApplyOutcome {
  const appliedSet = fieldSetOf(config);
  const entry: ManagerEntry = {
    manager: options.fieldManager,
    operation: 'Apply',
    apiVersion: groupVersion(type),
    time: now(),
    fields: appliedSet,
  };
  if (!stored) {
    const object = mergeApplied({}, config) as JsonObject;
    finish(object, null);
    return { next: { type, object, managers: [entry] }, unchanged: false };
  }

  const live = stored.object;
  const isSelf = (m: ManagerEntry): boolean => m.manager === options.fieldManager && m.operation === 'Apply';
  const previous = stored.managers.find(isSelf)?.fields ?? new Set<string>();
  let others = stored.managers.filter((m) => !isSelf(m)).map((m) => ({ ...m, fields: new Set(m.fields) }));

  const conflicts = new Map<ManagerEntry, string[]>();
  for (const path of changedLeaves(config, live, appliedSet)) {
    for (const other of others) {
      if (other.fields.has(path)) conflicts.set(other, [...(conflicts.get(other) ?? []), path]);
    }
  }
  if (conflicts.size > 0) {
    if (!options.force) throw conflictError(type, name, conflicts);
    for (const [other, paths] of conflicts) for (const path of paths) other.fields.delete(path);
    others = others.filter((m) => m.fields.size > 0);
  }

  const object = structuredClone(live);
  for (const path of stoppedApplying(previous, appliedSet, others)) removeAt(object, splitKey(path));
  const merged = mergeApplied(object, config) as JsonObject;
  finish(merged, live);

  const managers = [...others, entry];
  const sameManagers =
    managers.length === stored.managers.length &&
    managers.every((m) => {
      const before = stored.managers.find((s) => s.manager === m.manager && s.operation === m.operation);
      return (
        before !== undefined && before.fields.size === m.fields.size && [...m.fields].every((p) => before.fields.has(p))
      );
    });
  if (sameManagers && deepEqual(merged, live)) return { next: stored, unchanged: true };
  return { next: { type: stored.type, object: merged, managers }, unchanged: false };
}

/**
 * The outermost paths a manager applied before and no longer applies, that no other manager owns (nor owns
 * anything below): those are removed. A list item goes whole, with its key fields.
 */
function stoppedApplying(previous: Set<string>, applied: Set<string>, others: readonly ManagerEntry[]): string[] {
  const ownedByOthers = new Set<string>();
  for (const other of others) for (const path of other.fields) ownedByOthers.add(path);
  const ownedKeys = [...ownedByOthers];
  const removed = [...previous]
    .filter(
      (path) => !applied.has(path) && !ownedByOthers.has(path) && !ownedKeys.some((o) => o.startsWith(path + SEP)),
    )
    .sort((a, b) => splitKey(b).length - splitKey(a).length);
  const removedSet = new Set(removed);
  return removed.filter(
    (path) => !splitKey(path).some((_, i, all) => i > 0 && removedSet.has(pathKey(all.slice(0, i)))),
  );
}

/** The managers after an update (PUT, a patch) by `manager`: it takes the fields it changed (operation Update). */
export function updateManagers(
  managers: readonly ManagerEntry[],
  changed: readonly string[],
  object: JsonObject,
  manager: string,
  apiVersion: string,
): ManagerEntry[] {
  const present = fieldSetOf(object);
  const taken = new Set(changed);
  const out: ManagerEntry[] = [];
  for (const entry of managers) {
    if (entry.manager === manager && entry.operation === 'Update') continue;
    if (entry.subresource) {
      out.push(entry);
      continue;
    }
    const fields = new Set([...entry.fields].filter((p) => present.has(p) && !taken.has(p)));
    if (fields.size > 0) out.push({ ...entry, fields });
  }
  const own = managers.find((m) => m.manager === manager && m.operation === 'Update');
  const fields = new Set([...(own?.fields ?? [])].filter((p) => present.has(p)));
  for (const p of changed) fields.add(p);
  if (fields.size > 0) out.push({ manager, operation: 'Update', apiVersion, time: now(), fields });
  return out;
}

/** 409 worded as the API server words it: `Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas`. */
function conflictError(type: ResourceType, name: string, conflicts: Map<ManagerEntry, string[]>): StatusError {
  const total = [...conflicts.values()].reduce((n, paths) => n + paths.length, 0);
  const parts: string[] = [];
  const causes: JsonObject[] = [];
  for (const [manager, paths] of conflicts) {
    const sub = manager.subresource ? ` with subresource "${manager.subresource}"` : '';
    const described = paths.map(describePath);
    if (total === 1) {
      parts.push(`conflict with "${manager.manager}"${sub} using ${manager.apiVersion}: ${described[0]}`);
    } else {
      parts.push(
        `conflicts with "${manager.manager}"${sub} using ${manager.apiVersion}:\n${described.map((d) => `- ${d}`).join('\n')}`,
      );
    }
    for (const d of described)
      causes.push({
        reason: 'FieldManagerConflict',
        message: `conflict with "${manager.manager}"${sub} using ${manager.apiVersion}`,
        field: d,
      });
  }
  const message = `Apply failed with ${total} conflict${total === 1 ? '' : 's'}: ${parts.join('\n')}`;
  return new StatusError(409, 'Conflict', message, { name, group: type.group, kind: type.plural, causes });
}
