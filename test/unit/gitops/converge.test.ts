import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../../core/deploy/types';
import { controllerRef, decideConvergence, managedWorkloads } from '../../../core/gitops/converge';

const SHA = 'c0ffee0000000000000000000000000000000001';
const OLD = 'beef000000000000000000000000000000000002';

const application = (status: Record<string, unknown>): KubernetesObject =>
  ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'shop' }, status }) as KubernetesObject;
const kustomization = (status: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: 'apps' },
    status,
  }) as KubernetesObject;
const ready = (status: string, reason = '', message = '') => [{ type: 'Ready', status, reason, message }];

describe('Argo CD Application convergence', () => {
  it.each([
    [
      'Synced and Healthy at the commit',
      { sync: { status: 'Synced', revision: SHA }, health: { status: 'Healthy' } },
      'done',
      'Application "shop" is Synced and Healthy at c0ffee000000',
    ],
    [
      'Synced at the commit among the sources (multi-source)',
      { sync: { status: 'Synced', revisions: [OLD, SHA] }, health: { status: 'Healthy' } },
      'done',
      'Application "shop" is Synced and Healthy at c0ffee000000',
    ],
    [
      'Synced at an older commit',
      { sync: { status: 'Synced', revision: OLD }, health: { status: 'Healthy' } },
      'waiting',
      'Application "shop" is Synced at beef00000000, waiting for c0ffee000000',
    ],
    [
      'OutOfSync',
      { sync: { status: 'OutOfSync', revision: SHA }, health: { status: 'Healthy' } },
      'waiting',
      'Application "shop" is OutOfSync at c0ffee000000, waiting for c0ffee000000',
    ],
    [
      'Progressing at the commit',
      { sync: { status: 'Synced', revision: SHA }, health: { status: 'Progressing' } },
      'waiting',
      'Application "shop" is Synced at c0ffee000000, health Progressing',
    ],
    [
      'Degraded at the commit',
      {
        sync: { status: 'Synced', revision: SHA },
        health: { status: 'Degraded', message: 'Deployment "api" exceeded its progress deadline' },
      },
      'failed',
      'Application "shop" is Degraded at c0ffee000000: Deployment "api" exceeded its progress deadline',
    ],
    [
      'a failed sync of the commit',
      {
        sync: { status: 'OutOfSync', revision: OLD },
        operationState: {
          phase: 'Failed',
          message: 'one or more objects failed to apply',
          syncResult: { revision: SHA },
        },
      },
      'failed',
      'Application "shop": the sync of c0ffee000000 ended Failed: one or more objects failed to apply',
    ],
    ['no status yet', {}, 'waiting', 'Application "shop" is Unknown at no revision, waiting for c0ffee000000'],
  ])('%s', (_, status, state, reason) => {
    expect(decideConvergence(application(status), SHA)).toEqual({ state, reason });
  });
});

describe('Flux Kustomization convergence', () => {
  it.each([
    [
      'Ready with lastAppliedRevision at the commit',
      { conditions: ready('True'), lastAppliedRevision: `main@sha1:${SHA}` },
      'done',
      `Kustomization "apps" is Ready at main@sha1:${SHA}`,
    ],
    [
      'Ready at the commit, in the older <branch>/<sha> form',
      { conditions: ready('True'), lastAppliedRevision: `main/${SHA}` },
      'done',
      `Kustomization "apps" is Ready at main/${SHA}`,
    ],
    [
      'Ready at an older commit',
      { conditions: ready('True'), lastAppliedRevision: `main@sha1:${OLD}` },
      'waiting',
      `Kustomization "apps" has applied main@sha1:${OLD} (Ready True), waiting for c0ffee000000`,
    ],
    [
      'Ready=False on the attempt at the commit',
      {
        conditions: ready(
          'False',
          'HealthCheckFailed',
          'timeout waiting for: [Deployment/shop/api status: InProgress]',
        ),
        lastAppliedRevision: `main@sha1:${OLD}`,
        lastAttemptedRevision: `main@sha1:${SHA}`,
      },
      'failed',
      'Kustomization "apps" failed at c0ffee000000: HealthCheckFailed: timeout waiting for: [Deployment/shop/api status: InProgress]',
    ],
    [
      'Ready=False on an older attempt',
      { conditions: ready('False', 'BuildFailed'), lastAttemptedRevision: `main@sha1:${OLD}` },
      'waiting',
      'Kustomization "apps" has applied nothing (Ready False), waiting for c0ffee000000',
    ],
  ])('%s', (_, status, state, reason) => {
    expect(decideConvergence(kustomization(status), SHA)).toEqual({ state, reason });
  });
});

describe('what the controllers manage', () => {
  it("reads the workloads from an Application's resources and a Kustomization's inventory, nothing else", () => {
    expect(
      managedWorkloads(
        application({
          resources: [
            { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'api' },
            { group: '', version: 'v1', kind: 'Service', namespace: 'shop', name: 'api' },
            { group: 'apps', version: 'v1', kind: 'StatefulSet', namespace: 'shop', name: 'db' },
          ],
        }),
      ),
    ).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', namespace: 'shop' },
    ]);
    expect(
      managedWorkloads(
        kustomization({
          inventory: {
            entries: [
              { id: 'shop_api_apps_Deployment', v: 'v1' },
              { id: 'shop_api__Service', v: 'v1' },
              { id: '_shop__Namespace', v: 'v1' },
            ],
          },
        }),
      ),
    ).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' }]);
  });

  it('finds the controller in the namespaces Argo CD and Flux install to, unless named', () => {
    expect(controllerRef({ kind: 'Application', name: 'shop' })).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      name: 'shop',
      namespace: 'argocd',
    });
    expect(controllerRef({ kind: 'Kustomization', name: 'apps', namespace: 'gitops' })).toEqual({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      name: 'apps',
      namespace: 'gitops',
    });
  });
});
