import { describe, expect, it } from 'vitest';
import { Engine, type JsonObject, TaskFailure } from '../../../local/engine';
import { run, single } from './helpers';

// One case per statement of AWS's page "Accessing execution data from the Context object in Step Functions",
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html, and of the ItemSelector
// page's use of it, https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemselector.html.

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('input-output-contextobject.html#contextobject-access', () => {
  it('JSONata states read it as $states.context (the ExecutionID example)', async () => {
    const r = await run(
      single(
        { Type: 'Pass', Output: { ExecutionID: '{% $states.context.Execution.Id %}' } },
        { QueryLanguage: 'JSONata' },
      ),
    );
    expect((r.output as JsonObject)['ExecutionID']).toMatch(/^arn:aws:states:[a-z0-9-]+:\d{12}:execution:/);
  });

  it('JSONPath states read it with a key ending in .$ and a path starting with $$. (the ExecutionID example)', async () => {
    const r = await run(single({ Type: 'Pass', Parameters: { 'ExecutionID.$': '$$.Execution.Id' } }));
    expect((r.output as JsonObject)['ExecutionID']).toMatch(/^arn:aws:states:[a-z0-9-]+:\d{12}:execution:/);
  });

  it.each([
    ['InputPath', { Type: 'Pass', InputPath: '$$.State.Name' }, 'S'],
    ['OutputPath', { Type: 'Pass', OutputPath: '$$.State.Name' }, 'S'],
    ['Parameters', { Type: 'Pass', Parameters: { 'n.$': '$$.State.Name' } }, { n: 'S' }],
    [
      'ItemsPath (Map)',
      {
        Type: 'Map',
        ItemsPath: '$$.Execution.Input.list',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
      },
      [1, 2],
    ],
    [
      'ResultSelector',
      {
        Type: 'Parallel',
        Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', End: true } } }],
        ResultSelector: { 'n.$': '$$.State.Name' },
      },
      { n: 'S' },
    ],
  ])('JSONPath states may read it in %s', async (_field, state, expected) => {
    const r = await run(single(state as Record<string, unknown>), { list: [1, 2] });
    expect(r.output).toEqual(expected);
  });

  it.each([
    ['Variable (Choice)', { Variable: '$$.State.Name', StringEquals: 'C', Next: 'Yes' }],
    [
      'a variable-to-variable comparison (…Path)',
      { Variable: '$.name', StringEqualsPath: '$$.State.Name', Next: 'Yes' },
    ],
  ])('JSONPath states may read it in %s', async (_field, rule) => {
    const definition = {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [rule], Default: 'No' },
        Yes: { Type: 'Pass', Result: 'yes', End: true },
        No: { Type: 'Pass', Result: 'no', End: true },
      },
    };
    expect((await run(definition, { name: 'C' })).output).toBe('yes');
  });
});

describe('input-output-contextobject.html#contextobject-format', () => {
  it('holds Execution (Id, Input, Name, RoleArn, StartTime, RedriveCount), State, StateMachine', async () => {
    // Act
    const r = await run(
      single({ Type: 'Pass', Parameters: { 'ctx.$': '$$' } }),
      { key: 'value' },
      {
        name: 'my-run',
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName',
      },
    );
    const ctx = (r.output as { ctx: Record<string, Record<string, unknown>> }).ctx;
    // Assess
    expect(ctx['Execution']).toMatchObject({
      Id: 'arn:aws:states:us-east-1:123456789012:execution:stateMachineName:my-run',
      Input: { key: 'value' },
      Name: 'my-run',
      RoleArn: expect.any(String),
      RedriveCount: 0,
    });
    expect(ctx['Execution']?.['StartTime']).toMatch(ISO_8601);
    expect(ctx['State']).toMatchObject({ Name: 'S', EnteredTime: expect.stringMatching(ISO_8601) });
    expect(ctx['StateMachine']).toEqual({
      Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName',
      Name: 'stateMachineName',
    });
  });

  it('State.RetryCount counts the retries of the state', async () => {
    // Prepare: a Task that fails twice, then answers with its input
    let calls = 0;
    const handler = (req: { input: unknown }): unknown => {
      calls++;
      if (calls < 3) throw new TaskFailure('Flaky', 'again');
      return req.input;
    };
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { 'retry.$': '$$.State.RetryCount' },
      Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 3, IntervalSeconds: 1 }],
    };
    // Act
    const r = await run(single(state), {}, { handlers: { 'arn:aws:states:::lambda:invoke': handler } });
    // Assess
    expect(r.output).toEqual({ retry: 2 });
  });

  it('Task.Token is there for a task that waits for its token', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    let seen: unknown;
    engine.registerHandler('arn:aws:states:::sqs:sendMessage.waitForTaskToken', (req) => {
      seen = (req.input as { token: unknown }).token;
      queueMicrotask(() => engine.sendTaskSuccess(req.taskToken as string, '{}'));
      return {};
    });
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: { 'token.$': '$$.Task.Token' },
    });
    // Act
    const result = await engine.start(definition).done;
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(typeof seen).toBe('string');
    expect((seen as string).length).toBeGreaterThan(0);
  });

  it('RedriveTime is there only once the execution has been redriven', async () => {
    // Prepare: the first run fails in T; the redrive passes
    const engine = new Engine({ clock: 'virtual' });
    let attempt = 0;
    engine.registerHandler('arn:aws:states:::lambda:invoke', (req) => {
      attempt++;
      if (attempt === 1) throw new TaskFailure('First', 'fails');
      return req.input;
    });
    const definition = single({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { 'execution.$': '$$.Execution' },
    });
    // Act
    const first = await engine.start(definition, {}, { name: 'redriven' }).done;
    const second = await engine.redrive(first.executionArn).done;
    // Assess
    expect(first.status).toBe('FAILED');
    const execution = (second.output as { execution: JsonObject }).execution;
    expect(execution['RedriveCount']).toBe(1);
    expect(execution['RedriveTime']).toMatch(ISO_8601);
  });
});

describe('input-output-itemselector.html', () => {
  it('$$.Map.Item.Value holds each item: { size: 10, value.$: $$.Map.Item.Value } (the page example)', async () => {
    // Prepare
    const items = [
      { resize: 'true', format: 'jpg' },
      { resize: 'false', format: 'png' },
      { resize: 'true', format: 'jpg' },
    ];
    const definition = single({
      Type: 'Map',
      ItemSelector: { size: 10, 'value.$': '$$.Map.Item.Value' },
      ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
    });
    // Act
    const r = await run(definition, items);
    // Assess
    expect(r.output).toEqual(items.map((value) => ({ size: 10, value })));
  });

  it("$$.Map.Item.Index holds each item's index", async () => {
    const definition = single({
      Type: 'Map',
      ItemSelector: { 'index.$': '$$.Map.Item.Index' },
      ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
    });
    expect((await run(definition, ['a', 'b'])).output).toEqual([{ index: 0 }, { index: 1 }]);
  });
});
