import { describe, expect, it } from 'vitest';
import type { Analysis, Strategy } from '../../../core/config/strategy';
import { routeStrategy } from '../../../core/deploy/strategies/plan';
import type { ExecutionInput } from '../../../core/intake/types';
import { eventToJson } from '../../../local/console';
import { pipelineStages } from '../../../local/console/model/stages';
import { readHistory } from '../../../local/console/model/status';
import { environment, pipelineRequest, route } from '../../support/githost/fixtures';
import { PipelineWorld, type Scenario } from '../../support/workflow/pipeline-world';

/**
 * The steps of a canary or blue-green rollout in the pipeline view's model (issue 18), over runs of the real
 * definition on the real engine with the strategy stand-ins of the path tests: labels, weights, pauses, analysis
 * counts, and what became of each step, a person's decision included, also while the run waits for it.
 */

const ANALYSIS: Analysis = {
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
};

const CANARY: Strategy = {
  type: 'canary',
  steps: [
    { weight: 10, pauseSeconds: 300 },
    { weight: 50, pauseSeconds: 300 },
  ],
  analysis: ANALYSIS,
};

const BLUE_GREEN: Strategy = {
  type: 'blueGreen',
  previewSeconds: 60,
  scaleDownDelaySeconds: 120,
  postPromotionAnalysis: { ...ANALYSIS, count: 2 },
};

function input(strategy: Strategy): ExecutionInput {
  const rollout = { timeoutSeconds: 300, pollSeconds: 5 };
  const withStrategy = routeStrategy(strategy, rollout);
  return {
    request: pipelineRequest('github', {}),
    route: route({
      tests: [],
      environments: [environment('staging', { rollout, ...(withStrategy ? { strategy: withStrategy } : {}) })],
    }),
  };
}

async function rollout(strategy: Strategy, scenario: Scenario = {}, cut?: (type: string, json: string) => boolean) {
  const world = new PipelineWorld({ checksBeforeDone: 0, ...scenario });
  const run = input(strategy);
  const result = await world.start(run, 'run-1').done;
  let events = result.history.map(eventToJson);
  if (cut) events = events.slice(0, events.findIndex((e) => cut(e.type, JSON.stringify(e))) + 1);
  const status = cut ? 'RUNNING' : result.status;
  const stages = pipelineStages(run, readHistory(events, status), status);
  return stages.flatMap((s) => s.jobs).find((j) => j.id === 'rollout:staging');
}

describe('the steps of a rollout', () => {
  it('lists a promoted canary’s steps with their weights, pauses and analyses', async () => {
    // Act
    const job = await rollout(CANARY);

    // Assess
    expect(job).toMatchObject({ name: 'Canary', status: 'succeeded', note: '2 steps' });
    expect(job?.steps?.map((s) => [s.label, s.weight, s.pauseSeconds, s.status])).toEqual([
      ['canary 10%', 10, 300, 'succeeded'],
      ['canary 50%', 50, 300, 'succeeded'],
    ]);
    expect(job?.steps?.[0]?.analysis).toMatchObject({ count: 3, rounds: 3, passed: 3, failed: 0, inconclusive: 0 });
  });

  it('says an aborted step failed, with its failed measurement', async () => {
    // Act
    const job = await rollout(CANARY, { metrics: 'failing' });

    // Assess
    expect(job?.status).toBe('failed');
    expect(job?.steps?.map((s) => s.status)).toEqual(['failed']);
    expect(job?.steps?.[0]?.analysis).toMatchObject({ failed: 1, verdict: 'failed' });
  });

  it('shows a step whose analysis was inconclusive waiting for a person, then promoted once approved', async () => {
    // Act: the history as read while the first decision is asked, and once the run is over
    const waiting = await rollout(
      CANARY,
      { metrics: 'inconclusive' },
      (type, json) => type === 'TaskStateEntered' && json.includes('"AskPerson"'),
    );
    const done = await rollout(CANARY, { metrics: 'inconclusive' });

    // Assess
    expect(waiting?.status).toBe('waiting');
    expect(waiting?.steps?.map((s) => s.status)).toEqual(['waiting']);
    expect(waiting?.steps?.[0]?.analysis).toMatchObject({ inconclusive: 1, verdict: 'inconclusive' });
    expect(done?.steps?.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('names a blue-green rollout’s preview and switch, and a rolling one has no steps', async () => {
    // Act
    const blueGreen = await rollout(BLUE_GREEN);
    const rolling = await rollout({ type: 'rolling' } as Strategy);

    // Assess
    expect(blueGreen?.name).toBe('Blue-green');
    expect(blueGreen?.steps?.map((s) => [s.label, s.weight, s.pauseSeconds, s.analysis?.passed ?? null])).toEqual([
      ['preview', 0, 60, null],
      ['switched', 100, 120, 2],
    ]);
    expect(rolling).toMatchObject({ name: 'Rollout', status: 'succeeded' });
    expect(rolling?.steps).toBeUndefined();
  });
});
