import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { removeDir, sfnClient, startTestRuntime, waitFor } from '../runtime/support';

/**
 * The local Step Functions API, held against the real AWS SDK v3 client: what a caller of StartExecution,
 * DescribeExecution, ListExecutions, GetExecutionHistory, StopExecution, the task token calls and
 * RedriveExecution sees, errors included.
 */

const ROLE = 'arn:aws:iam::000000000000:role/test';

let runtime: Runtime;
let sfn: SFNClient;
/** Task tokens handed to the `hold` function, by the `key` of its payload. */
const tokens = new Map<string, string>();
let flaky = 0;

async function machine(name: string, definition: Record<string, unknown>): Promise<string> {
  const out = await sfn.send(
    new CreateStateMachineCommand({ name, roleArn: ROLE, definition: JSON.stringify(definition) }),
  );
  return out.stateMachineArn as string;
}

async function settled(executionArn: string): Promise<string> {
  return waitFor(`the end of ${executionArn}`, async () => {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING' ? undefined : (out.status as string);
  });
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

const WAIT_FOREVER = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } };
const HOLD = {
  QueryLanguage: 'JSONata',
  StartAt: 'Hold',
  States: {
    Hold: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Arguments: {
        FunctionName: 'test-hold',
        Payload: { token: '{% $states.context.Task.Token %}', key: '{% $states.input.key %}' },
      },
      TimeoutSeconds: 60,
      End: true,
    },
  },
};

beforeAll(async () => {
  runtime = await startTestRuntime();
  sfn = sfnClient(runtime);
  runtime.lambda.register({
    name: 'test-hold',
    handler: async (event) => {
      const e = event as { token: string; key: string };
      tokens.set(e.key, e.token);
      return { held: true };
    },
  });
  runtime.lambda.register({
    name: 'test-flaky',
    handler: async () => {
      flaky += 1;
      if (flaky === 1) {
        const error = new Error('the first call always fails');
        error.name = 'FlakyError';
        throw error;
      }
      return { calls: flaky };
    },
  });
});

afterAll(async () => {
  sfn.destroy();
  await runtime.stop();
  removeDir(runtime.stateDir);
});

describe('state machines', () => {
  it('creates a state machine once and answers the same ARN for the same definition', async () => {
    // Prepare
    const definition = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    // Act
    const first = await sfn.send(new CreateStateMachineCommand({ name: 'same', roleArn: ROLE, definition }));
    const second = await sfn.send(new CreateStateMachineCommand({ name: 'same', roleArn: ROLE, definition }));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: first.stateMachineArn }));
    // Assess
    expect(second.stateMachineArn).toBe(first.stateMachineArn);
    expect(first.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:same');
    expect(described).toMatchObject({ name: 'same', definition, roleArn: ROLE, type: 'STANDARD', status: 'ACTIVE' });
    expect(described.creationDate).toBeInstanceOf(Date);
  });

  it('refuses another definition under an existing name with StateMachineAlreadyExists', async () => {
    // Prepare
    await machine('taken', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    // Act
    const error = await failure(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'taken',
          roleArn: ROLE,
          definition: JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Succeed' } } }),
        }),
      ),
    );
    // Assess
    expect(error).toMatchObject({ name: 'StateMachineAlreadyExists', status: 400 });
  });

  it('refuses an invalid definition with InvalidDefinition naming the problem', async () => {
    // Act
    const error = await failure(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'broken',
          roleArn: ROLE,
          definition: JSON.stringify({ StartAt: 'Nowhere', States: { P: { Type: 'Pass', End: true } } }),
        }),
      ),
    );
    // Assess
    expect(error.name).toBe('InvalidDefinition');
    expect(error.message).toContain('Nowhere');
  });

  it('lists the pipeline state machine the runtime created at start', async () => {
    // Act
    const out = await sfn.send(new ListStateMachinesCommand({}));
    // Assess
    expect(out.stateMachines?.map((m) => m.stateMachineArn)).toContain(runtime.stateMachineArn);
  });
});

describe('executions', () => {
  it('answers the same ARN for the same name and input while running, and ExecutionAlreadyExists otherwise', async () => {
    // Prepare
    const arn = await machine('idempotent', WAIT_FOREVER);
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'run-1', input: '{"a":1}' }),
    );
    // Act
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'run-1', input: '{ "a": 1 }' }),
    );
    const otherInput = await failure(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'run-1', input: '{"a":2}' })),
    );
    await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn }));
    const afterEnd = await failure(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'run-1', input: '{"a":1}' })),
    );
    // Assess
    expect(again.executionArn).toBe(started.executionArn);
    expect(again.startDate?.getTime()).toBe(started.startDate?.getTime());
    expect(otherInput).toMatchObject({ name: 'ExecutionAlreadyExists', status: 400 });
    expect(afterEnd.name).toBe('ExecutionAlreadyExists');
  });

  it.each([
    [
      'an unknown execution',
      new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:nope:x' }),
      'ExecutionDoesNotExist',
    ],
    ['a malformed ARN', new DescribeExecutionCommand({ executionArn: 'not-an-arn' }), 'InvalidArn'],
    [
      'an unknown state machine',
      new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope' }),
      'StateMachineDoesNotExist',
    ],
    [
      'input that is not JSON',
      new StartExecutionCommand({
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:stepline-pipeline',
        input: '{nope',
      }),
      'InvalidExecutionInput',
    ],
  ])('answers %s with %s', async (_case, command, code) => {
    // Act
    const error = await failure(sfn.send(command as never));
    // Assess
    expect(error).toMatchObject({ name: code, status: 400 });
  });

  it('refuses a name with forbidden characters with InvalidName', async () => {
    // Prepare
    const arn = await machine('names', WAIT_FOREVER);
    // Act
    const error = await failure(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'has space' })));
    // Assess
    expect(error.name).toBe('InvalidName');
  });

  it('lists executions newest first, by status, page by page', async () => {
    // Prepare
    const arn = await machine('listing', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    const waiting = await machine('listing-waits', WAIT_FOREVER);
    for (let i = 1; i <= 5; i++) {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: `e${i}` }));
    }
    const running = await sfn.send(new StartExecutionCommand({ stateMachineArn: waiting, name: 'still-running' }));
    // Act
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 2, nextToken }));
      names.push(...(page.executions ?? []).map((e) => e.name as string));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);
    const runningOnly = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: waiting, statusFilter: 'RUNNING' }),
    );
    const succeededOnly = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: waiting, statusFilter: 'SUCCEEDED' }),
    );
    const badToken = await failure(sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, nextToken: 'garbage' })));
    // Assess
    expect(names).toEqual(['e5', 'e4', 'e3', 'e2', 'e1']);
    expect(pages).toBe(3);
    expect(runningOnly.executions?.map((e) => e.executionArn)).toEqual([running.executionArn]);
    expect(succeededOnly.executions).toEqual([]);
    expect(badToken.name).toBe('InvalidToken');
    await sfn.send(new StopExecutionCommand({ executionArn: running.executionArn }));
  });

  it('pages the history in both orders, with or without the execution data', async () => {
    // Prepare
    const arn = await machine('history', {
      StartAt: 'A',
      States: { A: { Type: 'Pass', Result: { secret: 'value' }, Next: 'B' }, B: { Type: 'Pass', End: true } },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{"in":1}' }));
    await settled(executionArn as string);
    // Act
    const forward: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3, nextToken }));
      forward.push(...(page.events ?? []).map((e) => `${e.id}:${e.type}`));
      nextToken = page.nextToken;
    } while (nextToken);
    const reverse = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2 }));
    const withoutData = await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }));
    const withData = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    // Assess
    expect(forward).toEqual([
      '1:ExecutionStarted',
      '2:PassStateEntered',
      '3:PassStateExited',
      '4:PassStateEntered',
      '5:PassStateExited',
      '6:ExecutionSucceeded',
    ]);
    expect(reverse.events?.map((e) => e.id)).toEqual([6, 5]);
    expect(reverse.nextToken).toBeDefined();
    expect(withData.events?.[0]?.executionStartedEventDetails?.input).toBe('{"in":1}');
    expect(withoutData.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();
    expect(withoutData.events?.[2]?.stateExitedEventDetails?.output).toBeUndefined();
    expect(withData.events?.[0]?.timestamp).toBeInstanceOf(Date);
  });

  it('stops a running execution: ABORTED with the error and cause given', async () => {
    // Prepare
    const arn = await machine('stopping', WAIT_FOREVER);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    // Act
    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Stepline.Superseded', cause: 'newer push' }),
    );
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
    // Assess
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Stepline.Superseded', cause: 'newer push' });
    expect(history.events?.[0]?.type).toBe('ExecutionAborted');
  });
});

describe('task tokens', () => {
  it('continues a waiting task with SendTaskSuccess, and then answers TaskTimedOut for the same token', async () => {
    // Prepare
    const arn = await machine('tokens-success', HOLD);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{"key":"ok"}' }));
    const token = await waitFor('the task token', () => tokens.get('ok'));
    // Act
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    const status = await settled(executionArn as string);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const late = await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })));
    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual({ approved: true });
    expect(late.name).toBe('TaskTimedOut');
  });

  it('fails a waiting task with SendTaskFailure: the execution fails with that error', async () => {
    // Prepare
    const arn = await machine('tokens-failure', HOLD);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{"key":"no"}' }));
    const token = await waitFor('the task token', () => tokens.get('no'));
    // Act
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Stepline.ApprovalRejected', cause: 'not now' }),
    );
    await settled(executionArn as string);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    // Assess
    expect(described).toMatchObject({ status: 'FAILED', error: 'Stepline.ApprovalRejected', cause: 'not now' });
  });

  it('answers InvalidToken for a token it never issued', async () => {
    // Act
    const error = await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: 'AQnot-a-token', output: '{}' })));
    // Assess
    expect(error).toMatchObject({ name: 'InvalidToken', status: 400 });
  });
});

describe('lambda tasks and redrive', () => {
  it('fails a task as Step Functions does when the function throws, and redrives the execution to success', async () => {
    // Prepare
    const arn = await machine('redrive', {
      QueryLanguage: 'JSONata',
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Assign: { seen: 'first' }, Next: 'Call' },
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:test-flaky', Payload: {} },
          Output: '{% {"calls": $states.result.Payload.calls, "status": $states.result.StatusCode, "seen": $seen} %}',
          End: true,
        },
      },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    await settled(executionArn as string);
    const failed = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    // Act
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const status = await settled(executionArn as string);
    const redriven = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const notAgain = await failure(sfn.send(new RedriveExecutionCommand({ executionArn })));
    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', error: 'FlakyError', redriveStatus: 'REDRIVABLE' });
    expect(JSON.parse(failed.cause as string)).toMatchObject({
      errorType: 'FlakyError',
      errorMessage: 'the first call always fails',
    });
    expect(status).toBe('SUCCEEDED');
    expect(redriven.redriveCount).toBe(1);
    expect(JSON.parse(redriven.output as string)).toEqual({ calls: 2, status: 200, seen: 'first' });
    expect(history.events?.map((e) => e.type)).toContain('ExecutionRedriven');
    expect(notAgain.name).toBe('ExecutionNotRedrivable');
  });
});

describe('the wire format', () => {
  it("answers errors in AWS's shape: __type, message, x-amzn-ErrorType, status 400", async () => {
    // Act
    const response = await fetch(runtime.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.DescribeExecution' },
      body: JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:nope:x' }),
    });
    const body = (await response.json()) as Record<string, string>;
    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ExecutionDoesNotExist');
    expect(body['__type']).toMatch(/#ExecutionDoesNotExist$/);
    expect(body['message']).toContain('nope:x');
  });

  it('answers an operation it does not serve with UnknownOperationException', async () => {
    // Act
    const response = await fetch(runtime.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.CreateActivity' },
      body: '{}',
    });
    // Assess
    expect(response.status).toBe(400);
    expect(((await response.json()) as Record<string, string>)['__type']).toMatch(/UnknownOperationException$/);
  });
});
