import type { ChangeKind } from './contracts';
import type { RevisionRecord, RevisionStatus, RevisionSummary } from './revision';
import type { KubernetesObject, ManifestFile, ObjectRef } from './types';

/**
 * The ports the deployer needs; adapters/kubernetes, adapters/aws and adapters/local implement them. Every
 * method throws the errors of ./errors.ts (KubernetesForbidden, KubernetesConflict, ...), never a raw HTTP
 * error.
 */

export interface ApplyOptions {
  readonly fieldManager: string;
  /** Take over fields other managers own. */
  readonly force: boolean;
}

export interface ApplyOutcome {
  /** The object as the API server returned it. */
  readonly object: KubernetesObject;
  readonly change: ChangeKind;
}

/** One cluster, as the deployer talks to it. */
export interface ClusterClient {
  /**
   * How the cluster scopes a kind: true namespaced, false cluster-scoped, null when the cluster does not serve
   * it (no such group/version, or no such kind in it).
   */
  scopeOf(apiVersion: string, kind: string): Promise<boolean | null>;
  /** Server-side apply of one object. */
  apply(object: KubernetesObject, options: ApplyOptions): Promise<ApplyOutcome>;
  /** Reads one object; null when it does not exist. */
  get(ref: ObjectRef): Promise<KubernetesObject | null>;
  /** The objects of a kind in a namespace that match a label selector (empty when the kind is not served). */
  list(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<KubernetesObject[]>;
  /** Deletes one object; nothing when it does not exist. */
  delete(ref: ObjectRef): Promise<void>;
}

/** Where revision records are kept (per environment, in the environment's namespace). */
export interface RevisionStore {
  list(namespace: string, environment: string): Promise<RevisionSummary[]>;
  /** Null when there is no such record. */
  read(namespace: string, environment: string, revision: number): Promise<RevisionRecord | null>;
  create(record: RevisionRecord): Promise<void>;
  setStatus(namespace: string, environment: string, revision: number, status: RevisionStatus): Promise<void>;
  remove(namespace: string, environment: string, revision: number): Promise<void>;
}

/** Reads the rendered manifests a build produced. */
export interface ManifestSource {
  /**
   * The files at `path` below `location`: the file itself, or every .yaml/.yml/.json file below the folder,
   * sorted by path. Throws ManifestsNotFound when there is none.
   */
  read(location: string, path: string): Promise<ManifestFile[]>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
