import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventToJson } from '../../../local/console';
import { causeView, failureOf, meaningfulLines } from '../../../local/console/model/failure';
import { catchCount, graphOf, withoutCatches } from '../../../local/console/model/graph';
import { layoutGraph } from '../../../local/console/model/layout';
import { deploymentsOf } from '../../../local/console/model/pipeline';
import { pipelineStages } from '../../../local/console/model/stages';
import { readHistory } from '../../../local/console/model/status';
import type { Scenario } from '../../support/workflow/pipeline-world';
import { ConsoleWorld, pipelineInput, type RunOptions } from './support';

/**
 * The console's pipeline model over runs of the real pipeline definition on the real local Engine: the stages and
 * jobs of a run, why a run failed, which environments a failed run never reached, and the compact graph.
 */

async function run(scenario: Scenario, options: RunOptions = {}) {
  const world = new ConsoleWorld(scenario);
  const result = await world.start('run', options).done;
  const view = readHistory(result.history.map(eventToJson), result.status);
  return { result, view, input: pipelineInput(options), world };
}

const statuses = (stages: ReturnType<typeof pipelineStages>) =>
  Object.fromEntries(stages.flatMap((s) => s.jobs.map((j) => [j.id, j.status])));

describe('the stages of a pipeline run', () => {
  it('draws a green run as build, tests, then each environment with its deploy and rollout, all succeeded', async () => {
    // Act
    const { result, view, input } = await run({});
    const stages = pipelineStages(input, view, result.status);

    // Assess
    expect(stages.map((s) => [s.id, s.status])).toEqual([
      ['build', 'succeeded'],
      ['tests', 'succeeded'],
      ['env:staging', 'succeeded'],
      ['env:production', 'succeeded'],
    ]);
    expect(statuses(stages)).toEqual({
      build: 'succeeded',
      'test:unit': 'succeeded',
      'test:e2e': 'succeeded',
      'deploy:staging': 'succeeded',
      'rollout:staging': 'succeeded',
      'deploy:production': 'succeeded',
      'rollout:production': 'succeeded',
    });
    const build = stages[0]?.jobs[0];
    expect(build?.startedAt).toBeTypeOf('number');
    expect(build?.endedAt).toBeGreaterThanOrEqual(build?.startedAt as number);
    expect(build?.link).toEqual({ kind: 'build', step: 'build' });
  });

  it('marks the failed suite failed and what never ran skipped, once the run has ended', async () => {
    // Act
    const { result, view, input } = await run({ failingSuites: ['e2e'] });
    const stages = pipelineStages(input, view, result.status);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(statuses(stages)).toMatchObject({
      build: 'succeeded',
      'test:unit': 'succeeded',
      'test:e2e': 'failed',
      'deploy:staging': 'skipped',
      'rollout:production': 'skipped',
    });
    expect(stages.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped', 'skipped']);
  });

  it('adds a rollback job to an environment whose rollout failed, and fails its rollout', async () => {
    // Act
    const { result, view, input } = await run({ rolloutFailsIn: ['staging'] });
    const stages = pipelineStages(input, view, result.status);

    // Assess
    expect(statuses(stages)).toMatchObject({
      'deploy:staging': 'succeeded',
      'rollout:staging': 'failed',
      'rollback:staging': 'succeeded',
      'deploy:production': 'skipped',
    });
    expect(stages.find((s) => s.id === 'env:staging')?.status).toBe('failed');
  });

  it('shows a rejected gate failed, with who rejected it', async () => {
    // Act
    const { result, view, input } = await run({ approval: 'reject' }, { approval: true });
    const stages = pipelineStages(input, view, result.status);
    const gate = stages.find((s) => s.id === 'env:production')?.jobs[0];

    // Assess
    expect(gate).toMatchObject({ id: 'gate:production', status: 'failed' });
    expect(gate?.note).toMatch(/^rejected by /);
  });

  it('answers no stages for an execution that is not a pipeline run', () => {
    // Act
    const stages = pipelineStages('{"items": [1, 2]}', readHistory([], 'SUCCEEDED'), 'SUCCEEDED');

    // Assess
    expect(stages).toEqual([]);
  });
});

describe('a failed run, as the console and `executions show` say it', () => {
  it('names the failed build phase and its message when the workflow gives no reason', async () => {
    // Prepare
    const { result, view, input, world } = await run({ failBuild: { phase: 'BUILD', exitCode: 2 } });
    const builds = await world.source.listBuilds?.(result.executionArn);

    // Act
    const failure = failureOf(
      { status: result.status, error: result.error ?? null, cause: result.cause ?? null },
      (builds ?? []).map((b) => ({ ...b, phases: b.phases.map((p) => ({ ...p })) })),
    );

    // Assess
    expect(failure).toMatchObject({ error: 'Stepline.BuildFailed', step: 'build' });
    expect(failure?.reason).toMatch(/^BUILD: .*exit status 2/);
    expect(failure?.build?.phase).toBe('BUILD');
    expect(deploymentsOf(input, view).map((d) => d.status)).toEqual(['not reached', 'not reached']);
  });

  it('keeps the lines of a log that say something, without CodeBuild bookkeeping', () => {
    // Prepare
    const log = [
      '[Container] 2026/12/05 07:38:56.574 Entering phase DOWNLOAD_SOURCE',
      '[Container] 2026/12/05 07:38:56.575 Cloning /nowhere/repo.git',
      "[Container] 2026/12/05 07:38:57.031 could not clone /nowhere/repo.git: fatal: repository '/nowhere/repo.git' does not exist",
      '',
      '[Container] 2026/12/05 07:38:57.052 Phase complete: DOWNLOAD_SOURCE State: FAILED',
      '[Container] 2026/12/05 07:38:57.052 Phase context status code: CLIENT_ERROR Message: could not clone',
    ].join('\n');

    // Act
    const lines = meaningfulLines(log);

    // Assess
    expect(lines).toEqual(["could not clone /nowhere/repo.git: fatal: repository '/nowhere/repo.git' does not exist"]);
  });

  it('reads a Lambda error without its JSON: the message, then the stack trace one frame a line', () => {
    // Act
    const view = causeView(
      JSON.stringify({
        errorType: 'TypeError',
        errorMessage: 'x is undefined',
        trace: ['TypeError: x', '    at f (a.js:1:2)'],
      }),
    );

    // Assess
    expect(view).toEqual({
      summary: 'TypeError: x is undefined',
      fields: [],
      trace: 'TypeError: x\n    at f (a.js:1:2)',
    });
  });
});

describe('the compact graph', () => {
  const definition = JSON.parse(readFileSync(join(__dirname, '../../../statemachines/pipeline.asl.json'), 'utf8'));

  it('leaves out the Catch transitions and the states only they lead to, unless the run took them', () => {
    // Prepare
    const graph = graphOf(definition);

    // Act
    const compact = withoutCatches(graph, () => false);
    const failed = withoutCatches(graph, (from, to) => from === 'Build' && to === 'ReportFailure');
    const names = (g: typeof graph) => g.nodes.map((n) => n.name);

    // Assess
    expect(catchCount(graph)).toBeGreaterThan(10);
    expect(catchCount(compact)).toBe(0);
    expect(names(compact)).not.toContain('ReportedNothing');
    expect(names(compact)).toContain('Build');
    expect(catchCount(failed)).toBe(1);
    expect(layoutGraph(compact).height).toBeLessThan(layoutGraph(graph).height * 0.8);
  });
});
