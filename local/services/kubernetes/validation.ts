import { deepEqual, isObject, type JsonObject } from './fields';
import { groupVersion, type ResourceType } from './resources';
import { matchesLabels, requirementsOf } from './selectors';
import { badRequest, invalid, qualifiedResource } from './status';

/**
 * Validation of a write: the request's identity against its URL, and the rules of the kinds (a workload's selector
 * matches its template, has containers, and is immutable), worded as the API server words its 400 and 422 answers.
 */

function metadataOf(object: JsonObject): JsonObject {
  return isObject(object['metadata']) ? object['metadata'] : {};
}

/** The body's kind, apiVersion, name and namespace agree with the URL it was sent to. */
export function checkIdentity(
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
  const metadata = metadataOf(body);
  if (name !== undefined && metadata['name'] !== undefined && metadata['name'] !== name) {
    throw badRequest(
      `the name of the object (${String(metadata['name'])}) does not match the name on the URL (${name})`,
    );
  }
  if (type.namespaced && namespace && metadata['namespace'] !== undefined && metadata['namespace'] !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

/** The kind's own rules, on the defaulted object; `previous` is the live object of an update. */
export function validate(type: ResourceType, object: JsonObject, previous: JsonObject | null): void {
  const name = String(metadataOf(object)['name']);
  if (type.group === 'apps' && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(type.kind)) {
    validateWorkload(type, name, object, previous);
  }
}

function validateWorkload(type: ResourceType, name: string, object: JsonObject, previous: JsonObject | null): void {
  const spec = isObject(object['spec']) ? object['spec'] : {};
  const replicas = spec['replicas'];
  if (replicas !== undefined && (typeof replicas !== 'number' || replicas < 0)) {
    throw invalid(type.group, type.kind, name, [
      {
        field: 'spec.replicas',
        message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      },
    ]);
  }
  const selector = isObject(spec['selector']) ? spec['selector'] : null;
  if (!selector) throw invalid(type.group, type.kind, name, [{ field: 'spec.selector', message: 'Required value' }]);
  const template = isObject(spec['template']) ? spec['template'] : {};
  const labels =
    isObject(template['metadata']) && isObject(template['metadata']['labels']) ? template['metadata']['labels'] : {};
  if (!matchesLabels(labels as Record<string, string>, requirementsOf(selector)) || Object.keys(labels).length === 0) {
    throw invalid(type.group, type.kind, name, [
      {
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
      },
    ]);
  }
  const containers = isObject(template['spec']) ? template['spec']['containers'] : undefined;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw invalid(type.group, type.kind, name, [{ field: 'spec.template.spec.containers', message: 'Required value' }]);
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
