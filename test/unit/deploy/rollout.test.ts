import { describe, expect, it } from 'vitest';
import { combineRollouts, decideRollout } from '../../../core/deploy/rollout';
import type { KubernetesObject } from '../../../core/deploy/types';

function object(
  apiVersion: string,
  kind: string,
  generation: number | undefined,
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): KubernetesObject {
  return {
    apiVersion,
    kind,
    metadata: { name: 'web', ...(generation !== undefined ? { generation } : {}), ...extra },
    spec,
    ...(status ? { status } : {}),
  };
}
const deployment = (generation: number, spec: Record<string, unknown>, status: Record<string, unknown>) =>
  object('apps/v1', 'Deployment', generation, spec, status);
const sts = (generation: number, spec: Record<string, unknown>, status: Record<string, unknown>) =>
  object('apps/v1', 'StatefulSet', generation, spec, status);
const ds = (generation: number, spec: Record<string, unknown>, status: Record<string, unknown>) =>
  object('apps/v1', 'DaemonSet', generation, spec, status);
const custom = (status?: Record<string, unknown>, generation = 3, extra: Record<string, unknown> = {}) =>
  object('example.com/v1', 'Widget', generation, {}, status, extra);
const condition = (type: string, status: string, reason = '', message = '') => ({ type, status, reason, message });

describe('decideRollout', () => {
  it.each([
    // Deployments: kubectl rollout status, step by step.
    [
      'Deployment whose new generation is not observed yet',
      deployment(2, { replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      'waiting',
      'Waiting for deployment spec update to be observed...',
    ],
    [
      'Deployment past its progress deadline',
      deployment(
        2,
        { replicas: 2 },
        {
          observedGeneration: 2,
          updatedReplicas: 1,
          replicas: 3,
          availableReplicas: 2,
          conditions: [
            condition(
              'Progressing',
              'False',
              'ProgressDeadlineExceeded',
              'ReplicaSet "web-1" has timed out progressing.',
            ),
          ],
        },
      ),
      'failed',
      'deployment "web" exceeded its progress deadline: ReplicaSet "web-1" has timed out progressing.',
    ],
    [
      'Deployment with fewer updated replicas than wanted',
      deployment(2, { replicas: 3 }, { observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 3 }),
      'waiting',
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      'Deployment with old replicas left',
      deployment(2, { replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
      'waiting',
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      'Deployment whose updated replicas are not all available',
      deployment(2, { replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
      'waiting',
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    ],
    [
      'Deployment with a quota failure, still within its deadline',
      deployment(
        2,
        { replicas: 2 },
        {
          observedGeneration: 2,
          updatedReplicas: 0,
          replicas: 2,
          availableReplicas: 2,
          conditions: [condition('ReplicaFailure', 'True', 'FailedCreate', 'exceeded quota')],
        },
      ),
      'waiting',
      '0 out of 2 new replicas have been updated... (FailedCreate: exceeded quota)',
    ],
    [
      'Deployment rolled out',
      deployment(2, { replicas: 3 }, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      'done',
      'deployment "web" successfully rolled out',
    ],
    [
      'Deployment scaled to zero',
      deployment(1, { replicas: 0 }, { observedGeneration: 1 }),
      'done',
      'deployment "web" successfully rolled out',
    ],
    // StatefulSets.
    [
      'StatefulSet never observed',
      sts(1, { replicas: 2 }, {}),
      'waiting',
      'Waiting for statefulset spec update to be observed...',
    ],
    [
      'StatefulSet with pods not ready',
      sts(2, { replicas: 3, updateStrategy: { type: 'RollingUpdate' } }, { observedGeneration: 2, readyReplicas: 1 }),
      'waiting',
      'Waiting for 2 pods to be ready...',
    ],
    [
      'StatefulSet with a partition not reached',
      sts(
        2,
        { replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 1 },
      ),
      'waiting',
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    ],
    [
      'StatefulSet with its partition reached',
      sts(
        2,
        { replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { observedGeneration: 2, readyReplicas: 4, updatedReplicas: 2 },
      ),
      'done',
      'partitioned roll out complete: 2 new pods have been updated...',
    ],
    [
      'StatefulSet whose revisions differ',
      sts(
        2,
        { replicas: 2 },
        {
          observedGeneration: 2,
          readyReplicas: 2,
          updatedReplicas: 1,
          currentRevision: 'web-1',
          updateRevision: 'web-2',
        },
      ),
      'waiting',
      'waiting for statefulset rolling update to complete 1 pods at revision web-2...',
    ],
    [
      'StatefulSet rolled out',
      sts(
        2,
        { replicas: 2 },
        {
          observedGeneration: 2,
          readyReplicas: 2,
          currentReplicas: 2,
          currentRevision: 'web-2',
          updateRevision: 'web-2',
        },
      ),
      'done',
      'statefulset rolling update complete 2 pods at revision web-2...',
    ],
    [
      'StatefulSet updated OnDelete',
      sts(2, { replicas: 2, updateStrategy: { type: 'OnDelete' } }, {}),
      'done',
      'uses OnDelete',
    ],
    // DaemonSets.
    [
      'DaemonSet not observed',
      ds(3, {}, { observedGeneration: 2 }),
      'waiting',
      'Waiting for daemon set spec update to be observed...',
    ],
    [
      'DaemonSet updating',
      ds(3, {}, { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 1, numberAvailable: 4 }),
      'waiting',
      'Waiting for daemon set "web" rollout to finish: 1 out of 4 new pods have been updated...',
    ],
    [
      'DaemonSet with pods unavailable',
      ds(3, {}, { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 4, numberAvailable: 3 }),
      'waiting',
      'Waiting for daemon set "web" rollout to finish: 3 of 4 updated pods are available...',
    ],
    [
      'DaemonSet rolled out',
      ds(3, {}, { observedGeneration: 3, desiredNumberScheduled: 4, updatedNumberScheduled: 4, numberAvailable: 4 }),
      'done',
      'daemon set "web" successfully rolled out',
    ],
    ['DaemonSet updated OnDelete', ds(3, { updateStrategy: { type: 'OnDelete' } }, {}), 'done', 'uses OnDelete'],
    // Custom resources: kstatus.
    [
      'custom resource being deleted',
      custom({}, 3, { deletionTimestamp: '2024-01-01T00:00:00Z' }),
      'waiting',
      'Widget "web" is being deleted',
    ],
    [
      'custom resource whose generation is not observed',
      custom({ observedGeneration: 2 }),
      'waiting',
      'Widget "web" generation is 3, but latest observed generation is 2',
    ],
    [
      'custom resource reconciling',
      custom({ observedGeneration: 3, conditions: [condition('Reconciling', 'True', 'Progressing', 'creating pods')] }),
      'waiting',
      'Widget "web" is reconciling (Progressing: creating pods)',
    ],
    [
      'custom resource stalled',
      custom({
        observedGeneration: 3,
        conditions: [condition('Stalled', 'True', 'InvalidSpec', 'size must be odd'), condition('Ready', 'False')],
      }),
      'failed',
      'Widget "web" is stalled: InvalidSpec: size must be odd',
    ],
    [
      'custom resource not ready',
      custom({ conditions: [condition('Ready', 'False', 'Provisioning')] }),
      'waiting',
      'Widget "web" is not ready (Provisioning)',
    ],
    [
      'custom resource ready',
      custom({ observedGeneration: 3, conditions: [condition('Ready', 'True')] }),
      'done',
      'Widget "web" is ready',
    ],
    ['custom resource without status', custom(undefined), 'done', 'Widget "web" is current'],
  ])('%s', (_case, live, state, reason) => {
    // Act
    const decision = decideRollout(live);

    // Assess
    expect(decision.state).toBe(state);
    expect(decision.reason).toContain(reason);
  });

  it('waits while the object is older than the generation the apply produced', () => {
    // Prepare
    const live = deployment(
      2,
      { replicas: 1 },
      { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 },
    );

    // Act
    const decision = decideRollout(live, 3);

    // Assess
    expect(decision).toEqual({ state: 'waiting', reason: 'Deployment "web" generation 2 is older than the applied 3' });
  });
});

describe('combineRollouts', () => {
  it.each([
    [[], 'done'],
    [
      [
        { state: 'done', reason: 'a' },
        { state: 'done', reason: 'b' },
      ],
      'done',
    ],
    [
      [
        { state: 'done', reason: 'a' },
        { state: 'waiting', reason: 'b' },
      ],
      'waiting',
    ],
    [
      [
        { state: 'waiting', reason: 'a' },
        { state: 'failed', reason: 'b' },
      ],
      'failed',
    ],
  ] as const)('combines %j into %s', (decisions, expected) => {
    // Act
    const combined = combineRollouts(decisions);

    // Assess
    expect(combined.state).toBe(expected);
  });
});
