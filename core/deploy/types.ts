/**
 * The shapes the deployer works with: Kubernetes objects as plain JSON, references to them, and where each
 * rendered document came from (so that an error can name the file and the document).
 */

/** A Kubernetes object as plain JSON. Only the identifying fields are typed. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: KubernetesMetadata;
  [field: string]: unknown;
}

export interface KubernetesMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  resourceVersion?: string;
  uid?: string;
  [field: string]: unknown;
}

/** Identifies one object in a cluster. `namespace` is absent for cluster-scoped objects. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** Where a rendered document came from: the file (relative to the manifests location) and its position in it. */
export interface DocumentSource {
  /** Path of the file, relative to the manifests location: `deploy.yaml`, `base/web.yaml`. */
  readonly file: string;
  /** 1-based position of the document in its file (the n-th YAML document, or the n-th item of a List). */
  readonly index: number;
}

/** One manifest document: its JSON and where it came from. */
export interface ManifestDocument {
  readonly source: DocumentSource;
  readonly object: KubernetesObject;
}

/** One file of rendered manifests, as an artifact store returns it. */
export interface ManifestFile {
  /** Path relative to the manifests location. */
  readonly path: string;
  readonly content: string;
}

/** Labels that mark what Stepline manages. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'stepline';
export const VERSION_LABEL = 'app.kubernetes.io/version';
export const ENVIRONMENT_LABEL = 'stepline.dev/environment';
export const COMMIT_ANNOTATION = 'stepline.dev/commit';
export const REPOSITORY_ANNOTATION = 'stepline.dev/repository';
export const EXECUTION_ANNOTATION = 'stepline.dev/execution';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

/** The field manager of every server-side apply Stepline makes. */
export const FIELD_MANAGER = 'stepline';

/** `Deployment web in shop` / `Namespace shop`: how messages name an object. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** `deploy.yaml#2`: how messages name a document. */
export function describeSource(source: DocumentSource): string {
  return `${source.file}#${source.index}`;
}

export function refOf(object: KubernetesObject): ObjectRef {
  const ref: { apiVersion: string; kind: string; name: string; namespace?: string } = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
  };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

/** The API group of an apiVersion: `apps` for `apps/v1`, the empty string for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** A key that identifies an object regardless of its API version: `apps/Deployment/shop/web`. */
export function objectKey(ref: ObjectRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
