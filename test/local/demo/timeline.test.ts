import { describe, expect, it } from 'vitest';
import type { HistoryEventLike } from '../../../local/demo/history';
import { account, pipelineTimeline } from '../../../local/demo/timeline';

function event(
  id: number,
  type: string,
  at: number,
  name?: string,
  extra: Record<string, unknown> = {},
): HistoryEventLike {
  const key = /StateEntered$/.test(type)
    ? 'stateEnteredEventDetails'
    : /StateExited$/.test(type)
      ? 'stateExitedEventDetails'
      : 'taskScheduledEventDetails';
  return {
    id,
    previousEventId: id - 1,
    type,
    timestamp: new Date(at),
    ...(name || Object.keys(extra).length ? { [key]: { name, ...extra } } : {}),
  };
}

describe('account', () => {
  it('gives each instant to the first busy category, and the rest to the engine', () => {
    // Act
    const totals = account(0, 100, [
      { category: 'source', start: 10, end: 40 },
      { category: 'commands', start: 30, end: 60 },
      { category: 'status', start: 90, end: 120 },
    ]);
    // Assess
    expect(totals).toMatchObject({ commands: 30, source: 20, status: 10, engine: 40 });
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('counts overlapping intervals of one category once', () => {
    // Prepare: two test suites' BUILD phases at the same time
    const intervals = [
      { category: 'commands' as const, start: 0, end: 50 },
      { category: 'commands' as const, start: 20, end: 70 },
    ];
    // Act
    const totals = account(0, 100, intervals);
    // Assess
    expect(totals.commands).toBe(70);
    expect(totals.engine).toBe(30);
  });
});

describe('pipelineTimeline', () => {
  it('takes buildspec commands and rollout waits out of the total, and keeps the rest as overhead', () => {
    // Prepare: webhook at 0, started at 20, a build 30-230 whose commands ran 60-200, a rollout wait 240-440, end 460
    const events: HistoryEventLike[] = [
      event(1, 'ExecutionStarted', 20),
      event(2, 'TaskStateEntered', 30, 'Build'),
      event(3, 'TaskScheduled', 31, undefined, {
        resourceType: 'codebuild',
        parameters: '{"ProjectName":"stepline-build"}',
      }),
      event(4, 'TaskStateExited', 230, 'Build'),
      event(5, 'WaitStateEntered', 240, 'WaitForRollout'),
      event(6, 'WaitStateExited', 440, 'WaitForRollout'),
      event(7, 'ExecutionSucceeded', 460),
    ];
    const builds = [
      {
        phases: [
          { phaseType: 'DOWNLOAD_SOURCE', startTime: 40, endTime: 60 },
          { phaseType: 'BUILD', startTime: 60, endTime: 200 },
          { phaseType: 'FINALIZING', startTime: 200, endTime: 210 },
        ],
      },
    ];
    // Act
    const timeline = pipelineTimeline(events, builds, 0);
    // Assess
    expect(timeline.total).toBe(460);
    expect(timeline.byCategory).toMatchObject({
      intake: 20,
      commands: 140,
      rollout: 200,
      source: 20,
      'build-setup': 10,
      'build-task': 30,
    });
    expect(timeline.overhead).toBe(460 - 140 - 200);
  });
});
