import { applyRank } from './kinds';
import type { KubernetesObject } from './types';

/**
 * Sorts objects into apply order (see `applyRank`): Namespaces, CRDs, ServiceAccounts and RBAC, ConfigMaps and
 * Secrets, Services, workloads, then what refers to workloads and custom resources. The sort is stable: objects
 * of one kind keep their manifest order.
 */
export function applyOrder<T extends KubernetesObject>(objects: readonly T[]): T[] {
  return objects
    .map((object, position) => ({ object, position, rank: applyRank(object.kind) }))
    .sort((a, b) => a.rank - b.rank || a.position - b.position)
    .map(({ object }) => object);
}
