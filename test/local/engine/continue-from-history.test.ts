import { describe, expect, it } from 'vitest';
import {
  Engine,
  type HistoryEvent,
  type JsonValue,
  type RedriveSource,
  type StateMachineDefinition,
  type TaskHandler,
} from '../../../local/engine';
import { details, eventsOf, parsed } from './helpers';

/**
 * An execution continued from its recorded history (`continueFrom`: the local runtime after a restart, ADR 0053)
 * keeps its time (ADR 0114): on the virtual clock it goes on from its last recorded event, a Wait it was in ends
 * at the end it had, and on either clock the history's timestamps never go backwards.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ms = (event: HistoryEvent | undefined): number => {
  if (!event) throw new Error('no such event');
  return event.timestamp.getTime();
};

/** The events a store holds when the process dies right after the first event that `cut` accepts. */
function recordedUntil(history: readonly HistoryEvent[], cut: (e: HistoryEvent) => boolean): HistoryEvent[] {
  const i = history.findIndex(cut);
  if (i < 0) throw new Error('the cut point is not in the history');
  return history.slice(0, i + 1);
}

function jsonText(event: HistoryEvent): string {
  return JSON.stringify(parsed(details(event)['input']));
}

function shifted(history: readonly HistoryEvent[], by: number): HistoryEvent[] {
  return history.map((e) => ({ ...e, timestamp: new Date(e.timestamp.getTime() + by) }));
}

function expectMonotonic(history: readonly HistoryEvent[]): void {
  for (let i = 1; i < history.length; i++) {
    expect(ms(history[i]), `event #${history[i]?.id} ${history[i]?.type}`).toBeGreaterThanOrEqual(ms(history[i - 1]));
  }
}

/** The events after the ExecutionRedriven that a continuation appends. */
function afterRedriven(history: readonly HistoryEvent[]): HistoryEvent[] {
  const at = history.findIndex((e) => e.type === 'ExecutionRedriven');
  return history.slice(at);
}

// A deploy computes a deadline on the execution's clock; a check every 2 s fails once the clock passes it.
const ROLLOUT: StateMachineDefinition = {
  StartAt: 'Settle',
  States: {
    Settle: { Type: 'Wait', Seconds: 86_400, Next: 'Deploy' },
    Deploy: { Type: 'Task', Resource: 'arn:aws:states:::local:deploy', ResultPath: '$.deadline', Next: 'Poll' },
    Poll: { Type: 'Wait', Seconds: 2, Next: 'Check' },
    Check: { Type: 'Task', Resource: 'arn:aws:states:::local:check', ResultPath: '$.check', Next: 'Done?' },
    'Done?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.late', BooleanEquals: true, Next: 'Late' }],
      Default: 'Poll',
    },
    Late: { Type: 'Fail', Error: 'RolloutDeadline' },
  },
};

describe('an execution continued from its recorded history', () => {
  it('goes on, on the virtual clock, from its last recorded event: a deadline computed before leaves the same checks', async () => {
    // Prepare: the first process deploys (deadline: now + 30 s) and dies in its 6th check
    const checks: number[] = [];
    const deploy: TaskHandler = (request) => request.clock.now() + 30_000;
    const check =
      (hangAt: number | undefined): TaskHandler =>
      (request) => {
        checks.push(request.clock.now());
        if (checks.length === hangAt) return new Promise<JsonValue>(() => {});
        const deadline = (request.input as { deadline: number }).deadline;
        return { late: request.clock.now() > deadline };
      };
    const first = new Engine({
      clock: 'virtual',
      handlers: { 'arn:aws:states:::local:deploy': deploy, 'arn:aws:states:::local:check': check(6) },
    });
    const started = first.start(ROLLOUT, {}, { name: 'rollout' });
    while (checks.length < 6) await new Promise((r) => setImmediate(r));
    const history = [...first.history(started.executionArn)];
    const entered = eventsOf(history, 'TaskStateEntered').at(-1) as HistoryEvent;
    const source: RedriveSource = {
      checkpoint: { stateName: 'Check', input: parsed(details(entered)['input']), variables: {} },
      history,
      redriveCount: 1,
      startDate: started.startDate,
    };

    // Act: a new process continues it
    const second = new Engine({
      clock: 'virtual',
      handlers: { 'arn:aws:states:::local:deploy': deploy, 'arn:aws:states:::local:check': check(undefined) },
    });
    const done = await second.start(ROLLOUT, {}, { name: 'rollout', continueFrom: source }).done;

    // Assess: the check that was in progress runs again at the time it stood at; then a check every 2 s until the
    // first one past the deadline (30 s / 2 s + 1 = 16 in all, as without the restart)
    expect(done.status).toBe('FAILED');
    expect(checks).toHaveLength(17);
    expect(checks[6]).toBe(checks[5]);
    expect(checks[6]).toBe(ms(history.at(-1)));
    const times = [...new Set(checks)];
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(2000);
    expect(times.at(-1)).toBe((times[0] as number) - 2000 + 32_000);
    expectMonotonic(done.history);
  });

  it('ends a Wait it was in at the end it had, while the clock goes on from the last recorded event', async () => {
    // Prepare: a day in, iteration 0 waits an hour, iteration 1 ten minutes, then works; the process dies there
    const definition: StateMachineDefinition = {
      StartAt: 'Settle',
      States: {
        Settle: { Type: 'Wait', Seconds: 86_400, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Pause',
            States: {
              Pause: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Work' },
              Work: { Type: 'Task', Resource: 'arn:aws:states:::local:work', End: true },
            },
          },
          End: true,
        },
      },
    };
    const input = { items: [{ seconds: 3600 }, { seconds: 600 }] };
    const work: TaskHandler = (request) => request.input;
    const first = await new Engine({ clock: 'virtual', handlers: { 'arn:aws:states:::local:work': work } }).start(
      definition,
      input,
      { name: 'waits' },
    ).done;
    const history = recordedUntil(
      first.history,
      (e) => e.type === 'TaskStateEntered' && (details(e)['name'] as string) === 'Work',
    );
    const pauses = eventsOf(history, 'WaitStateEntered').filter((e) => details(e)['name'] === 'Pause');
    const pause0 = pauses.find((e) => (parsed(details(e)['input']) as { seconds: number }).seconds === 3600);
    const source: RedriveSource = {
      checkpoint: {
        stateName: 'Each',
        input: input as JsonValue,
        variables: {},
        children: {
          results: new Map(),
          failed: new Map([
            [0, { stateName: 'Pause', input: { seconds: 3600 }, variables: {} }],
            [1, { stateName: 'Work', input: { seconds: 600 }, variables: {} }],
          ]),
        },
      },
      history,
      redriveCount: 1,
      startDate: first.startDate,
    };

    // Act
    const engine = new Engine({ clock: 'virtual', handlers: { 'arn:aws:states:::local:work': work } });
    const done = await engine.start(definition, input, { name: 'waits', continueFrom: source }).done;

    // Assess: the run goes on at the last recorded event (the day and ten minutes in), iteration 0's Wait ends an
    // hour after it was first entered
    expect(done.status).toBe('SUCCEEDED');
    const after = afterRedriven(done.history);
    expect(ms(after[0])).toBe(ms(history.at(-1)));
    const exited = after.filter((e) => e.type === 'WaitStateExited' && details(e)['name'] === 'Pause');
    expect(exited).toHaveLength(1);
    expect(ms(exited[0])).toBe(ms(pause0) + HOUR);
    expect(ms(pause0) - ms(done.history[0])).toBe(DAY);
    expectMonotonic(done.history);
  });

  it('ends a Wait at the end it first had after two restarts in it', async () => {
    // Prepare: the Map of the test above, killed while iteration 0 waits, continued, killed again in the same Wait
    const definition: StateMachineDefinition = {
      StartAt: 'Settle',
      States: {
        Settle: { Type: 'Wait', Seconds: 86_400, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Pause',
            States: {
              Pause: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Work' },
              Work: { Type: 'Task', Resource: 'arn:aws:states:::local:work', End: true },
            },
          },
          End: true,
        },
      },
    };
    const input = { items: [{ seconds: 3600 }, { seconds: 600 }] };
    const work: TaskHandler = (request) => request.input;
    const source = (history: HistoryEvent[], redriveCount: number): RedriveSource => ({
      checkpoint: {
        stateName: 'Each',
        input: input as JsonValue,
        variables: {},
        children: {
          results: new Map(),
          failed: new Map([
            [0, { stateName: 'Pause', input: { seconds: 3600 }, variables: {} }],
            [1, { stateName: 'Work', input: { seconds: 600 }, variables: {} }],
          ]),
        },
      },
      history,
      redriveCount,
      startDate: history[0]?.timestamp as Date,
    });
    const isWork = (e: HistoryEvent): boolean => e.type === 'TaskStateEntered' && details(e)['name'] === 'Work';
    const engine = (): Engine => new Engine({ clock: 'virtual', handlers: { 'arn:aws:states:::local:work': work } });
    const first = await engine().start(definition, input, { name: 'twice' }).done;
    const killed = recordedUntil(first.history, isWork);
    const pause0 = killed.find((e) => e.type === 'WaitStateEntered' && jsonText(e) === '{"seconds":3600}');
    const again = await engine().start(definition, input, { name: 'twice', continueFrom: source(killed, 1) }).done;
    const secondRun = afterRedriven(again.history);
    const killedAgain = again.history.slice(0, again.history.indexOf(secondRun.find(isWork) as HistoryEvent) + 1);

    // Act
    const done = await engine().start(definition, input, { name: 'twice', continueFrom: source(killedAgain, 2) }).done;

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    const exits = afterRedriven(done.history.slice(killedAgain.length - 1)).filter(
      (e) => e.type === 'WaitStateExited' && details(e)['name'] === 'Pause',
    );
    expect(exits).toHaveLength(1);
    expect(ms(exits[0])).toBe(ms(pause0) + HOUR);
    expectMonotonic(done.history);
  });

  it('on the real clock, ends at once a Wait whose end passed while the runtime was down', async () => {
    // Prepare: recorded two hours ago, in a Wait of one hour
    const definition: StateMachineDefinition = {
      StartAt: 'Pause',
      States: { Pause: { Type: 'Wait', Seconds: 3600, Next: 'After' }, After: { Type: 'Pass', End: true } },
    };
    const first = await new Engine({ clock: 'virtual' }).start(definition, {}, { name: 'late' }).done;
    const history = shifted(
      recordedUntil(first.history, (e) => e.type === 'WaitStateEntered'),
      -2 * HOUR - (Date.now() - ms(first.history[0])),
    );
    const source: RedriveSource = {
      checkpoint: { stateName: 'Pause', input: {}, variables: {} },
      history,
      redriveCount: 1,
      startDate: history[0]?.timestamp as Date,
    };

    // Act
    const done = await new Engine({ clock: 'real' }).start(definition, {}, { name: 'late', continueFrom: source }).done;

    // Assess: it did not wait another hour; it left the Wait after its recorded end
    expect(done.status).toBe('SUCCEEDED');
    const exited = eventsOf(done.history, 'WaitStateExited')[0];
    expect(ms(exited)).toBeGreaterThanOrEqual(ms(history.at(-1)) + HOUR);
    expectMonotonic(done.history);
  }, 10_000);

  it('on the real clock, never records an event before the last one recorded, when the machine clock is behind it', async () => {
    // Prepare: recorded an hour ahead of the machine's clock (as after the clock was set back)
    const definition: StateMachineDefinition = {
      StartAt: 'Work',
      States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::local:work', End: true } },
    };
    const seen: number[] = [];
    const work: TaskHandler = (request) => {
      seen.push(request.clock.now());
      return {};
    };
    const first = new Engine({
      clock: 'real',
      handlers: { 'arn:aws:states:::local:work': () => new Promise(() => {}) },
    });
    const started = first.start(definition, {}, { name: 'ahead' });
    await new Promise((r) => setImmediate(r));
    const history = shifted(first.history(started.executionArn), HOUR);
    first.stop(started.executionArn);
    const source: RedriveSource = {
      checkpoint: { stateName: 'Work', input: {}, variables: {} },
      history,
      redriveCount: 1,
      startDate: history[0]?.timestamp as Date,
    };

    // Act
    const done = await new Engine({ clock: 'real', handlers: { 'arn:aws:states:::local:work': work } }).start(
      definition,
      {},
      { name: 'ahead', continueFrom: source },
    ).done;

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expectMonotonic(done.history);
    expect(seen[0]).toBeGreaterThanOrEqual(ms(history.at(-1)));
  });
});

describe('a redrive on the virtual clock', () => {
  it('starts at the time of the failure and runs the Wait of an aborted iteration again in full', async () => {
    // Prepare: a day in, iteration 1 fails while iteration 0 waits an hour
    const definition: StateMachineDefinition = {
      StartAt: 'Settle',
      States: {
        Settle: { Type: 'Wait', Seconds: 86_400, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Pause',
            States: {
              Pause: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Work' },
              Work: { Type: 'Task', Resource: 'arn:aws:states:::local:work', End: true },
            },
          },
          End: true,
        },
      },
    };
    let calls = 0;
    const work: TaskHandler = (request) => {
      calls++;
      if (calls === 1) throw new Error('first time');
      return request.input;
    };
    const engine = new Engine({ clock: 'virtual', handlers: { 'arn:aws:states:::local:work': work } });
    const input = { items: [{ seconds: 3600 }, { seconds: 0 }] };
    const failed = await engine.start(definition, input, { name: 'redriven' }).done;
    expect(failed.status).toBe('FAILED');

    // Act
    const done = await engine.redrive(failed.executionArn).done;

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    const after = afterRedriven(done.history);
    expect(ms(after[0])).toBe(ms(failed.history.at(-1)));
    const entered = after.find((e) => e.type === 'WaitStateEntered' && details(e)['name'] === 'Pause');
    const exited = after.find(
      (e) => e.type === 'WaitStateExited' && (parsed(details(e)['output']) as { seconds: number }).seconds === 3600,
    );
    expect(ms(exited) - ms(entered)).toBe(HOUR);
    expectMonotonic(done.history);
  });
});
