import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../../core/config/strategy';
import { routeStrategy } from '../../../core/deploy/strategies/plan';
import { reportsIn } from '../../../core/insight/backfill';
import { classifyFailure, deploymentRecord, isDeploymentEnd } from '../../../core/insight/record';
import type { ExecutionInput } from '../../../core/intake/types';
import type { StatusEvent } from '../../../core/status/contracts';
import { environment, pipelineRequest, route } from '../../support/githost/fixtures';
import { PipelineWorld, type Scenario } from '../../support/workflow/pipeline-world';

/**
 * A failure's kind is read from the reason the workflow gives its report (core/insight/record.ts). These tests run
 * each failure path of the real definition (statemachines/pipeline.asl.json on the local engine, the path tests'
 * world) and classify the reason its failure report carries, so a change of the workflow's wording fails here.
 * The same runs' histories give back the same reports (backfill).
 */

const SHA = '1111111111111111111111111111111111111111';
const ROLLOUT = { timeoutSeconds: 300, pollSeconds: 5 };

function input(options: { strategy?: Strategy; manifests?: string } = {}): ExecutionInput {
  const strategy = options.strategy ? routeStrategy(options.strategy, ROLLOUT) : null;
  return {
    request: pipelineRequest('github', { commit: { sha: SHA, before: null, message: 'Change', url: null } }),
    route: route({
      tests: [],
      environments: [
        environment('staging', {
          rollout: ROLLOUT,
          ...(strategy ? { strategy } : {}),
          ...(options.manifests !== undefined ? { manifests: options.manifests } : {}),
        }),
      ],
    }),
  };
}

const CANARY: Strategy = {
  type: 'canary',
  steps: [{ weight: 10, pauseSeconds: 300 }],
  analysis: {
    interval: 60,
    count: 3,
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 2,
    decision: { approvers: ['carol'], timeoutMinutes: 30 },
    metrics: [
      {
        name: 'errors',
        provider: { prometheus: { address: 'http://prometheus:9090', query: 'errors', timeoutSeconds: 10 } },
        successCondition: 'result[0] < 0.05',
        failureCondition: 'result[0] > 0.1',
      },
    ],
  },
};

async function end(scenario: Scenario, run: ExecutionInput = input()) {
  const world = new PipelineWorld({ checksBeforeDone: 0, ...scenario });
  const result = await world.start(run, 'run-1').done;
  const ends = world.calls.status.filter(isDeploymentEnd);
  return { result, ends, last: ends.at(-1) as StatusEvent };
}

describe('the failure reports of the real workflow', () => {
  it('a rollout that fails and is rolled back: rolled-back, to the commit it names', async () => {
    // Act
    const { last } = await end({ rolloutFailsIn: ['staging'] });
    // Assess
    expect(classifyFailure(last.detail?.reason ?? '')).toEqual({ kind: 'rolled-back', rolledBackTo: 'fedcba9' });
  });

  it('a deploy that times out and a rollback that times out twice: rollout-failed', async () => {
    const { last } = await end({ deployTimesOutIn: ['staging'], rollbackTimesOut: 2 });
    expect(classifyFailure(last.detail?.reason ?? '')).toEqual({ kind: 'rollout-failed', rolledBackTo: null });
  });

  it('a canary whose analysis fails: canary-abort, rolled back', async () => {
    const { last } = await end({ metrics: 'failing', failFrom: 2 }, input({ strategy: CANARY }));
    expect(classifyFailure(last.detail?.reason ?? '')).toEqual({ kind: 'canary-abort', rolledBackTo: 'fedcba9' });
  });

  it('a canary whose metric provider is down, and one a person rejects: canary-abort', async () => {
    const down = await end({ metrics: 'down' }, input({ strategy: CANARY }));
    const rejected = await end({ metrics: 'inconclusive', approval: 'reject' }, input({ strategy: CANARY }));
    expect(classifyFailure(down.last.detail?.reason ?? '').kind).toBe('canary-abort');
    expect(classifyFailure(rejected.last.detail?.reason ?? '').kind).toBe('canary-abort');
  });

  it('a deploy refused before anything is applied: not-applied', async () => {
    // Act: a deploy event the deploy function refuses (DeployEventInvalid), caught without a rollback
    const { last } = await end({}, input({ manifests: '' }));
    // Assess
    expect(last.detail?.reason).toMatch(/^DeployEventInvalid: /);
    expect(classifyFailure(last.detail?.reason ?? '')).toEqual({ kind: 'not-applied', rolledBackTo: null });
  });

  it('a run that deploys: one end per environment, a success', async () => {
    // Act
    const { ends } = await end({});
    // Assess
    expect(ends.map((e) => `${e.environment}:${e.state}`)).toEqual(['staging:success']);
    const record = deploymentRecord(ends[0] as StatusEvent, new Date('2030-01-01T00:00:00Z'), {
      previousSha: null,
      commits: null,
    });
    expect(record).toMatchObject({ stream: 'github:acme/shop:staging', sha: SHA, result: 'succeeded', failure: null });
  });

  it('the histories hold the same reports (backfill)', async () => {
    // Prepare
    const world = new PipelineWorld({ checksBeforeDone: 0, rolloutFailsIn: ['staging'] });
    // Act
    const result = await world.start(input(), 'run-1').done;
    const reports = reportsIn(result.history as Parameters<typeof reportsIn>[0]);
    // Assess
    expect(reports.map((r) => r.event)).toEqual(world.calls.status.filter(isDeploymentEnd));
    expect(reports[0]?.at).toBeInstanceOf(Date);
  });
});

describe('reasons read on their own', () => {
  it.each([
    ['the preview analysis was inconclusive and nobody decided: States.Timeout', 'canary-abort'],
    ['RolloutFailed: x; the rollback to 1234567 did not roll out either', 'rollout-failed'],
    ['', 'rollout-failed'],
    ['ClusterNotFound: no cluster prod', 'not-applied'],
  ] as const)('"%s" is %s', (reason, kind) => {
    expect(classifyFailure(reason).kind).toBe(kind);
  });
});
