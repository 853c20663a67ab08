import { createHash } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './fields';
import { swaggerToProtobuf } from './openapi-proto';
import { groupVersion, type ResourceRegistry, type ResourceType } from './resources';
import { closure, type Model, modelNameOf, type Property, type TypeRef } from './schema';
import { StatusError } from './status';
import type { ObjectStore } from './store';

/**
 * `/openapi/v2` and `/openapi/v3` for the kinds the server serves: the built-in kinds' definitions derived from
 * client-node's models (schema.ts) with their patch strategies, the CRDs' own openAPIV3Schema, and for every
 * resource the paths whose PATCH declares the `fieldValidation` parameter (kubectl checks that before it
 * leaves validation to the server). `/openapi/v2` also in protobuf (openapi-proto.ts). Definitions are named as upstream names them
 * (`io.k8s.api.apps.v1.Deployment`). Built on request, cached until a CRD changes. See ADR 0028.
 */

const PACKAGES: Record<string, string> = {
  '': 'io.k8s.api.core',
  apps: 'io.k8s.api.apps',
  batch: 'io.k8s.api.batch',
  autoscaling: 'io.k8s.api.autoscaling',
  policy: 'io.k8s.api.policy',
  'rbac.authorization.k8s.io': 'io.k8s.api.rbac',
  'networking.k8s.io': 'io.k8s.api.networking',
  'discovery.k8s.io': 'io.k8s.api.discovery',
  'authorization.k8s.io': 'io.k8s.api.authorization',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
};
const META = new Set([
  'V1ObjectMeta',
  'V1ListMeta',
  'V1LabelSelector',
  'V1LabelSelectorRequirement',
  'V1OwnerReference',
  'V1ManagedFieldsEntry',
  'V1Condition',
  'V1Status',
  'V1StatusDetails',
  'V1StatusCause',
  'V1DeleteOptions',
  'V1Preconditions',
]);
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];
const PROTOBUF_V2 = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const PROTOBUF_V2_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Flavour = 'v2' | 'v3';

function shortName(modelName: string): { version: string; short: string } {
  const m = /^(?:[A-Z][a-z]+)*?V(\d+(?:alpha\d+|beta\d+)?)([A-Z].*)$/.exec(modelName);
  return m ? { version: `v${m[1]}`, short: m[2]! } : { version: 'v1', short: modelName };
}

function ref(flavour: Flavour, name: string): JsonObject {
  return { $ref: flavour === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}` };
}

export class OpenApiDocuments {
  private cacheKey = '';
  private names = new Map<string, string>();
  private readonly documents = new Map<string, { text: string; hash: string }>();
  private protobuf: Buffer | null = null;

  public constructor(
    private readonly registry: ResourceRegistry,
    private readonly store: ObjectStore,
  ) {}

  /** Answers `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<api path>`. */
  public serve(
    segments: readonly string[],
    accept: string | undefined,
  ): { body: string | Buffer; contentType: string } {
    this.refresh();
    if (segments[1] === 'v2' && segments.length === 2 && accept?.includes(PROTOBUF_V2)) {
      const text = this.cached('v2', () => this.swagger()).body;
      this.protobuf ??= swaggerToProtobuf(JSON.parse(text) as JsonObject);
      return { body: this.protobuf, contentType: PROTOBUF_V2_TYPE };
    }
    if (accept && !/json|\*\/\*/.test(accept)) {
      throw new StatusError(406, 'NotAcceptable', 'only application/json is served for the OpenAPI documents');
    }
    if (segments[1] === 'v2' && segments.length === 2) return this.cached('v2', () => this.swagger());
    if (segments[1] === 'v3' && segments.length === 2) {
      const paths: JsonObject = {};
      for (const gv of this.groupVersions()) {
        const doc = this.cached(gv, () => this.v3(gv));
        paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${doc.hash}` };
      }
      return { body: JSON.stringify({ paths }), contentType: 'application/json' };
    }
    const gv = segments.slice(2).join('/');
    if (segments[1] === 'v3' && this.groupVersions().includes(gv)) return this.cached(gv, () => this.v3(gv));
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }

  private cached(key: string, build: () => JsonObject): { body: string; contentType: string; hash: string } {
    let entry = this.documents.get(key);
    if (!entry) {
      const text = JSON.stringify(build());
      entry = { text, hash: createHash('sha512').update(text).digest('hex').toUpperCase() };
      this.documents.set(key, entry);
    }
    return { body: entry.text, contentType: 'application/json', hash: entry.hash };
  }

  /** Drops the cached documents when the served types changed (a CRD was created, changed or deleted). */
  private refresh(): void {
    const crdType = this.registry.byGroupKind('apiextensions.k8s.io', 'CustomResourceDefinition')!;
    const key = [
      ...this.registry.all().map((t) => `${groupVersion(t)}/${t.plural}`),
      ...this.store.all(crdType).map((crd) => String((crd['metadata'] as JsonObject)['resourceVersion'])),
    ].join(',');
    if (key === this.cacheKey) return;
    this.cacheKey = key;
    this.documents.clear();
    this.protobuf = null;
    this.names = this.nameModels();
  }

  private groupVersions(): string[] {
    const out = new Set<string>();
    for (const t of this.registry.all()) out.add(t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`);
    return [...out];
  }

  /** Upstream-style definition names for every model the served kinds reach, core kinds first. */
  private nameModels(): Map<string, string> {
    const names = new Map<string, string>();
    const used = new Set<string>();
    const builtins = this.registry
      .all()
      .filter((t) => !t.crd)
      .sort((a, b) => Number(a.group !== '') - Number(b.group !== ''));
    for (const type of builtins) {
      const root = modelNameOf(type);
      if (!root) continue;
      for (const m of closure([root, 'V1Scale', 'V1Status', 'V1DeleteOptions'])) {
        if (names.has(m.name)) continue;
        const { version, short } = shortName(m.name);
        const base = META.has(m.name)
          ? `io.k8s.apimachinery.pkg.apis.meta.${version}.${short}`
          : `${PACKAGES[m.name === 'V1Scale' ? 'autoscaling' : type.group] ?? 'io.k8s.api.core'}.${version}.${short}`;
        const name = used.has(base) ? `${base}.${m.name}` : base;
        used.add(name);
        names.set(m.name, name);
      }
    }
    return names;
  }

  private typeSchema(type: TypeRef, format: string, flavour: Flavour): JsonObject {
    switch (type.kind) {
      case 'string':
        return { type: 'string' };
      case 'integer':
        return { type: 'integer', format: format || 'int32' };
      case 'number':
        return { type: 'number', format: 'double' };
      case 'boolean':
        return { type: 'boolean' };
      case 'date-time':
        return ref(flavour, TIME);
      case 'int-or-string':
        return ref(flavour, INT_OR_STRING);
      case 'any':
        return { type: 'object' };
      case 'array':
        return { type: 'array', items: this.typeSchema(type.items, '', flavour) };
      case 'map':
        return { type: 'object', additionalProperties: this.typeSchema(type.values, '', flavour) };
      default: {
        const name = this.names.get(type.model);
        return name ? ref(flavour, name) : { type: 'object' };
      }
    }
  }

  private propertySchema(property: Property, flavour: Flavour): JsonObject {
    const schema = this.typeSchema(property.type, property.format, flavour);
    const out: JsonObject = schema['$ref'] && flavour === 'v3' ? { allOf: [schema] } : { ...schema };
    if (property.description) out['description'] = property.description;
    if (property.patch) {
      out['x-kubernetes-patch-strategy'] = property.patch.strategy;
      if (property.patch.key) out['x-kubernetes-patch-merge-key'] = property.patch.key;
    }
    return out;
  }

  private definition(m: Model, flavour: Flavour, gvk: ResourceType | null): JsonObject {
    const properties: JsonObject = {};
    for (const p of m.properties.values()) properties[p.name] = this.propertySchema(p, flavour);
    const out: JsonObject = { description: m.description, type: 'object', properties };
    if (m.required.length > 0) out['required'] = [...m.required];
    if (gvk) out['x-kubernetes-group-version-kind'] = [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];
    return out;
  }

  /** The definitions of the types given (their closure), and of the CRDs' kinds among them. */
  private definitions(types: readonly ResourceType[], flavour: Flavour): JsonObject {
    const defs: JsonObject = {
      [INT_OR_STRING]: {
        type: 'string',
        format: 'int-or-string',
        description: 'IntOrString is a type that can hold an int32 or a string.',
      },
      [TIME]: {
        type: 'string',
        format: 'date-time',
        description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.',
      },
    };
    const kinds = new Map<string, ResourceType>();
    const roots: string[] = ['V1Status', 'V1DeleteOptions'];
    for (const type of types) {
      if (type.crd) {
        defs[this.crdDefinitionName(type)] = this.crdDefinition(type, flavour);
        roots.push('V1ObjectMeta');
        continue;
      }
      const root = modelNameOf(type);
      if (!root) continue;
      kinds.set(root, type);
      roots.push(root);
      if (type.subresources.includes('scale')) roots.push('V1Scale');
    }
    for (const m of closure(roots)) {
      const name = this.names.get(m.name);
      if (!name) continue;
      const scale =
        m.name === 'V1Scale' ? ({ group: 'autoscaling', version: 'v1', kind: 'Scale' } as ResourceType) : null;
      defs[name] = this.definition(m, flavour, kinds.get(m.name) ?? scale);
    }
    return defs;
  }

  private crdDefinitionName(type: ResourceType): string {
    return `${type.group.split('.').reverse().join('.')}.${type.version}.${type.kind}`;
  }

  private crdDefinition(type: ResourceType, flavour: Flavour): JsonObject {
    const crdType = this.registry.byGroupKind('apiextensions.k8s.io', 'CustomResourceDefinition')!;
    const crd = this.store.find(crdType, undefined, type.crd!);
    const versions =
      crd && isObject(crd['spec']) && Array.isArray(crd['spec']['versions']) ? crd['spec']['versions'] : [];
    const entry = versions.find((v) => isObject(v) && v['name'] === type.version) as JsonObject | undefined;
    const schema =
      entry && isObject(entry['schema']) && isObject(entry['schema']['openAPIV3Schema'])
        ? entry['schema']['openAPIV3Schema']
        : {};
    const out = structuredClone(schema) as JsonObject;
    const properties = isObject(out['properties']) ? out['properties'] : {};
    properties['apiVersion'] ??= {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    };
    properties['kind'] ??= {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    };
    properties['metadata'] = ref(
      flavour,
      this.names.get('V1ObjectMeta') ?? 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    );
    out['properties'] = properties;
    out['type'] ??= 'object';
    out['x-kubernetes-group-version-kind'] = [{ group: type.group, kind: type.kind, version: type.version }];
    return out;
  }

  private schemaName(type: ResourceType): string | null {
    if (type.crd) return this.crdDefinitionName(type);
    const root = modelNameOf(type);
    return root ? (this.names.get(root) ?? null) : null;
  }

  /** The paths of one resource: its collection and its objects, every operation marked with its kind. */
  private paths(type: ResourceType, flavour: Flavour): JsonObject {
    const name = this.schemaName(type);
    if (!name) return {};
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const collection = type.namespaced ? `${base}/namespaces/{namespace}/${type.plural}` : `${base}/${type.plural}`;
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    const body = ref(flavour, name);
    const query = (names: readonly string[]): JsonObject[] =>
      names.map(
        (n): JsonObject =>
          flavour === 'v2'
            ? { name: n, in: 'query', type: 'string', uniqueItems: true }
            : { name: n, in: 'query', schema: { type: 'string', uniqueItems: true } },
      );
    const operation = (action: string, verb: string, withBody: boolean, params: readonly string[]): JsonObject => {
      const op: JsonObject = {
        operationId: `${verb}${type.kind}`,
        'x-kubernetes-action': action,
        'x-kubernetes-group-version-kind': gvk,
        parameters: query(params),
        responses:
          flavour === 'v2'
            ? { '200': { description: 'OK', schema: body } }
            : { '200': { description: 'OK', content: { 'application/json': { schema: body } } } },
      };
      if (withBody) {
        if (flavour === 'v2')
          (op['parameters'] as JsonObject[]).push({ name: 'body', in: 'body', required: true, schema: body });
        else op['requestBody'] = { content: { '*/*': { schema: body } }, required: true };
      }
      return op;
    };
    const paths: JsonObject = {};
    const verbs = type.verbs ?? ['get', 'list', 'create', 'update', 'patch', 'delete'];
    const collectionOps: JsonObject = {};
    if (verbs.includes('list'))
      collectionOps['get'] = operation('list', 'list', false, [
        'labelSelector',
        'fieldSelector',
        'resourceVersion',
        'watch',
      ]);
    if (verbs.includes('create')) collectionOps['post'] = operation('post', 'create', true, QUERY_PARAMETERS);
    paths[collection] = collectionOps;
    if (verbs.includes('get')) {
      paths[`${collection}/{name}`] = {
        get: operation('get', 'read', false, []),
        put: operation('put', 'replace', true, QUERY_PARAMETERS),
        patch: operation('patch', 'patch', true, [...QUERY_PARAMETERS, 'force']),
        delete: operation('delete', 'delete', false, ['dryRun', 'propagationPolicy']),
      };
    }
    return paths;
  }

  private v3(gv: string): JsonObject {
    const types = this.registry
      .all()
      .filter((t) => (t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`) === gv);
    const paths: JsonObject = {};
    for (const type of types) Object.assign(paths, this.paths(type, 'v3'));
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.30.0-stepline' },
      paths,
      components: { schemas: this.definitions(types, 'v3') },
    };
  }

  private swagger(): JsonObject {
    const types = this.registry.all();
    const paths: JsonObject = {};
    for (const type of types) Object.assign(paths, this.paths(type, 'v2'));
    return {
      swagger: '2.0',
      info: { title: 'Kubernetes', version: 'v1.30.0-stepline' },
      paths,
      definitions: this.definitions(types, 'v2'),
    } as Json as JsonObject;
  }
}
