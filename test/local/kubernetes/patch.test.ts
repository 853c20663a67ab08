import { describe, expect, it } from 'vitest';
import { strategicMergePatch } from '../../../local/services/kubernetes/patch';

/**
 * The strategic merge patch of the simulated API server, case by case as k8s.io/apimachinery's strategicpatch
 * documents them (docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch, and the directives of
 * community/contributors/devel/sig-api-machinery/strategic-merge-patch.md).
 */

type Json = Record<string, unknown>;

function deployment(spec: Json): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', finalizers: ['a', 'b'] },
    spec: {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      template: { metadata: { labels: { app: 'web' } }, spec },
    },
  };
}

const podSpec = (): Json => ({
  containers: [
    {
      name: 'web',
      image: 'nginx:1',
      command: ['nginx'],
      env: [{ name: 'A', value: '1' }],
      ports: [{ containerPort: 80 }],
    },
    { name: 'sidecar', image: 'busybox:1', command: ['sleep'] },
  ],
  volumes: [{ name: 'cache', emptyDir: {} }],
});

const patch = (target: Json, body: Json) => strategicMergePatch(target as never, body as never, 'V1Deployment') as Json;
const specOf = (object: Json) => ((object['spec'] as Json)['template'] as Json)['spec'] as Json;

describe('strategic merge patch', () => {
  it.each([
    [
      'merges containers by name and env by name, keeping what the patch does not name',
      { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '2' }] }] } } } },
      (spec: Json) =>
        expect(spec['containers']).toEqual([
          {
            ...(podSpec()['containers'] as Json[])[0],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          (podSpec()['containers'] as Json[])[1],
        ]),
    ],
    [
      'merges ports by containerPort',
      { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }] }] } } } },
      (spec: Json) =>
        expect((spec['containers'] as Json[])[0]!['ports']).toEqual([{ containerPort: 80, name: 'http' }]),
    ],
    [
      'deletes a list item with $patch: delete',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      (spec: Json) => expect((spec['containers'] as Json[]).map((c) => c['name'])).toEqual(['web']),
    ],
    [
      'replaces a whole list with a $patch: replace item',
      { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x:1' }] } } } },
      (spec: Json) => expect(spec['containers']).toEqual([{ name: 'only', image: 'x:1' }]),
    ],
    [
      'orders the merged list as $setElementOrder says',
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
              containers: [{ name: 'web', image: 'nginx:2' }],
            },
          },
        },
      },
      (spec: Json) =>
        expect((spec['containers'] as Json[]).map((c) => [c['name'], c['image']])).toEqual([
          ['sidecar', 'busybox:1'],
          ['web', 'nginx:2'],
        ]),
    ],
    [
      'keeps only the $retainKeys of a volume (merge,retainKeys)',
      {
        spec: {
          template: {
            spec: { volumes: [{ name: 'cache', $retainKeys: ['name', 'secret'], secret: { secretName: 's' } }] },
          },
        },
      },
      (spec: Json) => expect(spec['volumes']).toEqual([{ name: 'cache', secret: { secretName: 's' } }]),
    ],
    [
      'replaces a list that has no merge strategy (command) whole',
      { spec: { template: { spec: { containers: [{ name: 'web', command: ['httpd'] }] } } } },
      (spec: Json) => expect((spec['containers'] as Json[])[0]!['command']).toEqual(['httpd']),
    ],
  ])('%s', (_name, body, assess) => {
    // Act
    const patched = patch(deployment(podSpec()), body);

    // Assess
    assess(specOf(patched));
    expect(JSON.stringify(patched)).not.toMatch(/\$patch|\$setElementOrder|\$retainKeys/);
  });

  it('keeps only the $retainKeys of the strategy (retainKeys) and removes a map with $patch: delete', () => {
    // Act
    const patched = patch(deployment(podSpec()), {
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' }, template: { metadata: { $patch: 'delete' } } },
    });

    // Assess
    expect((patched['spec'] as Json)['strategy']).toEqual({ type: 'Recreate' });
    expect((patched['spec'] as Json)['template']).not.toHaveProperty('metadata');
  });

  it('merges finalizers as a set and removes values with $deleteFromPrimitiveList', () => {
    // Act
    const patched = patch(deployment(podSpec()), {
      metadata: { finalizers: ['b', 'c'], '$deleteFromPrimitiveList/finalizers': ['a'] },
    });

    // Assess
    expect((patched['metadata'] as Json)['finalizers']).toEqual(['b', 'c']);
  });

  it('replaces a whole map with $patch: replace and deletes a field set to null', () => {
    // Act
    const patched = patch(deployment(podSpec()), {
      metadata: { finalizers: null },
      spec: { template: { metadata: { $patch: 'replace', labels: { app: 'other' } } } },
    });

    // Assess
    expect(patched['metadata']).toEqual({ name: 'web' });
    expect(((patched['spec'] as Json)['template'] as Json)['metadata']).toEqual({ labels: { app: 'other' } });
  });

  it('refuses a list item without its merge key, as the API server does', () => {
    // Act
    const act = () =>
      patch(deployment(podSpec()), { spec: { template: { spec: { containers: [{ image: 'x:1' }] } } } });

    // Assess
    expect(act).toThrow('does not contain declared merge key: name');
  });
});
