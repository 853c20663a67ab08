import type { TrafficRouting } from '../../config/strategy';
import { isRecord, type KubernetesObject } from '../types';

/**
 * Weights on a traffic router, when one is configured: the backendRefs of a Gateway API HTTPRoute, or the forward
 * action of an AWS Load Balancer Controller Ingress. The router object comes from the manifests; each step applies
 * it again with the step's weights. Without a router the share is set by replicas (approximate).
 *
 * - Gateway API: `HTTPRoute.spec.rules[].backendRefs[].weight`, proportional weights
 *   (https://gateway-api.sigs.k8s.io/reference/spec/#gateway.networking.k8s.io/v1.HTTPBackendRef).
 * - AWS Load Balancer Controller: the annotation `alb.ingress.kubernetes.io/actions.<action>` with
 *   `{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName","servicePort","weight"}]}}`
 *   (kubernetes-sigs/aws-load-balancer-controller, docs/guide/ingress/annotations.md, "actions").
 */

type Json = Record<string, unknown>;

export function routerKind(routing: TrafficRouting | undefined): 'replicas' | 'gatewayApi' | 'alb' {
  if (!routing) return 'replicas';
  return 'gatewayApi' in routing ? 'gatewayApi' : 'alb';
}

/** The router object's name and kind, to find it in the manifests. */
export function routerRef(routing: TrafficRouting): { readonly kind: string; readonly name: string } {
  return 'gatewayApi' in routing
    ? { kind: 'HTTPRoute', name: routing.gatewayApi.httpRoute }
    : { kind: 'Ingress', name: routing.alb.ingress };
}

/** The router object with `canaryWeight` percent to the canary Service and the rest to the stable one. */
export function withWeights(router: KubernetesObject, routing: TrafficRouting, canaryWeight: number): KubernetesObject {
  const copy = structuredClone(router);
  if ('gatewayApi' in routing) {
    const { stableService, canaryService } = routing.gatewayApi;
    const rules = isRecord(copy['spec']) && Array.isArray(copy['spec']['rules']) ? copy['spec']['rules'] : [];
    let found = false;
    for (const rule of rules) {
      if (!isRecord(rule) || !Array.isArray(rule['backendRefs'])) continue;
      for (const ref of rule['backendRefs'] as Json[]) {
        if (ref['name'] === canaryService) ref['weight'] = canaryWeight;
        if (ref['name'] === stableService) ref['weight'] = 100 - canaryWeight;
        if (ref['name'] === canaryService) found = true;
      }
    }
    if (!found) {
      throw new Error(
        `HTTPRoute ${router.metadata.name} has no backendRef to the canary Service ${canaryService}: add one (weight 0)`,
      );
    }
    return copy;
  }
  const { action, servicePort, stableService, canaryService } = routing.alb;
  const forward = {
    type: 'forward',
    forwardConfig: {
      targetGroups: [
        { serviceName: stableService, servicePort: String(servicePort), weight: 100 - canaryWeight },
        { serviceName: canaryService, servicePort: String(servicePort), weight: canaryWeight },
      ],
    },
  };
  copy.metadata.annotations = {
    ...(copy.metadata.annotations ?? {}),
    [`alb.ingress.kubernetes.io/actions.${action}`]: JSON.stringify(forward),
  };
  return copy;
}
