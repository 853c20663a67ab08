import { randomUUID } from 'node:crypto';
import {
  changedLeaves,
  deepEqual,
  describePath,
  type FieldSet,
  fieldSetOf,
  fromFieldsV1,
  isObject,
  type JsonObject,
  mergeApplied,
  pathKey,
  removeAt,
  splitKey,
  toFieldsV1,
} from './fields';
import { groupVersion, type ResourceRegistry, type ResourceType, typesFromCrd } from './resources';
import { matchesFields, matchesLabels, parseLabelSelector, requirementsOf } from './selectors';
import { alreadyExists, badRequest, invalid, notFound, qualifiedResource, StatusError } from './status';

/**
 * The object store of the simulated API server: objects by resource type, namespace and name, with
 * resourceVersion, generation, uid, managedFields per field manager, and server-side apply.
 */

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: FieldSet;
  subresource?: string;
}

interface Stored {
  type: ResourceType;
  object: JsonObject;
  managers: ManagerEntry[];
}

/** Everything the store holds, as JSON: what the simulated server writes to its state file. */
export interface StoreSnapshot {
  readonly format: 1;
  readonly resourceVersion: number;
  readonly nextClusterIp: number;
  readonly objects: readonly {
    readonly group: string;
    readonly version: string;
    readonly plural: string;
    readonly object: JsonObject;
    readonly managers: readonly (Omit<ManagerEntry, 'fields'> & { readonly fields: readonly string[] })[];
  }[];
}

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

const SEP = '\u0000';

function meta(object: JsonObject): JsonObject {
  if (!isObject(object['metadata'])) object['metadata'] = {};
  return object['metadata'] as JsonObject;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Everything but metadata and status: what bumps the generation when it changes. */
function specOf(object: JsonObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

export class ObjectStore {
  private readonly objects = new Map<string, Stored>();
  /** Keys changed since the last `serialize()`, and the JSON of every entry as last serialized. */
  private readonly dirty = new Set<string>();
  private readonly entryJson = new Map<string, string>();
  private resourceVersion = 1000;
  private readonly listeners: ((event: StoreEvent) => void)[] = [];
  private nextClusterIp = 10;

  public constructor(private readonly registry: ResourceRegistry) {}

  public onChange(listener: (event: StoreEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(type: StoreEventType, resource: ResourceType, object: JsonObject): void {
    for (const listener of this.listeners) listener({ type, resource, object: structuredClone(object) });
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

  public get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
    return this.render(stored, type);
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

  private checkIdentity(
    type: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    body: JsonObject,
  ): void {
    const apiVersion = body['apiVersion'];
    const kind = body['kind'];
    if (kind !== undefined && kind !== type.kind) {
      throw badRequest(
        `the kind of the object (${String(kind)}) does not match the resource ${qualifiedResource(type.group, type.plural)} (${type.kind})`,
      );
    }
    if (apiVersion !== undefined && apiVersion !== groupVersion(type)) {
      const other = typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      if (other !== type.group)
        throw badRequest(
          `the API version in the data (${String(apiVersion)}) does not match the expected API version (${groupVersion(type)})`,
        );
    }
    const metadata = isObject(body['metadata']) ? body['metadata'] : {};
    if (name !== undefined && metadata['name'] !== undefined && metadata['name'] !== name) {
      throw badRequest(
        `the name of the object (${String(metadata['name'])}) does not match the name on the URL (${name})`,
      );
    }
    if (type.namespaced && namespace && metadata['namespace'] !== undefined && metadata['namespace'] !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  /** Fills in what the API server sets on a new object, and the kind's defaults. */
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
    this.dirty.add(key);
    if (stored.type.kind === 'CustomResourceDefinition') this.registry.register(typesFromCrd(stored.object));
    this.emit(created ? 'ADDED' : 'MODIFIED', stored.type, stored.object);
    return this.render(stored);
  }

  /** POST: creates an object; its field manager owns every field (operation Update). */
  public create(
    type: ResourceType,
    namespace: string | undefined,
    body: JsonObject,
    options: WriteOptions,
  ): JsonObject {
    this.checkIdentity(type, namespace, undefined, body);
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

  /** PUT or a merge patch: the new whole object; its manager takes the fields it changed (operation Update). */
  public update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    options: WriteOptions,
  ): JsonObject {
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
    this.checkIdentity(type, namespace, name, body);
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
    const managers = this.updateManagers(stored.managers, changed, object, options.fieldManager, groupVersion(type));
    if (deepEqual(object, stored.object)) return this.render(stored);
    const next: Stored = { type: stored.type, object, managers };
    if (options.dryRun) return this.render(next, type);
    return this.commit(next, false);
  }

  private updateManagers(
    managers: ManagerEntry[],
    changed: string[],
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
    this.checkIdentity(type, namespace, name, applied);
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
    const appliedSet = fieldSetOf(config);
    const stored = this.objects.get(this.key(type, namespace, name));
    const version = groupVersion(type);

    if (!stored) {
      this.requireNamespace(type, namespace);
      const object = mergeApplied({}, config) as JsonObject;
      this.finish(type, namespace, object, null);
      const entry: ManagerEntry = {
        manager: options.fieldManager,
        operation: 'Apply',
        apiVersion: version,
        time: now(),
        fields: appliedSet,
      };
      const next: Stored = { type, object, managers: [entry] };
      if (options.dryRun) return { object: this.render(next), created: true };
      return { object: this.commit(next, true), created: true };
    }

    const live = stored.object;
    const isSelf = (m: ManagerEntry): boolean => m.manager === options.fieldManager && m.operation === 'Apply';
    const previous = stored.managers.find(isSelf)?.fields ?? new Set<string>();
    let others = stored.managers.filter((m) => !isSelf(m)).map((m) => ({ ...m, fields: new Set(m.fields) }));

    const changed = changedLeaves(config, live, appliedSet);
    const conflicts = new Map<ManagerEntry, string[]>();
    for (const path of changed) {
      for (const other of others) {
        if (other.fields.has(path)) conflicts.set(other, [...(conflicts.get(other) ?? []), path]);
      }
    }
    if (conflicts.size > 0) {
      if (!options.force) throw conflictError(type, name, conflicts);
      for (const [other, paths] of conflicts) for (const path of paths) other.fields.delete(path);
      others = others.filter((m) => m.fields.size > 0);
    }

    const ownedByOthers = new Set<string>();
    for (const other of others) for (const path of other.fields) ownedByOthers.add(path);
    const ownedKeys = [...ownedByOthers];
    const removed = [...previous]
      .filter(
        (path) => !appliedSet.has(path) && !ownedByOthers.has(path) && !ownedKeys.some((o) => o.startsWith(path + SEP)),
      )
      .sort((a, b) => splitKey(b).length - splitKey(a).length);
    const removedSet = new Set(removed);
    // Remove only the outermost paths: a list item goes whole, with its key fields.
    const outermost = removed.filter(
      (path) => !splitKey(path).some((_, i, all) => i > 0 && removedSet.has(pathKey(all.slice(0, i)))),
    );
    const object = structuredClone(live);
    for (const path of outermost) removeAt(object, splitKey(path));
    const merged = mergeApplied(object, config) as JsonObject;
    this.finish(type, namespace, merged, live);

    const managers = [
      ...others,
      {
        manager: options.fieldManager,
        operation: 'Apply' as const,
        apiVersion: version,
        time: now(),
        fields: appliedSet,
      },
    ];
    const sameManagers =
      managers.length === stored.managers.length &&
      managers.every((m) => {
        const before = stored.managers.find((s) => s.manager === m.manager && s.operation === m.operation);
        return (
          before !== undefined &&
          before.fields.size === m.fields.size &&
          [...m.fields].every((p) => before.fields.has(p))
        );
      });
    if (sameManagers && deepEqual(merged, live)) return { object: this.render(stored, type), created: false };
    const next: Stored = { type: stored.type, object: merged, managers };
    if (options.dryRun) return { object: this.render(next, type), created: false };
    return { object: this.commit(next, false), created: false };
  }

  /** Writes the status of an object (the /status subresource, and the controllers). Never bumps generation. */
  public writeStatus(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    status: JsonObject,
    manager?: string,
  ): JsonObject {
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
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
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
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
    const stored = this.objects.get(this.key(type, namespace, name));
    if (!stored) throw notFound(type.group, type.plural, name);
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
    const stored = this.objects.get(key);
    if (!stored) throw notFound(type.group, type.plural, name);
    this.objects.delete(key);
    this.dirty.add(key);
    this.resourceVersion += 1;
    if (type.kind === 'CustomResourceDefinition') this.registry.unregisterCrd(name);
    if (type.kind === 'Namespace') {
      for (const [otherKey, other] of this.objects) {
        if (other.type.namespaced && meta(other.object)['namespace'] === name) {
          this.objects.delete(otherKey);
          this.dirty.add(otherKey);
          this.emit('DELETED', other.type, other.object);
        }
      }
    }
    this.emit('DELETED', type, stored.object);
    return this.render(stored, type);
  }

  private entryOf(stored: Stored): StoreSnapshot['objects'][number] {
    return {
      group: stored.type.group,
      version: stored.type.version,
      plural: stored.type.plural,
      object: stored.object,
      managers: stored.managers.map((m) => ({ ...m, fields: [...m.fields] })),
    };
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
    for (const key of this.dirty) {
      const stored = this.objects.get(key);
      if (stored) this.entryJson.set(key, JSON.stringify(this.entryOf(stored)));
      else this.entryJson.delete(key);
    }
    this.dirty.clear();
    return `{"format":1,"resourceVersion":${this.resourceVersion},"nextClusterIp":${this.nextClusterIp},"objects":[${[...this.entryJson.values()].join(',')}]}`;
  }

  /**
   * Replaces what the store holds with a snapshot: CustomResourceDefinitions first, so that their resources are
   * served again; an object whose type is not served any more is left out (its name is returned). Nothing is
   * emitted: the objects are as they were, not changed.
   */
  public restore(snapshot: StoreSnapshot): string[] {
    if (snapshot.format !== 1) throw new Error(`unknown snapshot format ${String(snapshot.format)}`);
    this.objects.clear();
    this.entryJson.clear();
    this.dirty.clear();
    const crdFirst = [...snapshot.objects].sort(
      (a, b) =>
        Number(b.object['kind'] === 'CustomResourceDefinition') -
        Number(a.object['kind'] === 'CustomResourceDefinition'),
    );
    const skipped: string[] = [];
    for (const entry of crdFirst) {
      const type = this.registry.byPlural(entry.group, entry.version, entry.plural);
      const metadata = meta(structuredClone(entry.object));
      if (!type) {
        skipped.push(`${entry.plural}${entry.group ? `.${entry.group}` : ''}/${String(metadata['name'])}`);
        continue;
      }
      const stored: Stored = {
        type,
        object: structuredClone(entry.object),
        managers: entry.managers.map((m) => ({ ...m, fields: new Set(m.fields) })),
      };
      const storedMeta = meta(stored.object);
      const key = this.key(type, storedMeta['namespace'] as string | undefined, String(storedMeta['name']));
      this.objects.set(key, stored);
      this.dirty.add(key);
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

  /** Restores the managers of an object from managedFields (for objects seeded from fixtures). */
  public static managersFrom(managedFields: unknown): ManagerEntry[] {
    if (!Array.isArray(managedFields)) return [];
    return managedFields.filter(isObject).map((m) => ({
      manager: String(m['manager']),
      operation: m['operation'] === 'Apply' ? 'Apply' : 'Update',
      apiVersion: String(m['apiVersion']),
      time: String(m['time'] ?? now()),
      fields: isObject(m['fieldsV1']) ? fromFieldsV1(m['fieldsV1']) : new Set<string>(),
    }));
  }
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

function defaults(target: JsonObject, values: JsonObject): void {
  for (const [k, v] of Object.entries(values)) {
    if (target[k] === undefined) target[k] = structuredClone(v);
    else if (isObject(target[k]) && isObject(v)) defaults(target[k] as JsonObject, v);
  }
}

function podTemplateDefaults(template: unknown): void {
  if (!isObject(template) || !isObject(template['spec'])) return;
  const spec = template['spec'];
  defaults(spec, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
  });
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      if (!isObject(c)) continue;
      defaults(c, { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
      if (c['imagePullPolicy'] === undefined) {
        const image = String(c['image'] ?? '');
        c['imagePullPolicy'] = image.endsWith(':latest') || !/[:@][^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
      }
      if (Array.isArray(c['ports'])) for (const p of c['ports']) if (isObject(p)) defaults(p, { protocol: 'TCP' });
    }
  }
}

function applyDefaults(
  type: ResourceType,
  object: JsonObject,
  previous: JsonObject | null,
  allocateIp: () => string,
): void {
  const spec = isObject(object['spec']) ? object['spec'] : null;
  const key = `${type.group}/${type.kind}`;
  if (key === '/Namespace') {
    object['status'] = { phase: 'Active' };
    defaults(meta(object), { labels: { 'kubernetes.io/metadata.name': String(meta(object)['name']) } });
    return;
  }
  if (!spec) return;
  switch (key) {
    case 'apps/Deployment':
      defaults(spec, {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate' },
      });
      if (isObject(spec['strategy']) && spec['strategy']['type'] === 'RollingUpdate') {
        defaults(spec['strategy'], { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/StatefulSet':
      defaults(spec, {
        replicas: 1,
        podManagementPolicy: 'OrderedReady',
        revisionHistoryLimit: 10,
        updateStrategy: { type: 'RollingUpdate' },
      });
      if (isObject(spec['updateStrategy']) && spec['updateStrategy']['type'] === 'RollingUpdate') {
        defaults(spec['updateStrategy'], { rollingUpdate: { partition: 0 } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/DaemonSet':
      defaults(spec, { revisionHistoryLimit: 10, updateStrategy: { type: 'RollingUpdate' } });
      if (isObject(spec['updateStrategy']) && spec['updateStrategy']['type'] === 'RollingUpdate') {
        defaults(spec['updateStrategy'], { rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      }
      podTemplateDefaults(spec['template']);
      break;
    case 'apps/ReplicaSet':
      defaults(spec, { replicas: 1 });
      podTemplateDefaults(spec['template']);
      break;
    case '/Service': {
      defaults(spec, { type: 'ClusterIP', sessionAffinity: 'None' });
      const previousIp = previous && isObject(previous['spec']) ? previous['spec']['clusterIP'] : undefined;
      if (spec['clusterIP'] === undefined) spec['clusterIP'] = (previousIp as string | undefined) ?? allocateIp();
      spec['clusterIPs'] = [spec['clusterIP'] as string];
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports']) if (isObject(p)) defaults(p, { protocol: 'TCP', targetPort: p['port'] ?? 0 });
      }
      break;
    }
  }
}

function validate(type: ResourceType, object: JsonObject, previous: JsonObject | null): void {
  const name = String(meta(object)['name']);
  if (type.group === 'apps' && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(type.kind)) {
    const spec = isObject(object['spec']) ? object['spec'] : {};
    const selector = isObject(spec['selector']) ? spec['selector'] : null;
    if (!selector) throw invalid(type.group, type.kind, name, [{ field: 'spec.selector', message: 'Required value' }]);
    const template = isObject(spec['template']) ? spec['template'] : {};
    const labels =
      isObject(template['metadata']) && isObject(template['metadata']['labels']) ? template['metadata']['labels'] : {};
    if (
      !matchesLabels(labels as Record<string, string>, requirementsOf(selector)) ||
      Object.keys(labels).length === 0
    ) {
      throw invalid(type.group, type.kind, name, [
        {
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        },
      ]);
    }
    const containers = isObject(template['spec']) ? template['spec']['containers'] : undefined;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw invalid(type.group, type.kind, name, [
        { field: 'spec.template.spec.containers', message: 'Required value' },
      ]);
    }
    if (previous && type.kind !== 'ReplicaSet') {
      const before = isObject(previous['spec']) ? previous['spec']['selector'] : undefined;
      if (!deepEqual(before, selector)) {
        throw invalid(type.group, type.kind, name, [
          { field: 'spec.selector', message: `Invalid value: ${JSON.stringify(selector)}: field is immutable` },
        ]);
      }
    }
  }
}
