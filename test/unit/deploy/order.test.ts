import { describe, expect, it } from 'vitest';
import { applyOrder } from '../../../core/deploy/order';
import type { KubernetesObject } from '../../../core/deploy/types';

function object(kind: string, name = kind.toLowerCase()): KubernetesObject {
  return { apiVersion: 'v1', kind, metadata: { name } };
}

describe('applyOrder', () => {
  it('applies what others depend on first: namespaces, CRDs, accounts and RBAC, configuration, services, workloads, custom resources', () => {
    // Prepare
    const manifests = [
      object('Widget'),
      object('Ingress'),
      object('Deployment'),
      object('Service'),
      object('ConfigMap'),
      object('RoleBinding'),
      object('Role'),
      object('Secret'),
      object('ServiceAccount'),
      object('CustomResourceDefinition'),
      object('HorizontalPodAutoscaler'),
      object('Namespace'),
    ];

    // Act
    const ordered = applyOrder(manifests).map((o) => o.kind);

    // Assess
    expect(ordered).toEqual([
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'Secret',
      'ConfigMap',
      'Service',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'Widget',
    ]);
  });

  it('keeps the manifest order among objects of one kind, and of unknown kinds', () => {
    // Prepare
    const manifests = [
      object('ConfigMap', 'b'),
      object('Gadget', 'g1'),
      object('ConfigMap', 'a'),
      object('Widget', 'w1'),
      object('Gadget', 'g2'),
    ];

    // Act
    const ordered = applyOrder(manifests).map((o) => `${o.kind}/${o.metadata.name}`);

    // Assess
    expect(ordered).toEqual(['ConfigMap/b', 'ConfigMap/a', 'Gadget/g1', 'Widget/w1', 'Gadget/g2']);
  });
});
