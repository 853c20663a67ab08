import { describe, expect, it } from 'vitest';
import { type HistoryEvent, TaskFailure } from '../../../local/engine';
import { eventsOf, run, single } from './helpers';

// Which error name each kind of evaluation failure has, in each state type, as AWS documents it:
// - https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (error names: States.Runtime
//   for InputPath and OutputPath failures, not caught by States.ALL; States.ResultPathMatchFailure;
//   States.NoChoiceMatched; States.ExceedToleratedFailureThreshold; States.IntrinsicFailure is reported as
//   States.Runtime; States.DataLimitExceeded terminal for a state's output and its input after Parameters)
// - https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html#handling-errors-jsonata-expressions
//   (every failed JSONata evaluation is States.QueryEvaluationError, which Task, Map and Parallel may catch)
// - https://docs.aws.amazon.com/step-functions/latest/apireference/API_EvaluationFailedEventDetails.html (the event
//   that JSONata states record, with the state and the location of the field)
// Where the guide and executions recorded on AWS differ (a Parameters path that matches nothing is States.Runtime,
// not States.ParameterPathFailure), docs/adr/0011 says which the engine follows.

const LAMBDA = 'arn:aws:states:::lambda:invoke';
const PROCESSOR = { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } };
const BRANCHES = [PROCESSOR];

/** One state of each type, with a field that reads `$.missing` (JSONPath) or `$missing` (JSONata). */
const JSONPATH_STATES: [string, Record<string, unknown>][] = [
  ['Pass', { Type: 'Pass', InputPath: '$.missing' }],
  ['Task', { Type: 'Task', Resource: LAMBDA, InputPath: '$.missing' }],
  [
    'Choice',
    {
      Type: 'Choice',
      InputPath: '$.missing',
      Choices: [{ Variable: '$.a', IsPresent: true, Next: 'Done' }],
      Default: 'Done',
    },
  ],
  ['Wait', { Type: 'Wait', Seconds: 1, InputPath: '$.missing' }],
  ['Succeed', { Type: 'Succeed', InputPath: '$.missing' }],
  ['Fail', { Type: 'Fail', ErrorPath: '$.missing' }],
  ['Parallel', { Type: 'Parallel', Branches: BRANCHES, InputPath: '$.missing' }],
  ['Map', { Type: 'Map', ItemProcessor: PROCESSOR, ItemsPath: '$.missing' }],
];

const JSONATA_STATES: [string, Record<string, unknown>][] = [
  ['Pass', { Type: 'Pass', Output: '{% $missing %}' }],
  ['Task', { Type: 'Task', Resource: LAMBDA, Arguments: '{% $missing %}' }],
  ['Choice', { Type: 'Choice', Choices: [{ Condition: '{% $missing %}', Next: 'Done' }], Default: 'Done' }],
  ['Wait', { Type: 'Wait', Seconds: '{% $missing %}' }],
  ['Succeed', { Type: 'Succeed', Output: '{% $missing %}' }],
  ['Fail', { Type: 'Fail', Error: '{% $missing %}' }],
  ['Parallel', { Type: 'Parallel', Branches: BRANCHES, Arguments: '{% $missing %}' }],
  ['Map', { Type: 'Map', ItemProcessor: PROCESSOR, Items: '{% $missing %}' }],
];

/** A machine of the state, then `Done`; Catch (for the types that have one) goes to `Caught`. */
function machine(state: Record<string, unknown>, ql: 'JSONPath' | 'JSONata', catchAll = false) {
  const type = state['Type'] as string;
  const terminal = type === 'Succeed' || type === 'Fail';
  const ends = type === 'Choice' || terminal ? {} : { Next: 'Done' };
  const catching = catchAll && ['Task', 'Parallel', 'Map'].includes(type);
  const catcher = catching ? { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }] } : {};
  const states: Record<string, unknown> = { S: { ...state, ...ends, ...catcher } };
  if (!terminal) states['Done'] = { Type: 'Succeed' };
  if (catching) states['Caught'] = { Type: 'Pass', Result: 'caught', End: true };
  return { QueryLanguage: ql, StartAt: 'S', States: states };
}

const handlers = { [LAMBDA]: () => ({}) };

describe('concepts-error-handling.html: JSONPath evaluation errors', () => {
  it.each(JSONPATH_STATES)(
    'a path that matches nothing in a %s state is States.Runtime, which States.ALL does not catch',
    async (_type, state) => {
      const r = await run(machine(state, 'JSONPath', true), {}, { handlers });
      expect(r).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    },
  );

  it('a Parameters path that matches nothing is States.Runtime, as recorded on AWS (docs/adr/0011)', async () => {
    const r = await run(single({ Type: 'Pass', Parameters: { 'a.$': '$.missing' } }));
    expect(r.error).toBe('States.Runtime');
  });

  it('a failing intrinsic function is reported as States.Runtime (States.IntrinsicFailure is reserved)', async () => {
    const r = await run(single({ Type: 'Pass', Parameters: { 'a.$': 'States.ArrayGetItem($.list, 5)' } }), {
      list: [],
    });
    expect(r.error).toBe('States.Runtime');
  });

  it('a ResultPath that cannot be applied is States.ResultPathMatchFailure, which a Catch may take', async () => {
    const state = { Type: 'Task', Resource: LAMBDA, ResultPath: '$.a.b' };
    const r = await run(machine(state, 'JSONPath', true), { a: 'not an object' }, { handlers });
    expect(r.output).toBe('caught');
  });

  it('a Choice that matches no rule and has no Default fails with States.NoChoiceMatched', async () => {
    const r = await run(
      {
        StartAt: 'C',
        States: {
          C: { Type: 'Choice', Choices: [{ Variable: '$.a', BooleanEquals: true, Next: 'D' }] },
          D: { Type: 'Succeed' },
        },
      },
      { a: false },
    );
    expect(r.error).toBe('States.NoChoiceMatched');
  });

  it('a distributed Map whose failures pass its threshold fails with States.ExceedToleratedFailureThreshold', async () => {
    const state = {
      Type: 'Map',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'F',
        States: { F: { Type: 'Fail', Error: 'E' } },
      },
      ToleratedFailureCount: 1,
    };
    expect((await run(single(state), [1, 2])).error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('an input over the quota after Parameters is States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const state = { Type: 'Task', Resource: LAMBDA, Parameters: { 'a.$': '$.big', 'b.$': '$.big' } };
    const r = await run(machine(state, 'JSONPath', true), { big: 'x'.repeat(150_000) }, { handlers });
    expect(r).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });

  it('a state output over the quota is States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const state = { Type: 'Task', Resource: LAMBDA, ResultPath: '$.result' };
    const half = { [LAMBDA]: () => 'y'.repeat(150_000) };
    const r = await run(machine(state, 'JSONPath', true), { input: 'x'.repeat(150_000) }, { handlers: half });
    expect(r).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });

  it('a name a Task fails with is the error name Retry and Catch match (States.TaskFailed matches it too)', async () => {
    const fail = {
      [LAMBDA]: () => {
        throw new TaskFailure('Custom.Error', 'it broke');
      },
    };
    const definition = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', Result: 'caught', End: true },
      },
    };
    expect((await run(definition, {}, { handlers: fail })).output).toBe('caught');
  });
});

describe('transforming-data.html#handling-errors-jsonata-expressions', () => {
  it.each(JSONATA_STATES)(
    'an expression that fails in a %s state is States.QueryEvaluationError, with an EvaluationFailed event',
    async (_type, state) => {
      // Act
      const r = await run(machine(state, 'JSONata'), {}, { handlers });
      // Assess
      expect(r).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError' });
      const [event] = eventsOf(r.history, 'EvaluationFailed') as (HistoryEvent & {
        evaluationFailedEventDetails: unknown;
      })[];
      expect(event?.evaluationFailedEventDetails).toMatchObject({ error: 'States.QueryEvaluationError', state: 'S' });
    },
  );

  it.each(JSONATA_STATES.filter(([type]) => ['Task', 'Parallel', 'Map'].includes(type)))(
    'a %s state may catch States.QueryEvaluationError with States.ALL',
    async (_type, state) => {
      expect((await run(machine(state, 'JSONata', true), {}, { handlers })).output).toBe('caught');
    },
  );
});
