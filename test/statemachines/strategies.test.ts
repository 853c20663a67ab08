import { describe, expect, it } from 'vitest';
import type { Analysis, Strategy } from '../../core/config/strategy';
import { routeStrategy } from '../../core/deploy/strategies/plan';
import type { ExecutionInput } from '../../core/intake/types';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
import { PipelineWorld, type Scenario } from '../support/workflow/pipeline-world';

/**
 * Path tests of the canary and blue-green paths through statemachines/pipeline.asl.json on the local engine
 * (ADR 0067, 0068): steps gated by an analysis, the abort, a person deciding an inconclusive analysis, a metric
 * provider that is down, blue-green promotion and rollback, and what a long canary costs in transitions.
 */

const SHA = '1111111111111111111111111111111111111111';

function analysis(overrides: Partial<Analysis> = {}): Analysis {
  return {
    interval: 60,
    count: 3,
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 2,
    decision: { approvers: ['carol'], timeoutMinutes: 30 },
    metrics: [
      {
        name: 'errors',
        provider: {
          prometheus: { address: 'http://prometheus:9090', query: 'sum(rate(errors[1m]))', timeoutSeconds: 10 },
        },
        successCondition: 'result[0] < 0.05',
        failureCondition: 'result[0] > 0.1',
      },
    ],
    ...overrides,
  };
}

const CANARY: Strategy = {
  type: 'canary',
  steps: [
    { weight: 10, pauseSeconds: 300 },
    { weight: 50, pauseSeconds: 300 },
  ],
  analysis: analysis(),
};

function input(strategy: Strategy): ExecutionInput {
  const rollout = { timeoutSeconds: 300, pollSeconds: 5 };
  const withStrategy = routeStrategy(strategy, rollout);
  return {
    request: pipelineRequest('github', { commit: { sha: SHA, before: null, message: 'Change', url: null } }),
    route: route({
      tests: [],
      environments: [environment('staging', { rollout, ...(withStrategy ? { strategy: withStrategy } : {}) })],
    }),
  };
}

async function run(strategy: Strategy, scenario: Scenario = {}) {
  const world = new PipelineWorld({ checksBeforeDone: 0, ...scenario });
  const result = await world.start(input(strategy), 'run-1').done;
  const deploys = world.calls.status.filter((s) => s.step === 'deploy');
  return {
    world,
    result,
    statuses: deploys.map((s) => `${s.state}${s.detail?.reason ? `: ${s.detail.reason}` : ''}`),
  };
}

const entered = (history: readonly { type: string }[]) => history.filter((e) => e.type.endsWith('StateEntered')).length;

describe('a canary', () => {
  it('CanaryPromoteTest: steps through 10% and 50%, each measured three times, then promotes and reports each step', async () => {
    // Act
    const { world, result, statuses } = await run(CANARY);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.strategy.calls.steps.map((s) => s.index)).toEqual([1, 2]);
    expect(world.strategy.calls.analyses).toHaveLength(6);
    expect(statuses).toEqual([
      'running',
      'running: canary 10% · 0/3 checks passed',
      'running: canary 10% · 1/3 checks passed',
      'running: canary 10% · 2/3 checks passed',
      'running: canary 10% · 3/3 checks passed',
      'running: canary 50% · 0/3 checks passed',
      'running: canary 50% · 1/3 checks passed',
      'running: canary 50% · 2/3 checks passed',
      'running: canary 50% · 3/3 checks passed',
      'success',
    ]);
    expect(world.calls.rollbacks).toHaveLength(0);
    // The lock is held throughout: one enter, one leave, with a lease that covers every step.
    expect(world.calls.coordination.filter((c) => c.action !== 'register').map((c) => c.action)).toEqual([
      'enter',
      'leave',
    ]);
    expect(world.calls.coordination.find((c) => c.action === 'enter')?.leaseSeconds).toBe(
      300 * 2 + 900 + input(CANARY).route.environments[0]!.strategy!.holdSeconds,
    );
    // The step's measurement Waits: 300 s of pause hold the three measurements, the last at its end.
    const waits = result.history
      .filter((e) => e.type === 'WaitStateEntered')
      .map((e) => (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name);
    expect(waits.filter((n) => n === 'WaitToMeasure')).toHaveLength(6);
  });

  it('CanaryAbortTest: a failed analysis rolls back (the abort), releases the lock and reports the failure', async () => {
    // Act: the second measurement fails
    const { world, result, statuses } = await run(CANARY, { metrics: 'failing', failFrom: 2 });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.DeployFailed');
    expect(world.strategy.calls.steps).toHaveLength(0);
    expect(world.calls.rollbacks).toMatchObject([{ environment: { name: 'staging' }, failedRevision: 1 }]);
    expect(world.calls.rollbacks[0]?.reason).toMatch(/^the canary 10% analysis failed: metric errors failed: 1 failed/);
    expect(statuses.at(-2)).toBe('running: canary 10% · 1/3 checks passed · analysis failed');
    expect(statuses.at(-1)).toMatch(/^failure: the canary 10% analysis failed: .*; rolled back to fedcba9$/);
    expect(world.statusTrail('run-1').at(-1)).toBe('pipeline:failure');
    expect(world.calls.coordination.at(-1)).toMatchObject({ action: 'leave', deployed: false });
  });

  it('CanaryInconclusiveTest: an inconclusive analysis waits for a person, who lets it go on', async () => {
    // Act
    const { world, result } = await run(CANARY, { metrics: 'inconclusive', approval: 'approve' });

    // Assess: one decision per step, asked with the analysis's deciders and timeout
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.approvals).toHaveLength(2);
    expect(world.calls.approvals[0]?.route.environments).toEqual([
      expect.objectContaining({ name: 'staging', approval: { approvers: ['carol'], timeoutSeconds: 1800 } }),
    ]);
    expect(world.strategy.calls.steps.map((s) => s.index)).toEqual([1, 2]);
  });

  it('CanaryInconclusiveTest: a person who rejects it aborts the canary', async () => {
    // Act
    const { world, result } = await run(CANARY, { metrics: 'inconclusive', approval: 'reject' });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.calls.rollbacks[0]?.reason).toBe(
      'the canary 10% analysis was inconclusive and rejected by alice: not during the sale',
    );
  });

  it('ProviderDownTest: a metric provider that cannot be reached is an error run, never a pass, and aborts', async () => {
    // Act: consecutiveErrorLimit 2, so the third error in a row ends the analysis
    const { world, result } = await run(CANARY, { metrics: 'down' });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.strategy.calls.analyses).toHaveLength(3);
    expect(world.calls.rollbacks[0]?.reason).toMatch(/^the canary 10% analysis errored: .*ECONNREFUSED/);
  });

  it('ProviderDownTest: a GetMetricData call that fails is an error run of the CloudWatch metric', async () => {
    // Prepare
    const cloudwatch: Strategy = {
      ...CANARY,
      analysis: analysis({
        metrics: [
          {
            name: 'latency',
            provider: {
              cloudwatch: {
                metricDataQueries: [{ Id: 'p99', Expression: 'SELECT MAX(Latency) FROM x' }],
                lookbackSeconds: 300,
              },
            },
            successCondition: '$max(result[0].Values) < 1',
          },
        ],
      }),
    };

    // Act
    const { world, result } = await run(cloudwatch, { metrics: 'down' });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.strategy.calls.metricQueries[0]).toMatchObject({
      MetricDataQueries: [{ Id: 'p99', Expression: 'SELECT MAX(Latency) FROM x' }],
    });
    expect(world.strategy.calls.analyses[0]?.cloudwatch).toEqual({
      Error: 'CloudWatch.CloudWatchException',
      Cause: 'Service Unavailable (Service: CloudWatch, Status Code: 503)',
    });
    expect(world.calls.rollbacks[0]?.reason).toContain('GetMetricData failed: CloudWatch.CloudWatchException');
  });
});

describe('blue-green', () => {
  const BLUE_GREEN: Strategy = {
    type: 'blueGreen',
    previewSeconds: 60,
    scaleDownDelaySeconds: 120,
    postPromotionAnalysis: analysis({ count: 2 }),
  };

  it('BlueGreenPromoteTest: previews, switches, holds the old pods while the analysis passes, then promotes', async () => {
    // Act
    const { world, result, statuses } = await run(BLUE_GREEN);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.strategy.calls.steps.map((s) => s.index)).toEqual([1, 2]);
    expect(statuses).toEqual([
      'running',
      'running: preview · holding 60 s',
      'running: switched · 0/2 checks passed',
      'running: switched · 1/2 checks passed',
      'running: switched · 2/2 checks passed',
      'success',
    ]);
  });

  it('BlueGreenRollbackTest: a failed analysis after the switch rolls back to the pods that were kept', async () => {
    // Act
    const { world, result } = await run(BLUE_GREEN, { metrics: 'failing' });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.strategy.calls.steps.map((s) => s.index)).toEqual([1]);
    expect(world.calls.rollbacks[0]?.reason).toMatch(/^the switched analysis failed/);
  });
});

describe('what a canary costs', () => {
  it('CanaryTransitionsTest: a 10-step canary with 60 analysis runs stays far under 25,000 history events', async () => {
    // Prepare: 10 steps, 6 CloudWatch measurements each
    const steps = Array.from({ length: 10 }, (_, i) => ({ weight: (i + 1) * 10, pauseSeconds: 600 }));
    const metrics: Analysis['metrics'] = [
      {
        name: 'latency',
        provider: { cloudwatch: { metricDataQueries: [{ Id: 'p99', Expression: 'x' }], lookbackSeconds: 300 } },
        successCondition: '$max(result[0].Values) < 1',
      },
    ];
    const canary: Strategy = { type: 'canary', steps, analysis: analysis({ count: 6, metrics }) };
    const rolling = await run({ type: 'rolling' });

    // Act
    const { world, result } = await run(canary);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.strategy.calls.analyses).toHaveLength(60);
    const added = entered(result.history) - entered(rolling.result.history);
    // Per step: its status and the Choice, then per measurement Wait, GetMetricData, Analyze, status, Choice; the
    // nine next steps and the promotion each add the step, a Wait and a check: 10 × (2 + 6 × 5) + 10 × 3.
    expect(added).toBe(350);
    expect(result.history.length).toBeLessThan(2_500);
    console.info(
      `a 10-step canary with 60 analysis runs: +${added} transitions, ${result.history.length} history events`,
    );
  });
});
