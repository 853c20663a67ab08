import { describe, expect, it } from 'vitest';
import { eventToJson } from '../../../local/console';
import { formatDuration, readHistory } from '../../../local/console/model/status';
import { Engine, type StateMachineDefinition, TaskFailure } from '../../../local/engine';

/** An execution's history (from a real local Engine) read into per-state statuses, table rows and transitions. */

const LAMBDA = 'arn:aws:states:::lambda:invoke';

function engine(): Engine {
  const e = new Engine({ clock: 'virtual' });
  let attempts = 0;
  e.registerHandler(LAMBDA, async (request) => {
    const payload = (request.input as { Payload?: { fail?: string; failOnce?: boolean } }).Payload ?? {};
    if (payload.failOnce && attempts++ === 0) throw new TaskFailure('Flaky', 'first attempt');
    if (payload.fail) throw new TaskFailure(payload.fail, `cause of ${payload.fail}`);
    return { Payload: { ok: true } };
  });
  e.registerHandler(`${LAMBDA}.waitForTaskToken`, () => ({}));
  return e;
}

async function run(definition: Record<string, unknown>, input: unknown = {}) {
  const e = engine();
  const result = await e.start({ QueryLanguage: 'JSONata', ...definition } as StateMachineDefinition, input).done;
  return { result, view: readHistory(result.history.map(eventToJson), result.status) };
}

const task = (payload: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: LAMBDA,
  Arguments: { Payload: payload },
  ...rest,
});

describe('readHistory', () => {
  it('marks the states a successful run went through as succeeded and the others as not started', async () => {
    // Act
    const { view } = await run({
      StartAt: 'A',
      States: {
        A: task({}, { Next: 'Pick' }),
        Pick: { Type: 'Choice', Choices: [{ Condition: '{% true %}', Next: 'B' }], Default: 'C' },
        B: { Type: 'Pass', End: true },
        C: { Type: 'Pass', End: true },
      },
    });

    // Assess
    expect([...view.states.entries()].map(([name, s]) => [name, s.status])).toEqual([
      ['A', 'succeeded'],
      ['Pick', 'succeeded'],
      ['B', 'succeeded'],
    ]);
    expect(view.states.get('C')).toBeUndefined();
    expect(view.failedRun).toBeUndefined();
    expect([...view.transitions]).toEqual(['#start->A|next', 'A->Pick|next', 'Pick->B|next', 'B->#end|next']);
  });

  it('tells a failure caught by a Catch from one that ended the run, with error and cause', async () => {
    // Act
    const { result, view } = await run({
      StartAt: 'Risky',
      States: {
        Risky: task({ fail: 'Boom' }, { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Report' }], Next: 'Report' }),
        Report: task({ fail: 'ReportDown' }, { End: true }),
      },
    });

    // Assess
    expect(result.status).toBe('FAILED');
    const risky = view.states.get('Risky');
    expect(risky?.status).toBe('caught');
    expect(risky?.shown.error).toBe('Boom');
    expect(risky?.shown.cause).toBe('cause of Boom');
    expect(view.states.get('Report')?.status).toBe('failed');
    expect(view.failedRun?.name).toBe('Report');
    expect(view.failedRun?.error).toBe('ReportDown');
    expect(view.transitions.has('Risky->Report|catch')).toBe(true);
    expect(view.transitions.has('Risky->Report|next')).toBe(false);
  });

  it('counts a retried task that then succeeded as succeeded, with its retry', async () => {
    // Act
    const { view } = await run({
      StartAt: 'Flaky',
      States: {
        Flaky: task(
          { failOnce: true },
          { Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2 }], End: true },
        ),
      },
    });

    // Assess
    const flaky = view.states.get('Flaky');
    expect(flaky?.status).toBe('succeeded');
    expect(flaky?.shown.retries).toBe(1);
    expect(flaky?.shown.output).toBe('{"Payload":{"ok":true}}');
  });

  it('follows each Map item apart and names the failed item, the Map being caught', async () => {
    // Act
    const { view } = await run(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            Items: '{% $states.input.items %}',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Work',
              States: { Work: task({ fail: '{% $states.input = 2 ? "Bad" : "" %}' }, { End: true }) },
            },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recover' }],
            End: true,
          },
          Recover: { Type: 'Pass', End: true },
        },
      },
      { items: [1, 2, 3] },
    );

    // Assess
    const work = view.states.get('Work');
    expect(work?.runs.map((r) => [r.iteration, r.status])).toEqual(
      expect.arrayContaining([
        [0, 'succeeded'],
        [1, 'failed'],
      ]),
    );
    expect(work?.status).toBe('failed');
    expect(work?.shown.iteration).toBe(1);
    expect(work?.shown.error).toBe('Bad');
    expect(view.states.get('Each')?.status).toBe('caught');
    expect(view.states.get('Recover')?.status).toBe('succeeded');
    const mapRows = view.rows.filter((r) => r.type.startsWith('MapIteration') || r.type.startsWith('MapState'));
    expect(new Set(mapRows.map((r) => r.step))).toEqual(new Set(['Each']));
  });

  it('gives the events of a failed Parallel to the Parallel state, and the failing branch state its error', async () => {
    // Act
    const { view } = await run({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Left', States: { Left: { Type: 'Pass', End: true } } },
            { StartAt: 'Right', States: { Right: task({ fail: 'RightFailed' }, { End: true }) } },
          ],
          End: true,
        },
      },
    });

    // Assess
    expect(view.states.get('Left')?.status).toBe('succeeded');
    expect(view.states.get('Right')?.status).toBe('failed');
    expect(view.states.get('Both')?.status).toBe('failed');
    expect(view.rows.find((r) => r.type === 'ParallelStateFailed')?.step).toBe('Both');
    expect(view.failedRun?.name).toBe('Right');
  });

  it('shows a state waiting for a task token as running, and aborted once the run is stopped', async () => {
    // Prepare
    const e = engine();
    const started = e.start(
      {
        QueryLanguage: 'JSONata',
        StartAt: 'Gate',
        States: { Gate: { Type: 'Task', Resource: `${LAMBDA}.waitForTaskToken`, Arguments: {}, End: true } },
      } as StateMachineDefinition,
      {},
    );
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Act
    const running = readHistory(e.history(started.executionArn).map(eventToJson), 'RUNNING');
    e.stop(started.executionArn, { error: 'Stopped' });
    const result = await started.done;
    const stopped = readHistory(result.history.map(eventToJson), result.status);

    // Assess
    expect(running.states.get('Gate')?.status).toBe('running');
    expect(result.status).toBe('ABORTED');
    expect(stopped.states.get('Gate')?.status).toBe('aborted');
  });

  it('reads a redriven run by its last attempt: the state that failed before and then succeeded is succeeded', async () => {
    // Prepare
    const e = new Engine({ clock: 'virtual' });
    let calls = 0;
    e.registerHandler(LAMBDA, () => {
      calls++;
      if (calls === 1) throw new TaskFailure('Down', 'service down');
      return { Payload: {} };
    });
    const first = await e.start({
      QueryLanguage: 'JSONata',
      StartAt: 'Call',
      States: { Call: task({}, { End: true }) },
    } as StateMachineDefinition).done;

    // Act
    const redriven = await e.redrive(first.executionArn).done;
    const view = readHistory(redriven.history.map(eventToJson), redriven.status);

    // Assess
    expect(first.status).toBe('FAILED');
    expect(redriven.status).toBe('SUCCEEDED');
    const call = view.states.get('Call');
    expect(call?.status).toBe('succeeded');
    expect(call?.runs).toHaveLength(2);
    expect(call?.runs[0]?.superseded).toBe(true);
  });

  it('writes one row per event with its step and the time since the start', async () => {
    // Act
    const { result, view } = await run({
      StartAt: 'A',
      States: { A: task({}, { Next: 'Stop' }), Stop: { Type: 'Fail', Error: 'Nope', Cause: 'by design' } },
    });

    // Assess
    expect(view.rows.map((r) => r.id)).toEqual(result.history.map((e) => e.id));
    expect(view.rows.map((r) => [r.type, r.step])).toEqual([
      ['ExecutionStarted', ''],
      ['TaskStateEntered', 'A'],
      ['TaskScheduled', 'A'],
      ['TaskStarted', 'A'],
      ['TaskSucceeded', 'A'],
      ['TaskStateExited', 'A'],
      ['FailStateEntered', 'Stop'],
      ['ExecutionFailed', 'Stop'],
    ]);
    expect(view.rows[0]?.elapsed).toBe(0);
    expect(view.rows.every((r) => r.elapsed >= 0)).toBe(true);
    expect(view.rows.find((r) => r.type === 'TaskScheduled')?.resource).toBe('lambda:invoke');
    expect(view.rows.at(-1)).toMatchObject({ tone: 'failed', error: 'Nope' });
    expect(view.states.get('Stop')?.status).toBe('failed');
    expect(view.failedRun?.name).toBe('Stop');
    expect(view.failedRun?.cause).toBe('by design');
  });
});

describe('formatDuration', () => {
  it.each([
    [120, '120 ms'],
    [5_240, '5.2 s'],
    [42_000, '42 s'],
    [184_000, '3 min 04 s'],
    [3_720_000, '1 h 02 min'],
    [-1, '–'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
