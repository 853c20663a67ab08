import { describe, expect, it } from 'vitest';
import { canaryReplicas, measurementWaits, plannedSteps } from '../../../core/deploy/strategies/plan';
import { planStep } from '../../../core/deploy/strategies/steps';
import { withWeights } from '../../../core/deploy/strategies/traffic';
import type { KubernetesObject } from '../../../core/deploy/types';

/** The pure parts of the strategies (ADR 0067): replicas by weight, Waits of the measurements, router weights. */

const ANALYSIS = {
  interval: 60,
  count: 5,
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 4,
  decision: { approvers: [], timeoutMinutes: 60 },
  metrics: [
    {
      name: 'errors',
      provider: { cloudwatch: { metricDataQueries: [{ Id: 'e', Expression: 'SUM(x)' }], lookbackSeconds: 300 } },
      successCondition: '$max(result[0].Values) < 5',
    },
  ],
};

const deployment = (name: string, image: string, replicas: number): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: { app: name, 'stepline.dev/environment': 'production' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'api', image }] } },
  },
});

describe('canary replicas', () => {
  it.each([
    [10, 10, 1],
    [10, 50, 5],
    [4, 10, 1],
    [3, 50, 2],
    [1, 10, 1],
    [10, 100, 10],
  ])('of %i replicas at %i%% is %i (round, at least 1, at most N)', (total, weight, expected) => {
    expect(canaryReplicas(total, weight)).toBe(expected);
  });
});

describe('measurement waits', () => {
  it('measure last at the end of the pause: the first Wait takes what the pause has beyond the measurements', () => {
    // Prepare
    const [step] = plannedSteps({ type: 'canary', steps: [{ weight: 10, pauseSeconds: 600 }], analysis: ANALYSIS });

    // Act
    const waits = measurementWaits(step!);

    // Assess: 600 s, 5 measurements a minute apart: 360 s, then 4 × 60 s
    expect(waits).toEqual({ first: 360, next: 60 });
  });

  it('hold for the measurements when the pause is shorter', () => {
    const [step] = plannedSteps({ type: 'canary', steps: [{ weight: 10, pauseSeconds: 0 }], analysis: ANALYSIS });
    expect(measurementWaits(step!)).toEqual({ first: 60, next: 60 });
  });
});

describe('a step plan', () => {
  it('gives the workflow the CloudWatch queries of the step and the labels of its statuses', () => {
    // Prepare
    const strategy = {
      type: 'canary' as const,
      steps: [
        { weight: 10, pauseSeconds: 0 },
        { weight: 50, pauseSeconds: 0 },
      ],
      analysis: ANALYSIS,
      holdSeconds: 0,
    };
    const rendered = [deployment('web', 'shop/api@sha256:2', 10)];

    // Act
    const plan = planStep(strategy, rendered, deployment('web', 'shop/api@sha256:1', 10), 1);

    // Assess
    expect(plan.step).toMatchObject({
      index: 1,
      total: 2,
      label: 'canary 50%',
      replicas: { canary: 5, stable: 5 },
      cloudwatch: { queries: [{ Id: 'e', Expression: 'SUM(x)' }], lookbackSeconds: 300 },
      workloads: { canary: 'web-canary', stable: 'web' },
      router: 'replicas',
    });
    expect(plan.apply.map((o) => [o.metadata.name, (o['spec'] as { replicas: number }).replicas])).toEqual([
      ['web-canary', 5],
      ['web', 5],
    ]);
  });
});

describe('router weights', () => {
  it('set the backendRefs of a Gateway API HTTPRoute', () => {
    // Prepare
    const route: KubernetesObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: {
        rules: [
          {
            backendRefs: [
              { name: 'web-stable', port: 80 },
              { name: 'web-canary', port: 80, weight: 0 },
            ],
          },
        ],
      },
    };

    // Act
    const weighted = withWeights(
      route,
      { gatewayApi: { httpRoute: 'web', stableService: 'web-stable', canaryService: 'web-canary' } },
      25,
    );

    // Assess
    expect((weighted['spec'] as { rules: { backendRefs: unknown[] }[] }).rules[0]?.backendRefs).toEqual([
      { name: 'web-stable', port: 80, weight: 75 },
      { name: 'web-canary', port: 80, weight: 25 },
    ]);
  });

  it('set the forward action of an ALB Ingress', () => {
    // Prepare
    const ingress: KubernetesObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
    };

    // Act
    const weighted = withWeights(
      ingress,
      { alb: { ingress: 'web', action: 'web', servicePort: 80, stableService: 'web', canaryService: 'web-canary' } },
      10,
    );

    // Assess
    expect(JSON.parse(weighted.metadata.annotations?.['alb.ingress.kubernetes.io/actions.web'] ?? '')).toEqual({
      type: 'forward',
      forwardConfig: {
        targetGroups: [
          { serviceName: 'web', servicePort: '80', weight: 90 },
          { serviceName: 'web-canary', servicePort: '80', weight: 10 },
        ],
      },
    });
  });
});
