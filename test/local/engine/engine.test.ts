import { describe, expect, it } from 'vitest';
import { Engine, type HistoryEvent, type TaskRequest } from '../../../local/engine';
import { details, eventsOf, types } from './helpers';

// The long-lived engine of the local runtime: the Step Functions API calls it answers (StartExecution,
// StopExecution, DescribeExecution, ListExecutions, GetExecutionHistory, SendTask*, GetActivityTask,
// RedriveExecution) and the listener that persists history events.

const waitMachine = {
  StartAt: 'Hold',
  States: { Hold: { Type: 'Wait', Seconds: 60, Next: 'Done' }, Done: { Type: 'Pass', Result: 'done', End: true } },
};

const callback = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const approvalMachine = {
  StartAt: 'Approve',
  States: {
    Approve: { Type: 'Task', Resource: callback, Parameters: { 'token.$': '$$.Task.Token' }, Next: 'Deploy' },
    Deploy: { Type: 'Pass', Result: 'deployed', End: true },
  },
};

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  if (!check()) throw new Error('condition not reached');
}

describe('Engine', () => {
  it('runs many executions at once, each to its own end', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const def = {
      StartAt: 'W',
      States: {
        W: { Type: 'Wait', SecondsPath: '$.s', Next: 'P' },
        P: { Type: 'Pass', Parameters: { 'n.$': '$.n' }, End: true },
      },
    };
    // Act
    const started = Array.from({ length: 200 }, (_, n) => engine.start(def, { n, s: n % 7 }, { name: `run-${n}` }));
    const results = await Promise.all(started.map((s) => s.done));
    // Assess
    expect(results.map((r) => (r.output as { n: number }).n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(engine.list({ status: 'SUCCEEDED' })).toHaveLength(200);
  });

  it('keeps the virtual clock still while a long run of states yields to others (no timer fires mid-run)', async () => {
    // Prepare: 1,500 synchronous loops, more than the engine runs before it lets other work in, under a timeout
    // that only a clock that moved during that pause could reach.
    const engine = new Engine({ clock: 'virtual' });
    const loop = {
      TimeoutSeconds: 60,
      StartAt: 'Count',
      States: {
        Count: { Type: 'Pass', Parameters: { 'n.$': 'States.MathAdd($.n, 1)' }, Next: 'Enough' },
        Enough: {
          Type: 'Choice',
          Choices: [{ Variable: '$.n', NumericLessThan: 1500, Next: 'Count' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const result = await engine.start(loop, { n: 0 }).done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ n: 1500 });
  });

  it('returns from start before any state runs, as StartExecution does', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    // Act
    const started = engine.start({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {});
    const atStart = engine.describe(started.executionArn).status;
    const typesAtStart = types(engine.history(started.executionArn));
    await started.done;
    // Assess
    expect(atStart).toBe('RUNNING');
    expect(typesAtStart).toEqual(['ExecutionStarted']);
    expect(engine.describe(started.executionArn).status).toBe('SUCCEEDED');
  });

  it('stops a running execution: ABORTED with the error and cause given, the handler’s signal aborted', async () => {
    // Prepare
    const engine = new Engine();
    let signal: AbortSignal | undefined;
    engine.registerHandler(callback, (req: TaskRequest) => {
      signal = req.signal;
      return {};
    });
    const started = engine.start(approvalMachine, {}, { name: 'to-stop' });
    await until(() => signal !== undefined);
    // Act
    engine.stop(started.executionArn, { error: 'Superseded', cause: 'a newer push' });
    const r = await started.done;
    // Assess
    expect(r.status).toBe('ABORTED');
    expect(signal?.aborted).toBe(true);
    const last = r.history[r.history.length - 1] as HistoryEvent;
    expect(last.type).toBe('ExecutionAborted');
    expect(details(last)).toEqual({ error: 'Superseded', cause: 'a newer push' });
    expect(engine.describe(started.executionArn)).toMatchObject({
      status: 'ABORTED',
      error: 'Superseded',
      cause: 'a newer push',
    });
  });

  it('stops an execution in a Wait without waiting for it', async () => {
    // Prepare
    const engine = new Engine();
    const started = engine.start(waitMachine, {});
    await until(() => engine.history(started.executionArn).length === 2);
    // Act
    engine.stop(started.executionArn);
    const r = await started.done;
    // Assess
    expect(r.status).toBe('ABORTED');
    expect(types(r.history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
  });

  it('tells the listener every event as it happens, in order, and GetExecutionHistory gives the same events', async () => {
    // Prepare
    const engine = new Engine();
    const seen: { arn: string; event: HistoryEvent }[] = [];
    engine.subscribe((arn, event) => seen.push({ arn, event }));
    let token: string | undefined;
    engine.registerHandler(callback, (req) => {
      token = req.taskToken;
      return {};
    });
    const started = engine.start(approvalMachine, { who: 'me' });
    await until(() => token !== undefined);
    const beforeAnswer = seen.map((s) => s.event.type);
    // Act
    engine.sendTaskSuccess(token as string, '{"approved":true}');
    const r = await started.done;
    // Assess
    expect(beforeAnswer).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
    ]);
    expect(seen.every((s) => s.arn === started.executionArn)).toBe(true);
    expect(seen.map((s) => s.event.id)).toEqual(r.history.map((_, i) => i + 1));
    expect(engine.history(started.executionArn)).toEqual(seen.map((s) => s.event));
    expect(details(seen[0]?.event)).toMatchObject({ input: '{"who":"me"}' });
  });

  it('numbers events from 1 and points each at the one before it on its thread', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const def = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', End: true } } };
    // Act
    const r = await engine.start(def, {}).done;
    // Assess
    expect(r.history.map((e) => [e.id, e.previousEventId, e.type])).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 0, 'PassStateEntered'],
      [3, 2, 'PassStateExited'],
      [4, 3, 'PassStateEntered'],
      [5, 4, 'PassStateExited'],
      [6, 5, 'ExecutionSucceeded'],
    ]);
    for (const e of r.history) expect(e.timestamp).toBeInstanceOf(Date);
  });

  it('starts the same name again with the same input idempotently while it runs, and refuses otherwise', async () => {
    // Prepare
    const engine = new Engine();
    const first = engine.start(waitMachine, { a: 1 }, { name: 'push-abc' });
    // Act
    const again = engine.start(waitMachine, { a: 1 }, { name: 'push-abc' });
    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    expect(() => engine.start(waitMachine, { a: 2 }, { name: 'push-abc' })).toThrow(
      expect.objectContaining({ code: 'ExecutionAlreadyExists' }),
    );
    engine.stop(first.executionArn);
    await first.done;
    expect(() => engine.start(waitMachine, { a: 1 }, { name: 'push-abc' })).toThrow(
      expect.objectContaining({ code: 'ExecutionAlreadyExists' }),
    );
  });

  it.each(['', 'has space', 'a/b', 'x'.repeat(81), 'tab\tname'])('refuses the execution name %j', (name) => {
    // Prepare
    const engine = new Engine();
    // Act / Assess
    expect(() => engine.start(waitMachine, {}, { name })).toThrow(expect.objectContaining({ code: 'InvalidName' }));
  });

  it('describes and lists executions as DescribeExecution and ListExecutions do', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const arn = 'arn:aws:states:eu-west-1:111122223333:stateMachine:pipeline';
    // Act
    const r = await engine.start(
      { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
      { x: 1 },
      { name: 'n1', stateMachineArn: arn },
    ).done;
    // Assess
    expect(r.executionArn).toBe('arn:aws:states:eu-west-1:111122223333:execution:pipeline:n1');
    expect(engine.describe(r.executionArn)).toMatchObject({
      executionArn: r.executionArn,
      stateMachineArn: arn,
      name: 'n1',
      status: 'SUCCEEDED',
      input: '{"x":1}',
      output: '{"x":1}',
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(engine.list({ stateMachineArn: arn }).map((d) => d.name)).toEqual(['n1']);
    expect(() => engine.describe(`${arn}:nope`)).toThrow(expect.objectContaining({ code: 'ExecutionDoesNotExist' }));
  });

  it('fails an execution whose history would pass the events quota, and keeps serving others meanwhile', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual', maxHistoryEvents: 5000 });
    const loop = {
      StartAt: 'Spin',
      States: {
        Spin: { Type: 'Pass', Next: 'Again' },
        Again: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }], Default: 'Spin' },
        Done: { Type: 'Succeed' },
      },
    };
    // Act
    const spinning = engine.start(loop, {});
    const other = await engine.start({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {}).done;
    const spinningWhenOtherEnded = engine.describe(spinning.executionArn).status;
    const r = await spinning.done;
    // Assess
    expect(other.status).toBe('SUCCEEDED');
    expect(spinningWhenOtherEnded).toBe('RUNNING');
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toContain('maximum number of events');
    expect(r.history.length).toBe(5001);
  });

  it('times the whole execution out after the definition’s TimeoutSeconds', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    // Act
    const r = await engine.start({ ...waitMachine, TimeoutSeconds: 30 }, {}).done;
    // Assess
    expect(r.status).toBe('TIMED_OUT');
    expect(r.error).toBe('States.Timeout');
    expect(types(r.history).pop()).toBe('ExecutionTimedOut');
  });

  it('serves activity tasks to workers that poll GetActivityTask, and takes their answer by token', async () => {
    // Prepare
    const engine = new Engine();
    const activity = 'arn:aws:states:us-east-1:123456789012:activity:approve';
    const def = { StartAt: 'A', States: { A: { Type: 'Task', Resource: activity, HeartbeatSeconds: 60, End: true } } };
    const started = engine.start(def, { change: 42 });
    // Act
    const task = await engine.getActivityTask(activity, 'worker-1', 1000);
    engine.sendTaskSuccess(task?.taskToken as string, '{"ok":true}');
    const r = await started.done;
    // Assess
    expect(task?.input).toBe('{"change":42}');
    expect(r.output).toEqual({ ok: true });
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'ActivityStarted')[0])).toEqual({ workerName: 'worker-1' });
    expect(await engine.getActivityTask(activity, 'worker-1', 0)).toBeUndefined();
  });
});

describe('RedriveExecution', () => {
  it('restarts a failed execution from the failed state with its input and variables, continuing the history', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    let healthy = false;
    engine.registerHandler('arn:aws:states:::codebuild:startBuild.sync', () => {
      if (!healthy) throw new Error('registry down');
      return { built: true };
    });
    const def = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Assign: { sha: 'abc' }, Result: { step: 'prepared' }, Next: 'Build' },
        Build: {
          Type: 'Task',
          Resource: 'arn:aws:states:::codebuild:startBuild.sync',
          ResultPath: '$.build',
          Next: 'Report',
        },
        Report: {
          Type: 'Pass',
          Parameters: { 'sha.$': '$sha', 'build.$': '$.build', 'redrives.$': '$$.Execution.RedriveCount' },
          End: true,
        },
      },
    };
    const failed = await engine.start(def, {}).done;
    expect(failed.status).toBe('FAILED');
    expect(engine.describe(failed.executionArn).redriveStatus).toBe('REDRIVABLE');
    healthy = true;
    // Act
    const r = await engine.redrive(failed.executionArn).done;
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(r.output).toEqual({ sha: 'abc', build: { built: true }, redrives: 1 });
    const t = types(r.history);
    expect(t.slice(0, failed.history.length)).toEqual(types(failed.history));
    expect(t[failed.history.length]).toBe('ExecutionRedriven');
    expect(t.filter((x) => x === 'PassStateEntered')).toHaveLength(2);
    expect(engine.describe(r.executionArn).redriveCount).toBe(1);
  });

  it('re-runs only the Map iterations that failed', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const calls: number[] = [];
    let fixed = false;
    engine.registerHandler('arn:aws:states:::lambda:invoke', (req) => {
      const n = req.input as number;
      calls.push(n);
      if (n === 2 && !fixed) throw new Error('item 2 broken');
      return n * 10;
    });
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: 'T',
            States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
          },
          End: true,
        },
      },
    };
    const failed = await engine.start(def, [1, 2, 3]).done;
    fixed = true;
    calls.length = 0;
    // Act
    const r = await engine.redrive(failed.executionArn).done;
    // Assess
    expect(failed.status).toBe('FAILED');
    expect(r.output).toEqual([10, 20, 30]);
    expect(calls).toEqual([2, 3]);
  });

  it('refuses to redrive an execution that succeeded or is running', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const done = await engine.start({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {}).done;
    // Act / Assess
    expect(() => engine.redrive(done.executionArn)).toThrow(
      expect.objectContaining({ code: 'ExecutionNotRedrivable' }),
    );
  });
});
