import { describe, expect, it } from 'vitest';
import { run, single } from './helpers';

// Examples from the AWS Step Functions guide, "Processing input and output" (InputPath, Parameters,
// ResultSelector, ResultPath, OutputPath).

const inputPathExample = {
  comment: 'Example for InputPath.',
  dataset1: { val1: 1, val2: 2, val3: 3 },
  dataset2: { val1: 'a', val2: 'b', val3: 'c' },
};

const parametersExample = {
  comment: 'Example for Parameters.',
  product: {
    details: { color: 'blue', size: 'small', material: 'cotton' },
    availability: 'in stock',
    sku: '2317',
    cost: '$23',
  },
};

const resultPathInput = {
  comment: 'This is a test of the input and output of a Task state.',
  details: 'Default example',
  who: 'AWS Step Functions',
};

describe('JSONPath input and output processing', () => {
  it('selects part of the input with InputPath', async () => {
    // Prepare
    const def = single({ Type: 'Pass', InputPath: '$.dataset2' });
    // Act
    const r = await run(def, inputPathExample);
    // Assess
    expect(r.output).toEqual({ val1: 'a', val2: 'b', val3: 'c' });
  });

  it('builds a new input with Parameters, copying values from paths whose key ends in .$', async () => {
    // Prepare
    const def = single({
      Type: 'Pass',
      Parameters: {
        comment: 'Selecting what I care about.',
        MyDetails: { 'size.$': '$.product.details.size', 'exists.$': '$.product.availability', StaticValue: 'foo' },
      },
    });
    // Act
    const r = await run(def, parametersExample);
    // Assess
    expect(r.output).toEqual({
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    });
  });

  it.each([
    ['$ (the default) replaces the input with the result', '$', 'Hello, AWS Step Functions!'],
    ['null discards the result and keeps the input', null, resultPathInput],
    [
      '$.taskresult adds the result to the input',
      '$.taskresult',
      { ...resultPathInput, taskresult: 'Hello, AWS Step Functions!' },
    ],
    [
      '$.strings.lambdaresult creates the missing object on the way',
      '$.strings.lambdaresult',
      { ...resultPathInput, strings: { lambdaresult: 'Hello, AWS Step Functions!' } },
    ],
    [
      '$.details replaces an existing member',
      '$.details',
      { ...resultPathInput, details: 'Hello, AWS Step Functions!' },
    ],
  ])('ResultPath %s', async (_name, resultPath, expected) => {
    // Prepare
    const def = single({ Type: 'Pass', Result: 'Hello, AWS Step Functions!', ResultPath: resultPath });
    // Act
    const r = await run(def, resultPathInput);
    // Assess
    expect(r.output).toEqual(expected);
  });

  it('combines the result with the raw state input, not the InputPath selection', async () => {
    // Prepare
    const def = single({
      Type: 'Pass',
      InputPath: '$.dataset1',
      Parameters: { 'sum.$': '$.val3' },
      ResultPath: '$.picked',
    });
    // Act
    const r = await run(def, inputPathExample);
    // Assess
    expect(r.output).toEqual({ ...inputPathExample, picked: { sum: 3 } });
  });

  it('filters the combined output with OutputPath', async () => {
    // Prepare
    const def = single({ Type: 'Pass', Result: { answer: 42 }, ResultPath: '$.result', OutputPath: '$.result.answer' });
    // Act
    const r = await run(def, { question: 'life' });
    // Assess
    expect(r.output).toBe(42);
  });

  it('treats InputPath null and OutputPath null as an empty object', async () => {
    // Prepare
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', InputPath: null, ResultPath: '$.seen', Next: 'B' },
        B: { Type: 'Pass', OutputPath: null, End: true },
      },
    };
    // Act
    const r = await run(def, { secret: 1 });
    // Assess
    expect(r.output).toEqual({});
  });

  it('fails with States.Runtime when InputPath matches nothing, naming the path as AWS does', async () => {
    // Prepare
    const def = single({ Type: 'Pass', InputPath: '$.missing' });
    // Act
    const r = await run(def, { present: 1 });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toBe(
      "An error occurred while executing the state 'S' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']",
    );
  });

  it('fails with States.Runtime when a Parameters path matches nothing', async () => {
    // Prepare
    const def = single({ Type: 'Pass', Parameters: { 'x.$': '$.nope' } });
    // Act
    const r = await run(def, { a: 1 });
    // Assess
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toContain(
      "The JSONPath '$.nope' specified for the field 'x.$' could not be found in the input '{\"a\":1}'",
    );
  });

  it('fails with States.ResultPathMatchFailure when the result cannot be placed in the input', async () => {
    // Prepare
    const def = single({ Type: 'Pass', Result: 1, ResultPath: '$.a.b' });
    // Act
    const r = await run(def, { a: 'not an object' });
    // Assess
    expect(r.error).toBe('States.ResultPathMatchFailure');
  });

  it('returns every match of an indefinite path (filters, wildcards) as an array', async () => {
    // Prepare
    const def = single({
      Type: 'Pass',
      Parameters: {
        'cheap.$': '$.items[?(@.price < 10)].name',
        'all.$': '$.items[*].name',
        'count.$': '$.items.length()',
      },
    });
    const items = [
      { name: 'pen', price: 2 },
      { name: 'book', price: 20 },
      { name: 'cup', price: 5 },
    ];
    // Act
    const r = await run(def, { items });
    // Assess
    expect(r.output).toEqual({ cheap: ['pen', 'cup'], all: ['pen', 'book', 'cup'], count: 3 });
  });

  it('reads the context object with $$', async () => {
    // Prepare
    const def = single({
      Type: 'Pass',
      Parameters: { 'name.$': '$$.State.Name', 'input.$': '$$.Execution.Input', 'machine.$': '$$.StateMachine.Name' },
    });
    // Act
    const r = await run(
      def,
      { x: 1 },
      { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Pipeline' },
    );
    // Assess
    expect(r.output).toEqual({ name: 'S', input: { x: 1 }, machine: 'Pipeline' });
  });

  it('shapes a task result with ResultSelector before ResultPath', async () => {
    // Prepare
    const def = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::elasticmapreduce:createCluster.sync',
      ResultSelector: { 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' },
      ResultPath: '$.EMROutput',
    });
    const handlers = {
      'arn:aws:states:::elasticmapreduce:createCluster.sync': () => ({
        resourceType: 'elasticmapreduce',
        resource: 'createCluster.sync',
        output: { SdkHttpMetadata: { HttpStatusCode: 200 }, ClusterId: 'AKIAIOSFODNN7EXAMPLE' },
      }),
    };
    // Act
    const r = await run(def, { name: 'cluster' }, { handlers });
    // Assess
    expect(r.output).toEqual({
      name: 'cluster',
      EMROutput: { ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' },
    });
  });
});
