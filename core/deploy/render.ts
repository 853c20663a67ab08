import type { DeployRequest, ImageRef } from './contracts';
import { ManifestInvalid, type ManifestIssue } from './errors';
import { POD_SPEC_PATHS } from './kinds';
import {
  CHANGE_CAUSE_ANNOTATION,
  COMMIT_ANNOTATION,
  ENVIRONMENT_LABEL,
  EXECUTION_ANNOTATION,
  groupOf,
  isRecord,
  type KubernetesObject,
  REPOSITORY_ANNOTATION,
  VERSION_LABEL,
} from './types';

/** What a deploy stamps on the objects it applies. */
export interface RenderContext {
  readonly image: ImageRef;
  readonly request: DeployRequest;
  readonly executionName: string;
  readonly environment: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REPOSITORY =
  /^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$|^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** `repository@sha256:…`, after checking both parts. */
export function imageReference(image: ImageRef): string {
  if (!REPOSITORY.test(image.repository)) {
    throw new ManifestInvalid([
      {
        source: { file: '(event)', index: 0 },
        object: null,
        field: 'image.repository',
        message: `"${image.repository}" is not an image repository without tag`,
      },
    ]);
  }
  if (!DIGEST.test(image.digest)) {
    throw new ManifestInvalid([
      {
        source: { file: '(event)', index: 0 },
        object: null,
        field: 'image.digest',
        message: 'must be "sha256:" and 64 lowercase hex digits',
      },
    ]);
  }
  return `${image.repository}@${image.digest}`;
}

/** The repository part of an image reference: `registry/path` without `:tag` or `@digest`. */
export function imageRepository(reference: string): string {
  const at = reference.indexOf('@');
  const withoutDigest = at === -1 ? reference : reference.slice(0, at);
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** The path of a repository URI without its registry host: `shop/api` for `123.dkr.ecr.…/shop/api`. */
function repositoryPath(repository: string): string {
  const slash = repository.indexOf('/');
  if (slash === -1) return repository;
  const host = repository.slice(0, slash);
  return host.includes('.') || host.includes(':') || host === 'localhost' ? repository.slice(slash + 1) : repository;
}

/**
 * The version label value: the tag when a tag was built and its name is a valid label value, else the first
 * 12 digits of the commit.
 */
export function versionLabel(request: DeployRequest): string {
  if (request.ref?.kind === 'tag' && LABEL_VALUE.test(request.ref.name)) return request.ref.name;
  return request.commit.sha.slice(0, 12);
}

function containersOf(object: KubernetesObject): { at: string; containers: Record<string, unknown>[] }[] {
  const path =
    groupOf(object.apiVersion) === 'apps' || groupOf(object.apiVersion) === 'batch' || groupOf(object.apiVersion) === ''
      ? POD_SPEC_PATHS[object.kind]
      : undefined;
  if (!path) return [];
  let node: unknown = object;
  for (const step of path) {
    if (!isRecord(node)) return [];
    node = node[step];
  }
  if (!isRecord(node)) return [];
  const podSpec = node;
  const lists: { at: string; containers: Record<string, unknown>[] }[] = [];
  for (const listName of ['initContainers', 'containers']) {
    const list = podSpec[listName];
    if (Array.isArray(list)) lists.push({ at: `${path.join('.')}.${listName}`, containers: list.filter(isRecord) });
  }
  return lists;
}

/**
 * Renders validated objects for one deploy, returning new objects:
 * - the built image, by digest, into the containers that run it (see `ImageRef.containers` for the match);
 * - on every object: the label `app.kubernetes.io/version` and `stepline.dev/environment`, the annotations
 *   `stepline.dev/commit`, `stepline.dev/repository`, `stepline.dev/execution`, and `kubernetes.io/change-cause`
 *   (which `kubectl rollout history` shows);
 * - on pod templates: the version label, so that pods tell which version they run. Selectors are never
 *   touched.
 * Throws `ManifestInvalid` when no container runs the image, or a named container does not exist.
 */
export function renderObjects(objects: readonly KubernetesObject[], context: RenderContext): KubernetesObject[] {
  const reference = imageReference(context.image);
  const wanted = context.image.containers;
  const repository = context.image.repository;
  const path = repositoryPath(repository);
  const lastSegment = path.slice(path.lastIndexOf('/') + 1);
  const version = versionLabel(context.request);
  const sha = context.request.commit.sha;
  const changeCause = `stepline ${context.executionName}: ${context.request.repository.fullName}@${sha.slice(0, 12)} to ${context.environment}`;

  const matchedNames = new Set<string>();
  const seenNames = new Set<string>();
  const rendered = objects.map((original) => {
    const object = structuredClone(original);
    object.metadata.labels = {
      ...object.metadata.labels,
      [VERSION_LABEL]: version,
      [ENVIRONMENT_LABEL]: context.environment,
    };
    object.metadata.annotations = {
      ...object.metadata.annotations,
      [COMMIT_ANNOTATION]: sha,
      [REPOSITORY_ANNOTATION]: context.request.repository.fullName,
      [EXECUTION_ANNOTATION]: context.executionName,
      [CHANGE_CAUSE_ANNOTATION]: changeCause,
    };
    const lists = containersOf(object);
    for (const { containers } of lists) {
      for (const container of containers) {
        const name = String(container['name']);
        seenNames.add(name);
        const current = imageRepository(String(container['image']));
        const matches = wanted
          ? wanted.includes(name)
          : current === repository || current === path || repositoryPath(current) === path || name === lastSegment;
        if (matches) {
          container['image'] = reference;
          matchedNames.add(name);
        }
      }
    }
    if (TEMPLATE_STAMPED.includes(object.kind)) stampTemplate(object, version);
    return object;
  });

  const issues: ManifestIssue[] = [];
  const source = { file: '(manifests)', index: 0 };
  if (wanted) {
    for (const name of wanted) {
      if (!matchedNames.has(name)) {
        issues.push({
          source,
          object: null,
          field: 'image.containers',
          message: `names container "${name}", which no workload has (containers: ${[...seenNames].join(', ') || 'none'})`,
        });
      }
    }
  } else if (matchedNames.size === 0) {
    issues.push({
      source,
      object: null,
      field: 'image',
      message: `${repository} is run by no container: none has an image of that repository or is named "${lastSegment}" (containers: ${[...seenNames].join(', ') || 'none'})`,
    });
  }
  if (issues.length > 0) throw new ManifestInvalid(issues);
  return rendered;
}

/** Kinds whose pod template is mutable and gets the version label (a Job's template is immutable). */
const TEMPLATE_STAMPED: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];

function stampTemplate(object: KubernetesObject, version: string): void {
  const spec = object['spec'];
  if (!isRecord(spec)) return;
  const template =
    object.kind === 'CronJob'
      ? isRecord(spec['jobTemplate']) && isRecord(spec['jobTemplate']['spec'])
        ? spec['jobTemplate']['spec']['template']
        : undefined
      : spec['template'];
  if (!isRecord(template)) return;
  const metadata = isRecord(template['metadata']) ? template['metadata'] : {};
  const labels = isRecord(metadata['labels']) ? metadata['labels'] : {};
  template['metadata'] = { ...metadata, labels: { ...labels, [VERSION_LABEL]: version } };
}
