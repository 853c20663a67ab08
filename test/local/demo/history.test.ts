import { describe, expect, it } from 'vitest';
import { type HistoryEventLike, iterationsOf, stateVisits } from '../../../local/demo/history';

/** Builds a history the way the engine records it: ids from 1, each event pointing at the one before on its thread. */
function history(entries: [type: string, previous: number, details?: Record<string, unknown>][]): HistoryEventLike[] {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  return entries.map(([type, previous, details], i) => {
    const key = `${type[0]?.toLowerCase()}${type.slice(1)}EventDetails`;
    return {
      id: i + 1,
      previousEventId: previous,
      type,
      timestamp: new Date(start + i * 10),
      ...(details
        ? {
            [/StateEntered$/.test(type)
              ? 'stateEnteredEventDetails'
              : /StateExited$/.test(type)
                ? 'stateExitedEventDetails'
                : key]: details,
          }
        : {}),
    };
  });
}

describe('iterationsOf', () => {
  it('gives events of interleaved Map iterations the iteration of their own thread', () => {
    // Prepare: two iterations of Test run at once; their events alternate in the history
    const events = history([
      ['ExecutionStarted', 0],
      ['MapStateEntered', 1, { name: 'Test' }],
      ['MapStateStarted', 2],
      ['MapIterationStarted', 3, { name: 'Test', index: 0 }],
      ['TaskStateEntered', 4, { name: 'RunSuite' }],
      ['MapIterationStarted', 3, { name: 'Test', index: 1 }],
      ['TaskStateEntered', 6, { name: 'RunSuite' }],
      ['TaskStateExited', 7, { name: 'RunSuite' }],
      ['TaskStateExited', 5, { name: 'RunSuite' }],
      ['MapIterationSucceeded', 9, { name: 'Test', index: 0 }],
      ['MapIterationSucceeded', 8, { name: 'Test', index: 1 }],
      ['MapStateSucceeded', 11],
      ['MapStateExited', 12, { name: 'Test' }],
    ]);
    // Act
    const iterations = iterationsOf(events);
    // Assess
    expect(iterations.get(5)).toEqual(['Test[0]']);
    expect(iterations.get(7)).toEqual(['Test[1]']);
    expect(iterations.get(8)).toEqual(['Test[1]']);
    expect(iterations.get(9)).toEqual(['Test[0]']);
    expect(iterations.get(12)).toEqual([]);
    expect(iterations.get(13)).toEqual([]);
  });

  it('starts the next iteration of a one-at-a-time Map outside the previous one', () => {
    // Prepare
    const events = history([
      ['MapStateStarted', 0],
      ['MapIterationStarted', 1, { name: 'Promote', index: 0 }],
      ['MapIterationSucceeded', 2, { name: 'Promote', index: 0 }],
      ['MapIterationStarted', 3, { name: 'Promote', index: 1 }],
      ['TaskStateEntered', 4, { name: 'Deploy' }],
    ]);
    // Act
    const iterations = iterationsOf(events);
    // Assess
    expect(iterations.get(5)).toEqual(['Promote[1]']);
  });
});

describe('stateVisits', () => {
  it('folds entered and exited events into one visit with its duration and what it ran', () => {
    // Prepare
    const events = history([
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, { name: 'Build' }],
      [
        'TaskScheduled',
        2,
        { resourceType: 'codebuild', resource: 'startBuild.sync', parameters: '{"ProjectName":"stepline-build"}' },
      ],
      ['TaskSucceeded', 3, {}],
      ['TaskStateExited', 4, { name: 'Build' }],
      ['ExecutionSucceeded', 5],
    ]);
    // Act
    const [visit] = stateVisits(events);
    // Assess
    expect(visit).toMatchObject({
      id: 2,
      path: 'Build',
      type: 'Task',
      outcome: 'ok',
      resource: 'codebuild stepline-build',
    });
    expect((visit?.exitedAt ?? 0) - (visit?.enteredAt ?? 0)).toBe(30);
  });

  it('names the error of a task whose failure a Catch sent elsewhere, and where it went', () => {
    // Prepare
    const events = history([
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, { name: 'Deploy' }],
      [
        'TaskScheduled',
        2,
        {
          resourceType: 'lambda',
          resource: 'invoke',
          parameters: '{"FunctionName":"arn:aws:lambda:us-east-1:0:function:stepline-deploy"}',
        },
      ],
      ['TaskFailed', 3, { error: 'ManifestInvalid', cause: 'x' }],
      ['TaskStateEntered', 4, { name: 'ReleaseAfterFailure' }],
      ['TaskStateExited', 5, { name: 'ReleaseAfterFailure' }],
      ['FailStateEntered', 6, { name: 'DeployFailed' }],
      ['ExecutionFailed', 7, { error: 'Stepline.DeployFailed' }],
    ]);
    // Act
    const visits = stateVisits(events);
    // Assess
    expect(visits.map((v) => [v.path, v.outcome])).toEqual([
      ['Deploy', 'failed ManifestInvalid, caught → ReleaseAfterFailure'],
      ['ReleaseAfterFailure', 'ok'],
      ['DeployFailed', 'failed Stepline.DeployFailed'],
    ]);
    expect(visits[0]?.resource).toBe('lambda stepline-deploy');
  });

  it('shows a task that failed and then succeeded on a retry as ok', () => {
    // Prepare
    const events = history([
      ['TaskStateEntered', 0, { name: 'Enter' }],
      ['TaskFailed', 1, { error: 'Stepline.EnvironmentBusy' }],
      ['TaskSucceeded', 2, {}],
      ['TaskStateExited', 3, { name: 'Enter' }],
    ]);
    // Act
    const [visit] = stateVisits(events);
    // Assess
    expect(visit?.outcome).toBe('ok (retried)');
  });

  it('leaves a state that is still running open', () => {
    // Prepare
    const events = history([['WaitStateEntered', 0, { name: 'WaitForRollout' }]]);
    // Act
    const [visit] = stateVisits(events);
    // Assess
    expect(visit).toMatchObject({ outcome: 'running', exitedAt: null });
  });
});
