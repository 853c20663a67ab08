import { randomUUID } from 'node:crypto';
import { type ApplyOutcome, appliedConfiguration, applyTo, now, updateManagers } from './apply';
import { applyDefaults } from './defaults';
import { changedLeaves, deepEqual, fieldSetOf, isObject, type JsonObject, pathKey, toFieldsV1 } from './fields';
import { groupVersion, type ResourceRegistry, type ResourceType, typesFromCrd } from './resources';
import { matchesFields, matchesLabels, parseLabelSelector } from './selectors';
import { crdsFirst, entryName, SnapshotCache, type Stored, type StoreSnapshot, storedOf } from './snapshot';
import { alreadyExists, badRequest, invalid, notFound, qualifiedResource, StatusError } from './status';
import { checkIdentity, validate } from './validation';

/**
 * The object store of the simulated API server: objects by resource type, namespace and name, with
 * resourceVersion, generation and uid, and the events of every change. Server-side apply and field ownership
 * live in `apply.ts`, defaults in `defaults.ts`, the kinds' rules in `validation.ts`, the state file's form in
 * `snapshot.ts`.
 */

export type { ManagerEntry, StoreSnapshot } from './snapshot';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: StoreEventType;
  readonly resource: ResourceType;
  readonly object: JsonObject;
}

export interface WriteOptions {
  readonly fieldManager: string;
  readonly dryRun?: boolean;
}

export interface ApplyRequestOptions extends WriteOptions {
  readonly force: boolean;
}

function meta(object: JsonObject): JsonObject {
  if (!isObject(object['metadata'])) object['metadata'] = {};
  return object['metadata'] as JsonObject;
}

/** Everything but metadata and status: what bumps the generation when it changes. */
function specOf(object: JsonObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

export class ObjectStore {
  private readonly objects = new Map<string, Stored>();
  private readonly snapshots = new SnapshotCache();
  private resourceVersion = 1000;
  private readonly listeners: ((event: StoreEvent) => void)[] = [];
  private nextClusterIp = 10;

  public constructor(private readonly registry: ResourceRegistry) {}

  public onChange(listener: (event: StoreEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners of a change, with the object as a GET would answer it (the watches send it). */
  private emit(type: StoreEventType, stored: Stored): void {
    if (this.listeners.length === 0) return;
    const object = this.render(stored);
    for (const listener of this.listeners) listener({ type, resource: stored.type, object: structuredClone(object) });
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    // Keyed by group and plural, not version: one object is served under every version of its group.
    return [type.group, type.plural, type.namespaced ? (namespace ?? '') : '', name].join('/');
  }

  public currentResourceVersion(): string {
    return String(this.resourceVersion);
  }

  private render(stored: Stored, type: ResourceType = stored.type): JsonObject {
    const object = structuredClone(stored.object);
    object['apiVersion'] = groupVersion(type);
    const metadata = meta(object);
    if (stored.managers.length > 0) {
      metadata['managedFields'] = stored.managers.map((m) => {
        const entry: JsonObject = {
          manager: m.manager,
          operation: m.operation,
          apiVersion: m.apiVersion,
          time: m.time,
          fieldsType: 'FieldsV1',
          fieldsV1: toFieldsV1(m.fields),
        };
        if (m.subresource) entry['subresource'] = m.subresource;
        return entry;
      });
    }
    return object;
  }

  private stored(type: ResourceType, namespace: string | undefined, name: string): Stored {
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
    return stored;
  }

  public get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    return this.render(this.stored(type, namespace, name), type);
  }

  public find(type: ResourceType, namespace: string | undefined, name: string): JsonObject | null {
    const stored = this.objects.get(this.key(type, namespace, name));
    return stored ? this.render(stored, type) : null;
  }

  public list(
    type: ResourceType,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): JsonObject[] {
    const requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
    const out: JsonObject[] = [];
    for (const stored of this.objects.values()) {
      if (stored.type.group !== type.group || stored.type.plural !== type.plural) continue;
      const metadata = meta(stored.object);
      if (type.namespaced && namespace && metadata['namespace'] !== namespace) continue;
      if (!matchesLabels(metadata['labels'] as Record<string, string> | undefined, requirements)) continue;
      const rendered = this.render(stored, type);
      if (fieldSelector && !matchesFields(rendered, fieldSelector)) continue;
      out.push(rendered);
    }
    return out.sort((a, b) => {
      const ma = meta(a);
      const mb = meta(b);
      return `${ma['namespace'] ?? ''}/${ma['name']}`.localeCompare(`${mb['namespace'] ?? ''}/${mb['name']}`);
    });
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced) return;
    if (!namespace) throw badRequest('the namespace of the object is missing');
    const namespaceType = this.registry.byKind('', 'v1', 'Namespace')!;
    if (!this.objects.has(this.key(namespaceType, undefined, namespace))) {
      throw new StatusError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
  }

  /** Fills in what the API server sets on a new object, and the kind's defaults; validates the result. */
  private finish(
    type: ResourceType,
    namespace: string | undefined,
    object: JsonObject,
    previous: JsonObject | null,
  ): void {
    object['apiVersion'] = groupVersion(type);
    object['kind'] = type.kind;
    const metadata = meta(object);
    const before = previous ? meta(previous) : null;
    if (type.namespaced) metadata['namespace'] = namespace ?? null;
    else delete metadata['namespace'];
    metadata['uid'] = (before?.['uid'] as string) ?? randomUUID();
    metadata['creationTimestamp'] = (before?.['creationTimestamp'] as string) ?? now();
    delete metadata['managedFields'];
    applyDefaults(type, object, previous, () => `10.96.0.${this.nextClusterIp++}`);
    if (type.generation) {
      const generation = (before?.['generation'] as number | undefined) ?? 0;
      metadata['generation'] = !previous
        ? 1
        : deepEqual(specOf(object), specOf(previous))
          ? generation
          : generation + 1;
    }
    validate(type, object, previous);
  }

  private commit(stored: Stored, created: boolean): JsonObject {
    this.resourceVersion += 1;
    meta(stored.object)['resourceVersion'] = String(this.resourceVersion);
    const metadata = meta(stored.object);
    const key = this.key(stored.type, metadata['namespace'] as string | undefined, String(metadata['name']));
    this.objects.set(key, stored);
    this.snapshots.changed(key);
    if (stored.type.kind === 'CustomResourceDefinition') this.registry.register(typesFromCrd(stored.object));
    this.emit(created ? 'ADDED' : 'MODIFIED', stored);
    return this.render(stored);
  }

  /** POST: creates an object; its field manager owns every field (operation Update). */
  public create(
    type: ResourceType,
    namespace: string | undefined,
    body: JsonObject,
    options: WriteOptions,
  ): JsonObject {
    checkIdentity(type, namespace, undefined, body);
    const metadata = meta(body);
    let name = metadata['name'];
    if (typeof name !== 'string' || name === '') {
      if (typeof metadata['generateName'] === 'string') {
        name = `${metadata['generateName']}${randomUUID().slice(0, 5)}`;
        metadata['name'] = name;
      } else {
        throw invalid(type.group, type.kind, '', [
          { field: 'metadata.name', message: 'Required value: name or generateName is required' },
        ]);
      }
    }
    this.requireNamespace(type, namespace);
    if (this.objects.has(this.key(type, namespace, name))) throw alreadyExists(type.group, type.plural, name);
    const object = structuredClone(body);
    if (type.subresources.includes('status')) delete object['status'];
    this.finish(type, namespace, object, null);
    const stored: Stored = {
      type,
      object,
      managers: [
        {
          manager: options.fieldManager,
          operation: 'Update',
          apiVersion: groupVersion(type),
          time: now(),
          fields: fieldSetOf(object),
        },
      ],
    };
    if (options.dryRun) return this.render(stored);
    return this.commit(stored, true);
  }

  /** PUT or a patch: the new whole object; its manager takes the fields it changed (operation Update). */
  public update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    options: WriteOptions,
  ): JsonObject {
    const stored = this.stored(type, namespace, name);
    checkIdentity(type, namespace, name, body);
    const expected = isObject(body['metadata']) ? body['metadata']['resourceVersion'] : undefined;
    if (typeof expected === 'string' && expected !== '' && expected !== meta(stored.object)['resourceVersion']) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(type.group, type.plural)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: type.group, kind: type.plural },
      );
    }
    const object = structuredClone(body);
    meta(object)['name'] = name;
    if (type.subresources.includes('status')) {
      if (stored.object['status'] !== undefined) object['status'] = structuredClone(stored.object['status']);
      else delete object['status'];
    }
    this.finish(type, namespace, object, stored.object);
    const changed = changedLeaves(object, stored.object);
    const managers = updateManagers(stored.managers, changed, object, options.fieldManager, groupVersion(type));
    if (deepEqual(object, stored.object)) return this.render(stored);
    const next: Stored = { type: stored.type, object, managers };
    if (options.dryRun) return this.render(next, type);
    return this.commit(next, false);
  }

  /**
   * Server-side apply (PATCH with application/apply-patch+yaml): creates or merges, records the applied fields
   * under the manager (operation Apply), removes fields the manager applied before and no longer applies
   * (unless another manager owns them), and refuses with 409 to change a field another manager owns unless
   * `force` is set, in which case that manager loses it.
   */
  public apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    applied: JsonObject,
    options: ApplyRequestOptions,
  ): { object: JsonObject; created: boolean } {
    checkIdentity(type, namespace, name, applied);
    const config = appliedConfiguration(applied);
    const stored = this.objects.get(this.key(type, namespace, name)) ?? null;
    if (!stored) this.requireNamespace(type, namespace);
    const outcome: ApplyOutcome = applyTo(type, name, stored, config, options, (object, previous) =>
      this.finish(type, namespace, object, previous),
    );
    const created = stored === null;
    if (outcome.unchanged) return { object: this.render(outcome.next, type), created };
    if (options.dryRun) return { object: this.render(outcome.next, type), created };
    return { object: this.commit(outcome.next, created), created };
  }

  /** Writes the status of an object (the /status subresource, and the controllers). Never bumps generation. */
  public writeStatus(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    status: JsonObject,
    manager?: string,
  ): JsonObject {
    const stored = this.stored(type, namespace, name);
    if (deepEqual(stored.object['status'], status)) return this.render(stored, type);
    const object = structuredClone(stored.object);
    object['status'] = structuredClone(status);
    let managers = stored.managers;
    if (manager) {
      const statusFields = new Set([pathKey(['f:status'])]);
      managers = [
        ...stored.managers.filter((m) => !(m.manager === manager && m.subresource === 'status')),
        {
          manager,
          operation: 'Update',
          apiVersion: groupVersion(type),
          time: now(),
          fields: statusFields,
          subresource: 'status',
        },
      ];
    }
    return this.commit({ type: stored.type, object, managers }, false);
  }

  /** Changes metadata (labels, annotations, owner references) on behalf of a controller. */
  public writeMetadata(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (metadata: JsonObject) => void,
  ): JsonObject {
    const stored = this.stored(type, namespace, name);
    const object = structuredClone(stored.object);
    change(meta(object));
    if (deepEqual(object, stored.object)) return this.render(stored, type);
    return this.commit({ type: stored.type, object, managers: stored.managers }, false);
  }

  /** Replaces the spec of an object on behalf of a controller (a ReplicaSet's replicas), bumping generation. */
  public writeSpec(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (object: JsonObject) => void,
  ): JsonObject {
    const stored = this.stored(type, namespace, name);
    const object = structuredClone(stored.object);
    change(object);
    if (deepEqual(object, stored.object)) return this.render(stored, type);
    if (type.generation && !deepEqual(specOf(object), specOf(stored.object))) {
      meta(object)['generation'] = ((meta(stored.object)['generation'] as number) ?? 1) + 1;
    }
    return this.commit({ type: stored.type, object, managers: stored.managers }, false);
  }

  public delete(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const key = this.key(type, namespace, name);
    const stored = this.stored(type, namespace, name);
    if (type.kind === 'Namespace') {
      for (const [otherKey, other] of this.objects) {
        if (other.type.namespaced && meta(other.object)['namespace'] === name) this.remove(otherKey, other);
      }
    }
    this.remove(key, stored);
    if (type.kind === 'CustomResourceDefinition') this.registry.unregisterCrd(name);
    return this.render(stored, type);
  }

  /** Forgets an object; its deletion is a change of its own, with the resource version it happened at. */
  private remove(key: string, stored: Stored): void {
    this.objects.delete(key);
    this.snapshots.changed(key);
    this.resourceVersion += 1;
    meta(stored.object)['resourceVersion'] = String(this.resourceVersion);
    this.emit('DELETED', stored);
  }

  /** Everything the store holds, to be written down and given to `restore` later. */
  public snapshot(): StoreSnapshot {
    return JSON.parse(this.serialize()) as StoreSnapshot;
  }

  /**
   * The snapshot as JSON text. Only the objects changed since the last call are serialized again; the others keep
   * their text, so that writing a large cluster down after each change stays cheap.
   */
  public serialize(): string {
    return this.snapshots.serialize(this.objects, this.resourceVersion, this.nextClusterIp);
  }

  /**
   * Replaces what the store holds with a snapshot: CustomResourceDefinitions first, so that their resources are
   * served again; an object whose type is not served any more is left out (its name is returned). Nothing is
   * emitted: the objects are as they were, not changed.
   */
  public restore(snapshot: StoreSnapshot): string[] {
    const entries = crdsFirst(snapshot);
    this.objects.clear();
    this.snapshots.clear();
    const skipped: string[] = [];
    for (const entry of entries) {
      const type = this.registry.byPlural(entry.group, entry.version, entry.plural);
      if (!type) {
        skipped.push(entryName(entry));
        continue;
      }
      const stored = storedOf(entry, type);
      const storedMeta = meta(stored.object);
      const key = this.key(type, storedMeta['namespace'] as string | undefined, String(storedMeta['name']));
      this.objects.set(key, stored);
      this.snapshots.changed(key);
      if (type.kind === 'CustomResourceDefinition') this.registry.register(typesFromCrd(stored.object));
    }
    this.resourceVersion = Math.max(this.resourceVersion, snapshot.resourceVersion);
    this.nextClusterIp = Math.max(this.nextClusterIp, snapshot.nextClusterIp);
    return skipped;
  }

  /** Every stored object of a kind in every namespace (for controllers). */
  public all(type: ResourceType): JsonObject[] {
    return this.list(type, undefined);
  }
}
