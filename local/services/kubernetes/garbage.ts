import { isObject, type JsonObject } from './fields';
import type { ResourceRegistry, ResourceType } from './resources';
import { badRequest } from './status';
import type { ObjectStore } from './store';

/**
 * Deletion with the garbage collector's propagation policies: a dependent is an object whose
 * metadata.ownerReferences names the deleted object's uid. `Background` (the default for the built-in
 * workloads) deletes the owner, then its dependents; `Foreground` marks the owner (deletionTimestamp and the
 * `foregroundDeletion` finalizer), deletes its dependents, then the owner; `Orphan` removes the owner reference
 * from the dependents and leaves them. The real collector works asynchronously; here the dependents are gone
 * (or orphaned) by the time the DELETE answers. See docs/concepts/architecture/garbage-collection.
 */

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

function meta(object: JsonObject): JsonObject {
  return isObject(object['metadata']) ? object['metadata'] : {};
}

/** The policy of a DELETE: its DeleteOptions body, else the query, else Background. */
export function propagationPolicy(query: URLSearchParams, body: string): PropagationPolicy {
  let policy: unknown = query.get('propagationPolicy') ?? undefined;
  if (body.trim() !== '') {
    let options: unknown;
    try {
      options = JSON.parse(body);
    } catch {
      throw badRequest('the DeleteOptions of the request cannot be decoded');
    }
    if (isObject(options)) {
      if (options['propagationPolicy'] !== undefined) policy = options['propagationPolicy'];
      else if (options['orphanDependents'] === true) policy = 'Orphan';
    }
  }
  if (policy === undefined || policy === null || policy === '') return 'Background';
  if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  return policy;
}

const nameOf = (object: JsonObject): string => String(meta(object)['name']);
const namespaceOf = (object: JsonObject): string | undefined => meta(object)['namespace'] as string | undefined;

export class GarbageCollector {
  public constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
  ) {}

  /** Every object whose owner references name `uid`, with its type. */
  public dependents(uid: string): { type: ResourceType; object: JsonObject }[] {
    const out: { type: ResourceType; object: JsonObject }[] = [];
    const seen = new Set<string>();
    for (const type of this.registry.all()) {
      const key = `${type.group}/${type.plural}`;
      if (seen.has(key) || !type.namespaced) continue;
      seen.add(key);
      for (const object of this.store.all(type)) {
        const owners = meta(object)['ownerReferences'];
        if (Array.isArray(owners) && owners.some((o) => isObject(o) && o['uid'] === uid)) out.push({ type, object });
      }
    }
    return out;
  }

  /** Deletes an object as the policy says; returns the object as the DELETE answers it. */
  public delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    policy: PropagationPolicy,
  ): JsonObject {
    const object = this.store.get(type, namespace, name);
    const uid = String(meta(object)['uid']);
    if (policy === 'Orphan') {
      for (const dependent of this.dependents(uid)) {
        this.store.writeMetadata(dependent.type, namespaceOf(dependent.object), nameOf(dependent.object), (m) => {
          const owners = (m['ownerReferences'] as JsonObject[]).filter((o) => o['uid'] !== uid);
          if (owners.length > 0) m['ownerReferences'] = owners;
          else delete m['ownerReferences'];
        });
      }
      return this.store.delete(type, namespace, name);
    }
    if (policy === 'Foreground') {
      const marked = this.store.writeMetadata(type, namespace, name, (m) => {
        m['deletionTimestamp'] = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        m['deletionGracePeriodSeconds'] = 0;
        const finalizers = Array.isArray(m['finalizers']) ? m['finalizers'] : [];
        if (!finalizers.includes('foregroundDeletion')) m['finalizers'] = [...finalizers, 'foregroundDeletion'];
      });
      for (const dependent of this.dependents(uid)) {
        this.delete(dependent.type, namespaceOf(dependent.object), nameOf(dependent.object), 'Foreground');
      }
      this.store.delete(type, namespace, name);
      return marked;
    }
    const deleted = this.store.delete(type, namespace, name);
    this.collect(uid);
    return deleted;
  }

  /** Deletes the dependents of a deleted owner, and theirs (background propagation). */
  public collect(uid: string): void {
    for (const dependent of this.dependents(uid)) {
      const namespace = namespaceOf(dependent.object);
      if (!this.store.find(dependent.type, namespace, nameOf(dependent.object))) continue;
      this.delete(dependent.type, namespace, nameOf(dependent.object), 'Background');
    }
  }
}
