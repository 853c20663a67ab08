import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError, TaskFailure } from '../../../local/engine';
import { details, eventsOf, run, types } from './helpers';

// Examples from the AWS Step Functions guide, "Handling errors in Step Functions workflows".

const RESOURCE = 'arn:aws:states:::lambda:invoke';

/** A Task that fails with the given errors in turn, then succeeds; counts its calls. */
function flaky(errors: string[]): { handlers: Record<string, () => unknown>; calls: () => number } {
  let n = 0;
  return {
    handlers: {
      [RESOURCE]: () => {
        const e = errors[n++];
        if (e) throw new TaskFailure(e, `attempt ${n} failed`);
        return { ok: n };
      },
    },
    calls: () => n,
  };
}

function task(extra: Record<string, unknown>): unknown {
  const recovered = 'Catch' in extra ? { Recovered: { Type: 'Pass', End: true } } : {};
  return { StartAt: 'T', States: { T: { Type: 'Task', Resource: RESOURCE, ...extra, End: true }, ...recovered } };
}

/** Seconds between consecutive TaskScheduled events (the retry intervals). */
function intervals(history: readonly { type: string; timestamp: Date }[]): number[] {
  const at = eventsOf(history as never, 'TaskScheduled').map((e) => e.timestamp.getTime());
  return at.slice(1).map((t, i) => (t - (at[i] as number)) / 1000);
}

describe('Retry', () => {
  it('retries after IntervalSeconds, growing by BackoffRate, up to MaxAttempts', async () => {
    // Prepare
    const f = flaky(['States.Timeout', 'States.Timeout']);
    const def = task({
      Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 3, MaxAttempts: 2, BackoffRate: 1.5 }],
    });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(f.calls()).toBe(3);
    expect(intervals(r.history)).toEqual([3, 4.5]);
  });

  it('fails once MaxAttempts retries have failed', async () => {
    // Prepare
    const f = flaky(['Boom', 'Boom', 'Boom']);
    const def = task({ Retry: [{ ErrorEquals: ['Boom'], MaxAttempts: 2 }] });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Boom');
    expect(r.cause).toBe('attempt 3 failed');
    expect(f.calls()).toBe(3);
  });

  it('never retries with MaxAttempts 0', async () => {
    // Prepare
    const f = flaky(['Boom']);
    // Act
    const r = await run(task({ Retry: [{ ErrorEquals: ['Boom'], MaxAttempts: 0 }] }), {}, { handlers: f.handlers });
    // Assess
    expect(r.error).toBe('Boom');
    expect(f.calls()).toBe(1);
  });

  it('caps the interval at MaxDelaySeconds', async () => {
    // Prepare
    const f = flaky(['E', 'E', 'E', 'E', 'E']);
    const def = task({
      Retry: [{ ErrorEquals: ['E'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 5, MaxDelaySeconds: 3 }],
    });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(intervals(r.history)).toEqual([1, 2, 3, 3, 3]);
  });

  it('randomizes each interval between 0 and its computed value with JitterStrategy FULL', async () => {
    // Prepare
    const f = flaky(['E', 'E', 'E']);
    const def = task({
      Retry: [{ ErrorEquals: ['E'], IntervalSeconds: 10, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' }],
    });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    const got = intervals(r.history);
    expect(got).toHaveLength(3);
    got.forEach((s, i) => {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(10 * 2 ** i);
    });
  });

  it('counts attempts per retrier', async () => {
    // Prepare
    const f = flaky(['A', 'B', 'A', 'B', 'A']);
    const def = task({
      Retry: [
        { ErrorEquals: ['A'], MaxAttempts: 2, IntervalSeconds: 1 },
        { ErrorEquals: ['B'], MaxAttempts: 2, IntervalSeconds: 1 },
      ],
    });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(r.error).toBe('A');
    expect(f.calls()).toBe(5);
  });

  it('does not let States.TaskFailed match States.Timeout', async () => {
    // Prepare
    const f = flaky(['States.Timeout']);
    // Act
    const r = await run(task({ Retry: [{ ErrorEquals: ['States.TaskFailed'] }] }), {}, { handlers: f.handlers });
    // Assess
    expect(r.error).toBe('States.Timeout');
    expect(f.calls()).toBe(1);
  });

  it('lets States.TaskFailed match any other error', async () => {
    // Prepare
    const f = flaky(['Lambda.ServiceException']);
    // Act
    const r = await run(
      task({ Retry: [{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2 }] }),
      {},
      { handlers: f.handlers },
    );
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(f.calls()).toBe(2);
  });

  it('records TaskFailed for each failed attempt and TaskScheduled for each new one', async () => {
    // Prepare
    const f = flaky(['E']);
    // Act
    const r = await run(task({ Retry: [{ ErrorEquals: ['E'] }] }), {}, { handlers: f.handlers });
    // Assess
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

describe('Catch', () => {
  it('replaces the state output with {Error, Cause} by default and goes to Next', async () => {
    // Prepare
    const f = flaky(['CustomError']);
    const def = task({ Catch: [{ ErrorEquals: ['CustomError'], Next: 'Recovered' }] });
    // Act
    const r = await run(def, { in: 1 }, { handlers: f.handlers });
    // Assess
    expect(r.output).toEqual({ Error: 'CustomError', Cause: 'attempt 1 failed' });
    expect(types(r.history)).toContain('TaskStateExited');
  });

  it('puts the error output into the input with ResultPath', async () => {
    // Prepare
    const f = flaky(['CustomError']);
    const def = task({ Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recovered' }] });
    // Act
    const r = await run(def, { foo: 'bar' }, { handlers: f.handlers });
    // Assess
    expect(r.output).toEqual({ foo: 'bar', error: { Error: 'CustomError', Cause: 'attempt 1 failed' } });
  });

  it('catches only after the retries are spent', async () => {
    // Prepare
    const f = flaky(['E', 'E']);
    const def = task({
      Retry: [{ ErrorEquals: ['E'], MaxAttempts: 1 }],
      Catch: [{ ErrorEquals: ['E'], Next: 'Recovered' }],
    });
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(f.calls()).toBe(2);
    expect(r.output).toEqual({ Error: 'E', Cause: 'attempt 2 failed' });
  });

  it('uses the first catcher that matches', async () => {
    // Prepare
    const f = flaky(['B']);
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: RESOURCE,
          Catch: [
            { ErrorEquals: ['A'], Next: 'GotA' },
            { ErrorEquals: ['B', 'C'], Next: 'GotBC' },
            { ErrorEquals: ['States.ALL'], Next: 'GotAll' },
          ],
          End: true,
        },
        GotA: { Type: 'Pass', Result: 'A', End: true },
        GotBC: { Type: 'Pass', Result: 'BC', End: true },
        GotAll: { Type: 'Pass', Result: 'All', End: true },
      },
    };
    // Act
    const r = await run(def, {}, { handlers: f.handlers });
    // Assess
    expect(r.output).toBe('BC');
  });

  it('does not catch States.Runtime, even with States.ALL', async () => {
    // Prepare
    const def = task({
      Parameters: { 'x.$': '$.missing' },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }],
    });
    // Act
    const r = await run(def, {}, { handlers: flaky([]).handlers });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.Runtime');
  });

  it('catches a task result over 256 KiB as States.DataLimitExceeded', async () => {
    // Prepare
    const handlers = { [RESOURCE]: () => ({ big: 'x'.repeat(300 * 1024) }) };
    const def = task({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }] });
    // Act
    const r = await run(def, {}, { handlers });
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect((r.output as { Error: string }).Error).toBe('States.DataLimitExceeded');
  });

  it('fails the execution with States.DataLimitExceeded when a state output passes 256 KiB', async () => {
    // Prepare
    const def = {
      StartAt: 'S',
      States: { S: { Type: 'Pass', Parameters: { 'a.$': '$.s', 'b.$': '$.s' }, End: true } },
    };
    // Act
    const r = await run(def, { s: 'é'.repeat(70_000) });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.DataLimitExceeded');
  });

  it.each([
    ['States.ALL with other names', [{ ErrorEquals: ['States.ALL', 'E'], Next: 'Recovered' }], /must appear alone/],
    [
      'States.ALL before another catcher',
      [
        { ErrorEquals: ['States.ALL'], Next: 'Recovered' },
        { ErrorEquals: ['E'], Next: 'Recovered' },
      ],
      /must be the last/,
    ],
    [
      'an unknown States. error name',
      [{ ErrorEquals: ['States.Nope'], Next: 'Recovered' }],
      /'States.Nope' is not a known States error name/,
    ],
    ['a catcher without Next', [{ ErrorEquals: ['E'] }], /These fields are required: \[Next\]/],
    [
      'a Next that names no state',
      [{ ErrorEquals: ['E'], Next: 'Nowhere' }],
      /MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at \/States\/T\/Catch\/0\/Next/,
    ],
  ])('rejects %s', async (_name, catchers, message) => {
    // Act
    const attempt = run(task({ Catch: catchers }));
    // Assess
    await expect(attempt).rejects.toThrow(InvalidDefinitionError);
    await expect(attempt).rejects.toThrow(message);
  });
});

// "Handling errors in Step Functions workflows" (error names): States.Timeout is a Task that "either ran longer than
// the TimeoutSeconds value, or failed to send a heartbeat for a period longer than the HeartbeatSeconds value";
// States.HeartbeatTimeout only the latter; States.TaskFailed "matches any known error name except for
// States.Timeout". The Task state page: a missed heartbeat "fails with a States.Timeout error name".
describe('timeouts in ErrorEquals', () => {
  const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
  /** A callback Task nobody answers, whose heartbeat (2 s) or whole timeout (2 s) runs out, with these catchers. */
  function unanswered(timeouts: Record<string, number>, catchers: string[][]): unknown {
    const outcomes = Object.fromEntries(
      catchers.map((_names, i) => [`Caught${i}`, { Type: 'Pass', Parameters: { by: i, 'error.$': '$.Error' } }]),
    );
    return {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: CALLBACK,
          Parameters: { FunctionName: 'approve', Payload: { 'token.$': '$$.Task.Token' } },
          ...timeouts,
          Catch: catchers.map((names, i) => ({ ErrorEquals: names, Next: `Caught${i}` })),
          End: true,
        },
        ...Object.fromEntries(Object.entries(outcomes).map(([name, state]) => [name, { ...state, End: true }])),
      },
    };
  }
  const handlers = { [CALLBACK]: () => ({ StatusCode: 202 }) };

  it('lets States.Timeout catch a missed heartbeat, so a States.HeartbeatTimeout catcher after it never runs', async () => {
    // Act
    const r = await run(
      unanswered({ HeartbeatSeconds: 2, TimeoutSeconds: 60 }, [['States.Timeout'], ['States.HeartbeatTimeout']]),
      {},
      { handlers },
    );
    // Assess
    expect(r.output).toEqual({ by: 0, error: 'States.Timeout' });
  });

  it('lets States.HeartbeatTimeout catch a missed heartbeat when it comes first, and names the error States.Timeout', async () => {
    // Act
    const r = await run(
      unanswered({ HeartbeatSeconds: 2, TimeoutSeconds: 60 }, [['States.HeartbeatTimeout'], ['States.Timeout']]),
      {},
      { handlers },
    );
    // Assess
    expect(r.output).toEqual({ by: 0, error: 'States.Timeout' });
    expect(details(eventsOf(r.history, 'TaskTimedOut')[0])).toMatchObject({ error: 'States.Timeout' });
  });

  it('does not let States.HeartbeatTimeout catch a task that ran past TimeoutSeconds', async () => {
    // Act
    const r = await run(
      unanswered({ TimeoutSeconds: 2 }, [['States.HeartbeatTimeout'], ['States.Timeout']]),
      {},
      { handlers },
    );
    // Assess
    expect(r.output).toEqual({ by: 1, error: 'States.Timeout' });
  });

  it.each([
    ['a missed heartbeat', { HeartbeatSeconds: 2, TimeoutSeconds: 60 }],
    ['TimeoutSeconds', { TimeoutSeconds: 2 }],
  ])('does not let States.TaskFailed catch %s', async (_case, timeouts) => {
    // Act
    const r = await run(unanswered(timeouts, [['States.TaskFailed'], ['States.ALL']]), {}, { handlers });
    // Assess
    expect(r.output).toEqual({ by: 1, error: 'States.Timeout' });
  });
});
