import { type SFNClient, TestStateCommand, type TestStateCommandInput } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { failure, sfnClient } from '../../clients/aws-support';
import { removeDir, startTestRuntime } from '../runtime/support';

/**
 * TestState on the local runtime, held against the AWS SDK v3 client: each state type, the inspection data of
 * DEBUG, Retry (RETRIABLE) and Catch (CAUGHT_ERROR), variables, a state of a whole machine, mocks, and the errors
 * the API reference lists.
 */

let runtime: Runtime;
let sfn: SFNClient;

function test(state: Record<string, unknown>, extra: Partial<TestStateCommandInput> = {}) {
  return sfn.send(new TestStateCommand({ definition: JSON.stringify(state), ...extra }));
}

const INVOKE = 'arn:aws:states:::lambda:invoke';

beforeAll(async () => {
  runtime = await startTestRuntime();
  sfn = sfnClient(runtime.url, { disableHostPrefix: true });
  runtime.lambda.register({
    name: 'test-state-double',
    handler: async (event) => ({ doubled: (event as { n: number }).n * 2 }),
  });
  runtime.lambda.register({
    name: 'test-state-broken',
    handler: async () => {
      const error = new Error('the backend is down');
      error.name = 'BackendDown';
      throw error;
    },
  });
});

afterAll(async () => {
  sfn.destroy();
  await runtime.stop();
  removeDir(runtime.stateDir);
});

describe('states without a service call', () => {
  it('shows each step of a JSONPath Pass state at DEBUG, and the state it goes to next', async () => {
    // Act
    const out = await test(
      {
        Type: 'Pass',
        InputPath: '$.order',
        Parameters: { 'id.$': '$.id', fixed: true },
        ResultPath: '$.picked',
        OutputPath: '$.picked',
        Next: 'Ship',
      },
      { input: '{"order":{"id":7,"qty":2}}', inspectionLevel: 'DEBUG' },
    );
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', nextState: 'Ship', output: '{"id":7,"fixed":true}' });
    expect(out.inspectionData).toMatchObject({
      input: '{"order":{"id":7,"qty":2}}',
      afterInputPath: '{"id":7,"qty":2}',
      afterParameters: '{"id":7,"fixed":true}',
      result: '{"id":7,"fixed":true}',
      afterResultSelector: '{"id":7,"fixed":true}',
      afterResultPath: '{"order":{"id":7,"qty":2},"picked":{"id":7,"fixed":true}}',
    });
  });

  it('answers INFO without inspection data', async () => {
    // Act
    const out = await test({ Type: 'Pass', End: true }, { input: '{"a":1}' });
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', output: '{"a":1}' });
    expect(out.inspectionData).toBeUndefined();
    expect(out.nextState).toBeUndefined();
  });

  it.each([
    ['a rule that matches', '{"n":5}', { status: 'SUCCEEDED', nextState: 'Big' }],
    ['no rule, to the Default', '{"n":1}', { status: 'SUCCEEDED', nextState: 'Small' }],
  ])('follows a Choice state: %s', async (_case, input, expected) => {
    // Act
    const out = await test(
      { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThan: 3, Next: 'Big' }], Default: 'Small' },
      { input },
    );
    // Assess
    expect(out).toMatchObject({ ...expected, output: input });
  });

  it('fails a Choice state that no rule matches, and a Fail state, with their error and cause', async () => {
    // Act
    const unmatched = await test(
      { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThan: 3, Next: 'Big' }] },
      { input: '{"n":1}' },
    );
    const fail = await test({ Type: 'Fail', Error: 'Stepline.Nope', Cause: 'on purpose' });
    // Assess
    expect(unmatched).toMatchObject({ status: 'FAILED', error: 'States.NoChoiceMatched' });
    expect(fail).toMatchObject({ status: 'FAILED', error: 'Stepline.Nope', cause: 'on purpose' });
  });

  it('does not wait in a Wait state', async () => {
    // Prepare
    const started = Date.now();
    // Act
    const out = await test({ Type: 'Wait', Seconds: 3600, Next: 'After' });
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', nextState: 'After' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('starts from the variables given, and shows the ones the state assigns', async () => {
    // Act
    const out = await test(
      {
        Type: 'Pass',
        QueryLanguage: 'JSONata',
        Output: '{% {"total": $price * $states.input.qty} %}',
        Assign: { seen: '{% $price %}' },
        End: true,
      },
      { input: '{"qty":3}', variables: '{"price":4}', inspectionLevel: 'DEBUG' },
    );
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', output: '{"total":12}' });
    expect(JSON.parse(out.inspectionData?.variables as string)).toEqual({ price: 4, seen: 4 });
  });

  it('tests the state a whole state machine names with stateName', async () => {
    // Prepare
    const machine = {
      QueryLanguage: 'JSONata',
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Next: 'Second' },
        Second: { Type: 'Pass', Output: '{% $states.input.a + 1 %}', Next: 'Third' },
        Third: { Type: 'Succeed' },
      },
    };
    // Act
    const out = await test(machine, { stateName: 'Second', input: '{"a":1}' });
    const missing = await failure(test(machine, { stateName: 'Nope' }));
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', output: '2', nextState: 'Third' });
    expect(missing.name).toBe('ValidationException');
  });
});

describe('Task states', () => {
  it('calls the function and shows the arguments and the result at DEBUG', async () => {
    // Act
    const out = await test(
      {
        Type: 'Task',
        QueryLanguage: 'JSONata',
        Resource: INVOKE,
        Arguments: { FunctionName: 'test-state-double', Payload: { n: '{% $states.input.n %}' } },
        Output: '{% $states.result.Payload %}',
        Next: 'Done',
      },
      { input: '{"n":21}', inspectionLevel: 'DEBUG' },
    );
    // Assess
    expect(out).toMatchObject({ status: 'SUCCEEDED', output: '{"doubled":42}', nextState: 'Done' });
    expect(JSON.parse(out.inspectionData?.afterArguments as string)).toEqual({
      FunctionName: 'test-state-double',
      Payload: { n: 21 },
    });
    expect(JSON.parse(out.inspectionData?.result as string)).toMatchObject({
      Payload: { doubled: 42 },
      StatusCode: 200,
    });
  });

  const retried = {
    Type: 'Task',
    Resource: INVOKE,
    Parameters: { FunctionName: 'test-state-broken' },
    Retry: [{ ErrorEquals: ['BackendDown'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 2 }],
    Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recover', ResultPath: '$.error' }],
    End: true,
  };

  it('answers RETRIABLE for an error a Retrier matches, with the retrier and its backoff', async () => {
    // Act
    const first = await test(retried, { inspectionLevel: 'DEBUG' });
    const second = await test(retried, { inspectionLevel: 'DEBUG', stateConfiguration: { retrierRetryCount: 1 } });
    // Assess
    expect(first).toMatchObject({ status: 'RETRIABLE', error: 'BackendDown' });
    expect(first.cause).toContain('the backend is down');
    expect(first.nextState).toBeUndefined();
    expect(first.inspectionData?.errorDetails).toEqual({ retryIndex: 0, retryBackoffIntervalSeconds: 2 });
    expect(second.inspectionData?.errorDetails).toEqual({ retryIndex: 0, retryBackoffIntervalSeconds: 6 });
  });

  it('answers CAUGHT_ERROR once the retries are used up, with the catcher output and its Next', async () => {
    // Act
    const out = await test(retried, {
      input: '{"a":1}',
      inspectionLevel: 'DEBUG',
      stateConfiguration: { retrierRetryCount: 2 },
    });
    // Assess
    expect(out).toMatchObject({ status: 'CAUGHT_ERROR', nextState: 'Recover', error: 'BackendDown' });
    expect(JSON.parse(out.output as string)).toMatchObject({ a: 1, error: { Error: 'BackendDown' } });
    expect(out.inspectionData?.errorDetails).toEqual({ catchIndex: 0 });
  });

  it('answers FAILED for an error nothing handles', async () => {
    // Act
    const out = await test({
      Type: 'Task',
      Resource: INVOKE,
      Parameters: { FunctionName: 'test-state-broken' },
      End: true,
    });
    // Assess
    expect(out).toMatchObject({ status: 'FAILED', error: 'BackendDown' });
  });

  it('answers a mock instead of calling the service, for a callback task and for a Map state', async () => {
    // Act
    const callback = await test(
      {
        Type: 'Task',
        Resource: `${INVOKE}.waitForTaskToken`,
        Parameters: { FunctionName: 'nobody', 'token.$': '$$.Task.Token' },
        ResultSelector: { 'approved.$': '$.approved' },
        End: true,
      },
      { mock: { result: '{"approved":true,"by":"me"}' } },
    );
    const error = await test(
      { Type: 'Task', Resource: INVOKE, Parameters: { FunctionName: 'nobody' }, End: true },
      { mock: { errorOutput: { error: 'Lambda.TooManyRequestsException', cause: 'slow down' } } },
    );
    const map = await test(
      {
        Type: 'Map',
        ItemProcessor: { StartAt: 'Each', States: { Each: { Type: 'Pass', End: true } } },
        ResultPath: '$.all',
        End: true,
      },
      { input: '{"items":[1]}', mock: { result: '[10,20]' } },
    );
    // Assess
    expect(callback).toMatchObject({ status: 'SUCCEEDED', output: '{"approved":true}' });
    expect(error).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException', cause: 'slow down' });
    expect(map).toMatchObject({ status: 'SUCCEEDED', output: '{"items":[1],"all":[10,20]}' });
  });
});

describe('errors', () => {
  it.each([
    ['a definition that is not JSON', { definition: '{nope' }, 'InvalidDefinition'],
    [
      'a state machine without stateName',
      { definition: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
      'InvalidDefinition',
    ],
    ['an invalid state', { definition: '{"Type":"Pass","Next":3}' }, 'InvalidDefinition'],
    ['input that is not JSON', { definition: '{"Type":"Pass","End":true}', input: '{nope' }, 'InvalidExecutionInput'],
    ['a malformed role ARN', { definition: '{"Type":"Pass","End":true}', roleArn: 'role' }, 'InvalidArn'],
    [
      'an unknown inspection level',
      { definition: '{"Type":"Pass","End":true}', inspectionLevel: 'LOUD' },
      'ValidationException',
    ],
    [
      'a callback task without a mock',
      { definition: JSON.stringify({ Type: 'Task', Resource: `${INVOKE}.waitForTaskToken`, End: true }) },
      'ValidationException',
    ],
    [
      'a mock for a Pass state',
      { definition: '{"Type":"Pass","End":true}', mock: { result: '{}' } },
      'ValidationException',
    ],
    ['a context without a mock', { definition: '{"Type":"Pass","End":true}', context: '{}' }, 'ValidationException'],
  ])('refuses %s with %s', async (_case, input, code) => {
    // Act
    const error = await failure(sfn.send(new TestStateCommand(input as TestStateCommandInput)));
    // Assess
    expect(error).toMatchObject({ name: code, status: 400 });
  });
});
