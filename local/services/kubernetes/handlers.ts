import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Authorizer, UserInfo } from './auth';
import { crdVersionSchema, decode, fieldValidationOf } from './decode';
import { isObject, type Json, type JsonObject } from './fields';
import { type GarbageCollector, propagationPolicy } from './garbage';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch';
import { groupVersion, type ResourceRegistry, type ResourceType } from './resources';
import { modelNameOf } from './schema';
import { badRequest, invalid, StatusError, success } from './status';
import type { ObjectStore } from './store';
import { toTable, wantsTable } from './table';

/**
 * The verbs on resources: get, list, create, update, patch (apply, merge, strategic merge, JSON), delete with
 * propagation, and the subresources `status`, `scale` (an autoscaling/v1 Scale) and `log`, plus the
 * SelfSubjectAccessReview that `kubectl auth can-i` creates. Watches are served by `watch.ts`.
 */

export interface Target {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

export interface ApiRequest {
  readonly method: string;
  readonly target: Target;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly fieldManager: string;
  readonly user: UserInfo;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: Json | string;
  readonly contentType?: string;
  /** `Warning` headers: unknown fields dropped under `fieldValidation=Warn`. */
  readonly warnings?: readonly string[];
}

const PATCH_TYPES =
  'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json';

/** What the simulated server says when asked for a container's logs. */
export const NO_CONTAINER_LOGS =
  'stepline: no container runs in the simulated Kubernetes cluster, so this pod has no logs (its status is simulated from the rollout).\n';

function meta(object: JsonObject): JsonObject {
  return isObject(object['metadata']) ? object['metadata'] : {};
}

export function parseJsonValue(body: string): Json {
  try {
    return JSON.parse(body) as Json;
  } catch (error) {
    throw badRequest(`error decoding the request body: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function parseJson(body: string): JsonObject {
  const value = parseJsonValue(body);
  if (!isObject(value)) throw badRequest('the request body must be a JSON object');
  return value;
}

function contentTypeOf(headers: IncomingMessage['headers']): string {
  return String(headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
}

export class ResourceApi {
  public constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly authorizer: Authorizer,
    private readonly gc: GarbageCollector,
  ) {}

  public serve(request: ApiRequest): ApiResponse {
    const { method, target, query, headers } = request;
    const { type, namespace, name, subresource } = target;
    if (type.kind === 'SelfSubjectAccessReview') return this.review(request);
    if (type.kind === 'SelfSubjectRulesReview') return this.rules(request);
    if (method === 'GET' && subresource === undefined) return this.read(target, query, wantsTable(headers.accept));
    if (method === 'POST' && name === undefined) {
      const decoded = this.decode(type, parseJson(request.body), query);
      const dryRun = query.get('dryRun') === 'All';
      const created = this.store.create(type, namespace, decoded.object, {
        fieldManager: request.fieldManager,
        dryRun,
      });
      return { status: 201, body: created, warnings: decoded.warnings };
    }
    if (name === undefined)
      throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
    if (subresource === 'log') return this.log(target, method);
    if (subresource === 'scale') return this.scale(request);
    if (method === 'DELETE') {
      const policy = propagationPolicy(query, request.body);
      const deleted = this.gc.delete(type, namespace, name, policy);
      if (policy === 'Foreground') return { status: 200, body: deleted };
      const details = { name, group: type.group, kind: type.plural, uid: meta(deleted)['uid'] ?? null };
      return { status: 200, body: success(details) as Json };
    }
    if (subresource === 'status') return this.status(request);
    if (method === 'PUT') {
      const decoded = this.decode(type, parseJson(request.body), query);
      const dryRun = query.get('dryRun') === 'All';
      const body = this.store.update(type, namespace, name, decoded.object, {
        fieldManager: request.fieldManager,
        dryRun,
      });
      return { status: 200, body, warnings: decoded.warnings };
    }
    if (method === 'PATCH') return this.patch(request);
    throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported`);
  }

  private read(target: Target, query: URLSearchParams, table: boolean): ApiResponse {
    const { type, namespace, name } = target;
    const resourceVersion = this.store.currentResourceVersion();
    if (name !== undefined) {
      const object = this.store.get(type, namespace, name);
      return { status: 200, body: table ? toTable(type, [object], resourceVersion) : object };
    }
    const items = this.store.list(
      type,
      namespace,
      query.get('labelSelector') ?? undefined,
      query.get('fieldSelector') ?? undefined,
    );
    if (table) return { status: 200, body: toTable(type, items, resourceVersion) };
    return {
      status: 200,
      body: { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: { resourceVersion }, items },
    };
  }

  /** The CRD schema of a custom resource's version; null for a built-in kind. */
  private crdSchema(type: ResourceType): JsonObject | null {
    if (!type.crd) return null;
    const crdType = this.registry.byGroupKind('apiextensions.k8s.io', 'CustomResourceDefinition')!;
    return crdVersionSchema(this.store.find(crdType, undefined, type.crd), type.version);
  }

  private decode(type: ResourceType, body: JsonObject, query: URLSearchParams) {
    return decode(type, body, fieldValidationOf(query), this.crdSchema(type));
  }

  private status(request: ApiRequest): ApiResponse {
    const { method, target, body, fieldManager } = request;
    const { type, namespace, name } = target as Required<Target>;
    const current = this.store.get(type, namespace, name);
    let status: Json | undefined;
    if (method === 'PUT') status = parseJson(body)['status'];
    else if (method === 'PATCH') status = (this.patched(type, current, request) as JsonObject)['status'];
    else if (method === 'GET') return { status: 200, body: current };
    else throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on status`);
    return {
      status: 200,
      body: this.store.writeStatus(type, namespace, name, isObject(status) ? status : {}, fieldManager),
    };
  }

  /** The object a merge, strategic merge or JSON patch makes of `current`. */
  private patched(type: ResourceType, current: JsonObject, request: ApiRequest, modelName?: string): Json {
    const contentType = contentTypeOf(request.headers);
    if (contentType === 'application/merge-patch+json') return mergePatch(current, parseJsonValue(request.body));
    if (contentType === 'application/json-patch+json') return jsonPatch(current, parseJsonValue(request.body));
    if (contentType === 'application/strategic-merge-patch+json') {
      const model = modelName ?? modelNameOf(type);
      if (!model) {
        // As the API server: custom resources have no patch strategies, so no strategic merge patch.
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        );
      }
      return strategicMergePatch(current, parseJsonValue(request.body), model);
    }
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES}`,
    );
  }

  private patch(request: ApiRequest): ApiResponse {
    const { target, query, fieldManager } = request;
    const { type, namespace, name } = target as Required<Target>;
    const dryRun = query.get('dryRun') === 'All';
    if (contentTypeOf(request.headers) === 'application/apply-patch+yaml') {
      if (!query.get('fieldManager')) throw badRequest('PATCH requests for server-side apply must have a fieldManager');
      let applied: unknown;
      try {
        applied = parseYaml(request.body);
      } catch (error) {
        throw badRequest(`error decoding YAML: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!isObject(applied)) throw badRequest('the applied configuration must be an object');
      const decoded = this.decode(type, applied, query);
      const force = query.get('force') === 'true';
      const result = this.store.apply(type, namespace, name, decoded.object, { fieldManager, force, dryRun });
      return { status: result.created ? 201 : 200, body: result.object, warnings: decoded.warnings };
    }
    const current = this.store.get(type, namespace, name);
    const next = this.patched(type, current, request);
    if (!isObject(next)) throw badRequest('a patch must leave an object');
    if (isObject(next['metadata'])) delete next['metadata']['resourceVersion'];
    const decoded = this.decode(type, next, query);
    const body = this.store.update(type, namespace, name, decoded.object, { fieldManager, dryRun });
    return { status: 200, body, warnings: decoded.warnings };
  }

  /** The autoscaling/v1 Scale of a workload: GET, PUT, PATCH (what `kubectl scale` and autoscalers use). */
  private scale(request: ApiRequest): ApiResponse {
    const { method, target, fieldManager } = request;
    const { type, namespace, name } = target as Required<Target>;
    const live = this.store.get(type, namespace, name);
    const current = scaleOf(live);
    if (method === 'GET') return { status: 200, body: current };
    let next: Json;
    if (method === 'PUT') next = parseJson(request.body);
    else if (method === 'PATCH') next = this.patched(type, current, request, 'V1Scale');
    else throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on scale`);
    const replicas = isObject(next) && isObject(next['spec']) ? next['spec']['replicas'] : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('autoscaling', 'Scale', name, [
        {
          field: 'spec.replicas',
          message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
        },
      ]);
    }
    const object = structuredClone(live);
    (object['spec'] as JsonObject)['replicas'] = replicas;
    if (isObject(object['metadata'])) delete object['metadata']['managedFields'];
    const updated = this.store.update(type, namespace, name, object, {
      fieldManager,
      dryRun: request.query.get('dryRun') === 'All',
    });
    return { status: 200, body: scaleOf(updated) };
  }

  private log(target: Target, method: string): ApiResponse {
    if (method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on log`);
    this.store.get(target.type, target.namespace, target.name!);
    return { status: 200, body: NO_CONTAINER_LOGS, contentType: 'text/plain' };
  }

  /** `kubectl auth can-i --list`: everything, marked incomplete, since deny rules are not RBAC rules. */
  private rules(request: ApiRequest): ApiResponse {
    if (request.method !== 'POST') throw new StatusError(405, 'MethodNotAllowed', `${request.method} is not supported`);
    const review = parseJson(request.body);
    return {
      status: 201,
      body: {
        kind: 'SelfSubjectRulesReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: isObject(review['spec']) ? review['spec'] : {},
        status: {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: true,
          evaluationError: RULES_NOTE,
        },
      },
    };
  }

  /** `kubectl auth can-i`: whether the requesting user may, as the authorizer decides. */
  private review(request: ApiRequest): ApiResponse {
    if (request.method !== 'POST') throw new StatusError(405, 'MethodNotAllowed', `${request.method} is not supported`);
    const review = parseJson(request.body);
    const spec = isObject(review['spec']) ? review['spec'] : {};
    const attributes = isObject(spec['resourceAttributes']) ? spec['resourceAttributes'] : null;
    let allowed: boolean;
    if (attributes) {
      const resource = String(attributes['resource'] ?? '');
      const sub = attributes['subresource'] ? `/${String(attributes['subresource'])}` : '';
      allowed = this.authorizer.allows({
        user: request.user,
        verb: String(attributes['verb'] ?? ''),
        group: String(attributes['group'] ?? ''),
        resource: `${resource}${sub}`,
        ...(attributes['namespace'] ? { namespace: String(attributes['namespace']) } : {}),
        ...(attributes['name'] ? { name: String(attributes['name']) } : {}),
      });
    } else {
      allowed = true; // Non-resource URLs (/healthz, /version) are open to every authenticated user here.
    }
    return {
      status: 201,
      body: {
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec,
        // As RBAC: a denial without a reason (kubectl prints "no").
        status: { allowed },
      },
    };
  }
}

/** Every authenticated user may do everything the deny rules and policies leave; they are not RBAC rules. */
const RULES_NOTE =
  'the simulated cluster allows every request but those its deny rules and policies refuse, which are not listed here';

function labelSelectorString(selector: Json | undefined): string {
  if (!isObject(selector)) return '';
  const labels = isObject(selector['matchLabels']) ? selector['matchLabels'] : {};
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of Array.isArray(selector['matchExpressions']) ? selector['matchExpressions'] : []) {
    if (!isObject(e)) continue;
    const values = Array.isArray(e['values']) ? e['values'].join(',') : '';
    if (e['operator'] === 'In') parts.push(`${String(e['key'])} in (${values})`);
    else if (e['operator'] === 'NotIn') parts.push(`${String(e['key'])} notin (${values})`);
    else if (e['operator'] === 'Exists') parts.push(String(e['key']));
    else if (e['operator'] === 'DoesNotExist') parts.push(`!${String(e['key'])}`);
  }
  return parts.join(',');
}

/** A workload as an autoscaling/v1 Scale. */
export function scaleOf(object: JsonObject): JsonObject {
  const metadata = meta(object);
  const spec = isObject(object['spec']) ? object['spec'] : {};
  const status = isObject(object['status']) ? object['status'] : {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: metadata['name'] ?? null,
      namespace: metadata['namespace'] ?? null,
      uid: metadata['uid'] ?? null,
      resourceVersion: metadata['resourceVersion'] ?? null,
      creationTimestamp: metadata['creationTimestamp'] ?? null,
    },
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 0 },
    status: {
      replicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0,
      selector: labelSelectorString(spec['selector']),
    },
  };
}
