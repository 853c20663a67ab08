import { describe, expect, it } from 'vitest';
import { compileStateMachine, type StateMachineDefinition, TaskFailure } from '../../../local/engine';
import { run, single } from './helpers';

// One case per statement of AWS's pages on JSONPath processing (the page and its anchor name each group):
// - https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
// - https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
// - https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
// - https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemspath.html
// - https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html
// - the Amazon States Language specification, https://states-language.net/spec.html#filters (InputPath and
//   OutputPath null), which the guide's pages link to.

const LAMBDA = 'arn:aws:states:::lambda:invoke';

function refused(definition: unknown): boolean {
  try {
    compileStateMachine(definition as StateMachineDefinition);
    return false;
  } catch {
    return true;
  }
}

/** A Task whose Lambda function answers `result` (or fails with `error`), with the state's other fields. */
function task(fields: Record<string, unknown>, input: unknown, result: unknown) {
  const handler = (): unknown => {
    if (result instanceof TaskFailure) throw result;
    return result;
  };
  const recovered = 'Catch' in fields ? { NextTask: { Type: 'Pass', End: true } } : {};
  return run(
    { StartAt: 'T', States: { T: { Type: 'Task', Resource: LAMBDA, ...fields, End: true }, ...recovered } },
    input,
    { handlers: { [LAMBDA]: handler } },
  );
}

describe('amazon-states-language-paths.html', () => {
  it("square bracket notation for a name with other characters: $.abc.['def ghi']", async () => {
    const r = await run(single({ Type: 'Pass', InputPath: "$.abc.['def ghi']" }), { abc: { 'def ghi': 42 } });
    expect(r.output).toBe(42);
  });

  it('#amazon-states-language-reference-paths: $.foo, $.bar and $.car.cdr select single nodes', async () => {
    // Prepare
    const input = { foo: 123, bar: ['a', 'b', 'c'], car: { cdr: true } };
    const select = (path: string) => run(single({ Type: 'Pass', InputPath: path }), input);
    // Act / Assess
    expect((await select('$.foo')).output).toBe(123);
    expect((await select('$.bar')).output).toEqual(['a', 'b', 'c']);
    expect((await select('$.car.cdr')).output).toBe(true);
  });

  it('#amazon-states-language-reference-paths: ResultPath takes no functions, @, ?, filters or ..', () => {
    for (const path of ['$.a.length()', '$.a[?(@.b)]', '$..a', '$.a[*]', '$.a[0,1]']) {
      expect(refused(single({ Type: 'Pass', ResultPath: path }))).toBe(true);
    }
    expect(refused(single({ Type: 'Pass', ResultPath: "$.a['b'][0]" }))).toBe(false);
  });

  it('#flattening-an-array-of-arrays: ResultSelector "$[*][*]" flattens a Parallel result', async () => {
    // Prepare
    const branch = (result: unknown) => ({ StartAt: 'B', States: { B: { Type: 'Pass', Result: result, End: true } } });
    const definition = single({
      Type: 'Parallel',
      Branches: [branch([1, 2]), branch([3])],
      ResultSelector: { 'flattenArray.$': '$[*][*]' },
    });
    // Act / Assess
    expect((await run(definition)).output).toEqual({ flattenArray: [1, 2, 3] });
  });
});

describe('input-output-inputpath-params.html', () => {
  it('#input-output-inputpath: InputPath $.dataset2 selects part of the input (the page example)', async () => {
    const input = {
      comment: 'Example for InputPath.',
      dataset1: { val1: 1, val2: 2, val3: 3 },
      dataset2: { val1: 'a', val2: 'b', val3: 'c' },
    };
    const r = await run(single({ Type: 'Pass', InputPath: '$.dataset2' }), input);
    expect(r.output).toEqual({ val1: 'a', val2: 'b', val3: 'c' });
  });

  it('#input-output-inputpath: a path can yield a selection of values ($.a[0:2] is [1, 2])', async () => {
    const r = await run(single({ Type: 'Pass', InputPath: '$.a[0:2]' }), { a: [1, 2, 3, 4] });
    expect(r.output).toEqual([1, 2]);
  });

  it('#input-output-parameters: static values and values at paths whose key ends in .$ (the page example)', async () => {
    // Prepare
    const input = {
      comment: 'Example for Parameters.',
      product: {
        details: { color: 'blue', size: 'small', material: 'cotton' },
        availability: 'in stock',
        sku: '2317',
        cost: '$23',
      },
    };
    const parameters = {
      comment: 'Selecting what I care about.',
      MyDetails: { 'size.$': '$.product.details.size', 'exists.$': '$.product.availability', StaticValue: 'foo' },
    };
    // Act
    const r = await run(single({ Type: 'Pass', Parameters: parameters }), input);
    // Assess
    expect(r.output).toEqual({
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    });
  });

  it('InputPath applies first, then Parameters over its selection', async () => {
    const r = await run(single({ Type: 'Pass', InputPath: '$.inner', Parameters: { 'v.$': '$.v' } }), {
      v: 'outer',
      inner: { v: 'inner' },
    });
    expect(r.output).toEqual({ v: 'inner' });
  });

  it('#input-output-resultselector: selects parts of the result before ResultPath (the EMR example)', async () => {
    // Prepare
    const result = {
      resourceType: 'elasticmapreduce',
      resource: 'createCluster.sync',
      output: {
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: '1234-5678-9012' },
        ClusterId: 'AKIAIOSFODNN7EXAMPLE',
      },
    };
    const fields = {
      ResultSelector: { 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' },
      ResultPath: '$.EMROutput',
    };
    // Act
    const r = await task(fields, { OtherDataFromInput: {} }, result);
    // Assess
    expect(r.output).toEqual({
      OtherDataFromInput: {},
      EMROutput: { ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' },
    });
  });
});

describe('input-output-resultpath.html', () => {
  const input = {
    comment: 'This is a test of the input and output of a Task state.',
    details: 'Default example',
    who: 'AWS Step Functions',
  };
  const hello = 'Hello, AWS Step Functions!';

  it('#input-output-resultpath-default: without ResultPath (or with "$") the result replaces the input', async () => {
    expect((await task({}, input, hello)).output).toBe(hello);
    expect((await task({ ResultPath: '$' }, input, hello)).output).toBe(hello);
  });

  it('#input-output-resultpath-append: "$.taskresult" includes the result with the input', async () => {
    expect((await task({ ResultPath: '$.taskresult' }, input, hello)).output).toEqual({ ...input, taskresult: hello });
  });

  it('#input-output-resultpath-append: "$.strings.lambdaresult" inserts the result as a child node', async () => {
    const nested = {
      comment: 'An input comment.',
      strings: { string1: 'foo', string2: 'bar', string3: 'baz' },
      who: 'AWS Step Functions',
    };
    expect((await task({ ResultPath: '$.strings.lambdaresult' }, nested, hello)).output).toEqual({
      ...nested,
      strings: { ...nested.strings, lambdaresult: hello },
    });
  });

  it('#input-output-resultpath-amend: "$.comment" overwrites an existing node', async () => {
    expect((await task({ ResultPath: '$.comment' }, input, hello)).output).toEqual({ ...input, comment: hello });
  });

  it('ResultPath null discards the result and keeps the original input', async () => {
    expect((await task({ ResultPath: null }, input, hello)).output).toEqual(input);
  });

  it('#input-output-resultpath-catch: a Catch with ResultPath "$.error" keeps the input beside the error', async () => {
    const catcher = { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'NextTask', ResultPath: '$.error' }] };
    const r = await task(catcher, { foo: 'bar' }, new TaskFailure('Error here'));
    expect(r.output).toEqual({ foo: 'bar', error: { Error: 'Error here' } });
  });

  it('a ResultPath that cannot be applied to the input fails with States.ResultPathMatchFailure', async () => {
    expect((await task({ ResultPath: '$.x' }, 'a string', 1)).error).toBe('States.ResultPathMatchFailure');
  });
});

describe('states-language.net spec.html#filters: null paths', () => {
  it('InputPath null discards the raw input: the effective input is {}', async () => {
    expect((await run(single({ Type: 'Pass', InputPath: null }), { a: 1 })).output).toEqual({});
  });

  it('OutputPath null discards input and result: the output is {}', async () => {
    expect((await run(single({ Type: 'Pass', Result: 1, OutputPath: null }), { a: 1 })).output).toEqual({});
  });
});

describe('input-output-itemspath.html', () => {
  const pirates = {
    ThingsPiratesSay: [{ say: 'Avast!' }, { say: 'Yar!' }, { say: 'Walk the Plank!' }],
    ThingsGiantsSay: [{ say: 'Fee!' }, { say: 'Fi!' }, { say: 'Fo!' }, { say: 'Fum!' }],
  };
  const processor = { StartAt: 'SayWord', States: { SayWord: { Type: 'Pass', End: true } } };

  it('ItemsPath selects the array the iterations run over (the pirates example)', async () => {
    const r = await run(single({ Type: 'Map', ItemsPath: '$.ThingsPiratesSay', ItemProcessor: processor }), pirates);
    expect(r.output).toEqual(pirates.ThingsPiratesSay);
  });

  it('ItemsPath applies after InputPath, to the effective input', async () => {
    const r = await run(single({ Type: 'Map', InputPath: '$.inner', ItemsPath: '$.items', ItemProcessor: processor }), {
      items: ['outer'],
      inner: { items: ['inner'] },
    });
    expect(r.output).toEqual(['inner']);
  });

  it('the value of ItemsPath must be a reference path', () => {
    expect(refused(single({ Type: 'Map', ItemsPath: '$.things[*]', ItemProcessor: processor }))).toBe(true);
    expect(refused(single({ Type: 'Map', ItemsPath: '$..say', ItemProcessor: processor }))).toBe(true);
    expect(refused(single({ Type: 'Map', ItemsPath: '$$.Execution.Input.things', ItemProcessor: processor }))).toBe(
      false,
    );
  });
});

describe('state-fail.html', () => {
  it('CausePath and ErrorPath take a reference path to a string', async () => {
    const r = await run(single({ Type: 'Fail', ErrorPath: '$.e', CausePath: '$.c' }), { e: 'Custom.Error', c: 'why' });
    expect(r).toMatchObject({ status: 'FAILED', error: 'Custom.Error', cause: 'why' });
  });

  it('CausePath may be an intrinsic function that returns a string (States.Format)', async () => {
    const r = await run(single({ Type: 'Fail', Error: 'E', CausePath: "States.Format('cause: {}', $.c)" }), { c: 'x' });
    expect(r).toMatchObject({ error: 'E', cause: 'cause: x' });
  });

  it('a path that selects something else than a string fails the execution with States.Runtime', async () => {
    const r = await run(single({ Type: 'Fail', ErrorPath: '$.e' }), { e: 42 });
    expect(r.error).toBe('States.Runtime');
  });

  it('Cause and CausePath (Error and ErrorPath) cannot both be set', () => {
    expect(refused(single({ Type: 'Fail', Cause: 'c', CausePath: '$.c' }))).toBe(true);
    expect(refused(single({ Type: 'Fail', Error: 'e', ErrorPath: '$.e' }))).toBe(true);
  });
});
