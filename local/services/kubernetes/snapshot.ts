import { type FieldSet, isObject, type JsonObject } from './fields';
import type { ResourceType } from './resources';

/**
 * Snapshots of the object store: what the simulated server writes to its state file and reads back at start.
 * The text is kept per object, so that after a change only the changed objects are serialized again.
 */

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: FieldSet;
  subresource?: string;
}

/** One object as the store holds it: its type, its JSON (without managedFields) and its field managers. */
export interface Stored {
  type: ResourceType;
  object: JsonObject;
  managers: ManagerEntry[];
}

/** Everything the store holds, as JSON: what the simulated server writes to its state file. */
export interface StoreSnapshot {
  readonly format: 1;
  readonly resourceVersion: number;
  readonly nextClusterIp: number;
  readonly objects: readonly SnapshotEntry[];
}

export interface SnapshotEntry {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly object: JsonObject;
  readonly managers: readonly (Omit<ManagerEntry, 'fields'> & { readonly fields: readonly string[] })[];
}

function entryOf(stored: Stored): SnapshotEntry {
  return {
    group: stored.type.group,
    version: stored.type.version,
    plural: stored.type.plural,
    object: stored.object,
    managers: stored.managers.map((m) => ({ ...m, fields: [...m.fields] })),
  };
}

/** The JSON text of every stored object, as last serialized, and the keys changed since. */
export class SnapshotCache {
  private readonly dirty = new Set<string>();
  private readonly entryJson = new Map<string, string>();

  public changed(key: string): void {
    this.dirty.add(key);
  }

  public clear(): void {
    this.dirty.clear();
    this.entryJson.clear();
  }

  /** The snapshot as JSON text; only the objects changed since the last call are serialized again. */
  public serialize(objects: ReadonlyMap<string, Stored>, resourceVersion: number, nextClusterIp: number): string {
    for (const key of this.dirty) {
      const stored = objects.get(key);
      if (stored) this.entryJson.set(key, JSON.stringify(entryOf(stored)));
      else this.entryJson.delete(key);
    }
    this.dirty.clear();
    return `{"format":1,"resourceVersion":${resourceVersion},"nextClusterIp":${nextClusterIp},"objects":[${[...this.entryJson.values()].join(',')}]}`;
  }
}

/** A snapshot's entries, CustomResourceDefinitions first (so that their resources are served again). */
export function crdsFirst(snapshot: StoreSnapshot): SnapshotEntry[] {
  if (snapshot.format !== 1) throw new Error(`unknown snapshot format ${String(snapshot.format)}`);
  return [...snapshot.objects].sort(
    (a, b) =>
      Number(b.object['kind'] === 'CustomResourceDefinition') - Number(a.object['kind'] === 'CustomResourceDefinition'),
  );
}

/** A snapshot entry as the store holds it. */
export function storedOf(entry: SnapshotEntry, type: ResourceType): Stored {
  return {
    type,
    object: structuredClone(entry.object),
    managers: entry.managers.map((m) => ({ ...m, fields: new Set(m.fields) })),
  };
}

/** `deployments.apps/web`: how a snapshot entry whose type is not served any more is named. */
export function entryName(entry: SnapshotEntry): string {
  const metadata = isObject(entry.object['metadata']) ? entry.object['metadata'] : {};
  return `${entry.plural}${entry.group ? `.${entry.group}` : ''}/${String(metadata['name'])}`;
}
