import { describe, expect, it } from 'vitest';
import {
  Engine,
  InvalidDefinitionError,
  type StateMachineDefinition,
  TaskFailure,
  type TaskRequest,
} from '../../../local/engine';
import { details, eventsOf, run, types } from './helpers';

// Task states as the AWS guide describes them: "Task workflow state", "Discover service integration patterns"
// (request response, run a job .sync, wait for a callback .waitForTaskToken), and Lambda function resources.

function taskMachine(state: Record<string, unknown>): StateMachineDefinition {
  return { StartAt: 'T', States: { T: { Type: 'Task', ...state, End: true } } };
}

describe('Task handlers', () => {
  it('gives the handler the resolved Parameters, the pattern and the execution, and records the task events', async () => {
    // Prepare
    const seen: TaskRequest[] = [];
    const handlers = {
      'arn:aws:states:::codebuild:startBuild': (req: TaskRequest) => {
        seen.push(req);
        return { build: { id: 'b-1', buildStatus: 'IN_PROGRESS' } };
      },
    };
    const def = taskMachine({
      Resource: 'arn:aws:states:::codebuild:startBuild',
      Parameters: { ProjectName: 'app', 'SourceVersion.$': '$.sha' },
      TimeoutSeconds: 600,
      HeartbeatSeconds: 60,
    });
    // Act
    const r = await run(def, { sha: 'abc123' }, { handlers, name: 'push-1' });
    // Assess
    expect(r.output).toEqual({ build: { id: 'b-1', buildStatus: 'IN_PROGRESS' } });
    const req = seen[0] as TaskRequest;
    expect(req.input).toEqual({ ProjectName: 'app', SourceVersion: 'abc123' });
    expect(req.pattern).toBe('REQUEST_RESPONSE');
    expect(req.taskToken).toBeUndefined();
    expect(req.timeoutSeconds).toBe(600);
    expect(req.heartbeatSeconds).toBe(60);
    expect(req.execution).toMatchObject({ name: 'push-1', stateName: 'T', retryCount: 0 });
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'TaskScheduled')[0])).toEqual({
      resourceType: 'codebuild',
      resource: 'startBuild',
      region: 'us-east-1',
      parameters: '{"ProjectName":"app","SourceVersion":"abc123"}',
      timeoutInSeconds: 600,
      heartbeatInSeconds: 60,
    });
    expect(details(eventsOf(r.history, 'TaskSucceeded')[0])).toMatchObject({
      resourceType: 'codebuild',
      resource: 'startBuild',
    });
  });

  it('runs a job (.sync): records the start response as TaskSubmitted, then the job’s end as the result', async () => {
    // Prepare
    const handlers = {
      'arn:aws:states:::codebuild:startBuild.sync': async (req: TaskRequest) => {
        req.submitted({ build: { id: 'b-1', buildStatus: 'IN_PROGRESS' } });
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { build: { id: 'b-1', buildStatus: 'SUCCEEDED' } };
      },
    };
    // Act
    const r = await run(
      taskMachine({ Resource: 'arn:aws:states:::codebuild:startBuild.sync', Parameters: { ProjectName: 'app' } }),
      {},
      { handlers },
    );
    // Assess
    expect(r.output).toEqual({ build: { id: 'b-1', buildStatus: 'SUCCEEDED' } });
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'TaskSubmitted')[0])['output']).toBe(
      '{"build":{"id":"b-1","buildStatus":"IN_PROGRESS"}}',
    );
  });

  it('fails a .sync job with the handler’s error name and cause, which Catch matches', async () => {
    // Prepare
    const handlers = {
      'arn:aws:states:::codebuild:startBuild.sync': () => {
        throw new TaskFailure('CodeBuild.BuildFailed', 'phase BUILD failed');
      },
    };
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::codebuild:startBuild.sync',
          Catch: [{ ErrorEquals: ['CodeBuild.BuildFailed'], Next: 'Report' }],
          End: true,
        },
        Report: { Type: 'Pass', End: true },
      },
    };
    // Act
    const r = await run(def, {}, { handlers });
    // Assess
    expect(r.output).toEqual({ Error: 'CodeBuild.BuildFailed', Cause: 'phase BUILD failed' });
    expect(details(eventsOf(r.history, 'TaskFailed')[0])).toEqual({
      resourceType: 'codebuild',
      resource: 'startBuild.sync',
      error: 'CodeBuild.BuildFailed',
      cause: 'phase BUILD failed',
    });
  });

  it('names an error by the exception when a handler throws something else', async () => {
    // Prepare
    class ServiceException extends Error {
      public override name = 'Lambda.ServiceException';
    }
    const handlers = {
      'arn:aws:states:::lambda:invoke': () => {
        throw new ServiceException('Lambda is unavailable');
      },
    };
    // Act
    const r = await run(
      taskMachine({ Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'f' } }),
      {},
      { handlers },
    );
    // Assess
    expect(r.error).toBe('Lambda.ServiceException');
    expect(r.cause).toBe('Lambda is unavailable');
  });

  it('records LambdaFunction events for a Lambda function ARN', async () => {
    // Prepare
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:HelloWorld';
    const handlers = {
      'arn:aws:lambda:*:*:function:*': (req: TaskRequest) => ({ hello: (req.input as { who: string }).who }),
    };
    // Act
    const r = await run(taskMachine({ Resource: arn }), { who: 'world' }, { handlers });
    // Assess
    expect(r.output).toEqual({ hello: 'world' });
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'LambdaFunctionScheduled')[0])).toMatchObject({
      resource: arn,
      input: '{"who":"world"}',
    });
  });

  it('fails an unregistered Lambda function with Lambda.ResourceNotFoundException', async () => {
    // Act
    const r = await run(taskMachine({ Resource: 'arn:aws:lambda:us-east-1:123456789012:function:missing' }));
    // Assess
    expect(r.error).toBe('Lambda.ResourceNotFoundException');
    expect(types(r.history)).toContain('LambdaFunctionFailed');
  });

  it('rejects at start a service integration that no handler serves, as AWS rejects an unknown resource', () => {
    // Prepare
    const engine = new Engine();
    // Act / Assess
    expect(() => engine.start(taskMachine({ Resource: 'arn:aws:states:::sns:publish' }))).toThrow(
      InvalidDefinitionError,
    );
    expect(() => engine.start(taskMachine({ Resource: 'arn:aws:states:::sns:publish' }))).toThrow(
      'The resource provided arn:aws:states:::sns:publish is not recognized',
    );
  });

  it('rejects a Resource that is not a resource ARN at all, naming the field', async () => {
    // Act / Assess
    await expect(run(taskMachine({ Resource: 'not-an-arn' }))).rejects.toThrow('/States/T/Resource');
  });

  it('prefers an exact pattern, then the most specific wildcard, then the handler of the base resource', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    engine.registerHandler('arn:aws:states:::*', () => 'any service');
    engine.registerHandler('arn:aws:states:::lambda:*', () => 'any lambda action');
    engine.registerHandler('arn:aws:states:::lambda:invoke', () => 'lambda invoke');
    engine.registerHandler('arn:aws:states:::ecs:runTask', () => 'runTask');
    const outputOf = async (resource: string): Promise<unknown> =>
      (await engine.start(taskMachine({ Resource: resource })).done).output;
    // Act / Assess
    expect(await outputOf('arn:aws:states:::lambda:invoke')).toBe('lambda invoke');
    expect(await outputOf('arn:aws:states:::lambda:getFunction')).toBe('any lambda action');
    expect(await outputOf('arn:aws:states:::sqs:sendMessage')).toBe('any service');
    expect(await outputOf('arn:aws:states:::ecs:runTask.sync')).toBe('runTask');
  });

  it('times out a task after TimeoutSeconds with States.Timeout, aborting the handler', async () => {
    // Prepare
    let aborted = false;
    const handlers = {
      'arn:aws:states:::lambda:invoke': (req: TaskRequest) =>
        new Promise((_, reject) => {
          req.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    };
    // Act
    const r = await run(
      taskMachine({ Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 1 }),
      {},
      { handlers, clock: 'real' },
    );
    // Assess
    expect(r.error).toBe('States.Timeout');
    expect(types(r.history)).toContain('TaskTimedOut');
    expect(aborted).toBe(true);
  });
});

describe('task tokens (.waitForTaskToken)', () => {
  const resource = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
  const approval = (extra: Record<string, unknown> = {}): StateMachineDefinition =>
    taskMachine({
      Resource: resource,
      Parameters: { FunctionName: 'approve', Payload: { 'token.$': '$$.Task.Token', 'env.$': '$.env' } },
      ...extra,
    });

  /** An engine whose handler hands each token to the test. */
  function engineWithTokens(): { engine: Engine; tokens: string[]; requests: TaskRequest[] } {
    const engine = new Engine();
    const tokens: string[] = [];
    const requests: TaskRequest[] = [];
    engine.registerHandler(resource, (req) => {
      tokens.push(req.taskToken as string);
      requests.push(req);
      return { StatusCode: 202 };
    });
    return { engine, tokens, requests };
  }

  async function tokenOf(tokens: string[]): Promise<string> {
    while (tokens.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    return tokens[tokens.length - 1] as string;
  }

  it('waits for SendTaskSuccess and takes its output as the result', async () => {
    // Prepare
    const { engine, tokens, requests } = engineWithTokens();
    const started = engine.start(approval(), { env: 'prod' });
    const token = await tokenOf(tokens);
    // Act
    engine.sendTaskSuccess(token, '{"approved":true}');
    const r = await started.done;
    // Assess
    expect(r.output).toEqual({ approved: true });
    expect((requests[0] as TaskRequest).input).toEqual({ FunctionName: 'approve', Payload: { token, env: 'prod' } });
    expect((requests[0] as TaskRequest).pattern).toBe('WAIT_FOR_TASK_TOKEN');
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'TaskSubmitted')[0])['output']).toBe('{"StatusCode":202}');
  });

  it('fails the task with SendTaskFailure’s error and cause', async () => {
    // Prepare
    const { engine, tokens } = engineWithTokens();
    const started = engine.start(approval(), { env: 'prod' });
    // Act
    engine.sendTaskFailure(await tokenOf(tokens), 'Rejected', 'not today');
    const r = await started.done;
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Rejected');
    expect(r.cause).toBe('not today');
  });

  it('answers TaskTimedOut for a token already used, InvalidToken for garbage and TaskDoesNotExist for a token from a previous life', async () => {
    // Prepare
    const { engine, tokens } = engineWithTokens();
    const started = engine.start(approval(), { env: 'prod' });
    const token = await tokenOf(tokens);
    engine.sendTaskSuccess(token, '{}');
    await started.done;
    const sameSecretA = new Engine({ tokenSecret: 'kept-across-restarts' });
    const sameSecretB = new Engine({ tokenSecret: 'kept-across-restarts' });
    const issued: string[] = [];
    sameSecretA.registerHandler(resource, (req) => {
      issued.push(req.taskToken as string);
      return {};
    });
    sameSecretA.start(approval(), { env: 'x' });
    const oldToken = await tokenOf(issued);
    // Act / Assess
    expect(() => engine.sendTaskSuccess(token, '{}')).toThrow(expect.objectContaining({ code: 'TaskTimedOut' }));
    expect(() => engine.sendTaskHeartbeat('garbage')).toThrow(expect.objectContaining({ code: 'InvalidToken' }));
    expect(() => sameSecretB.sendTaskSuccess(oldToken, '{}')).toThrow(
      expect.objectContaining({ code: 'TaskDoesNotExist' }),
    );
    expect(() => engine.sendTaskSuccess(token.slice(0, -4), '{}')).toThrow(
      expect.objectContaining({ code: 'InvalidToken' }),
    );
  });

  it('refuses an output that is not JSON with InvalidOutput, and the task keeps waiting', async () => {
    // Prepare
    const { engine, tokens } = engineWithTokens();
    const started = engine.start(approval(), { env: 'prod' });
    const token = await tokenOf(tokens);
    // Act / Assess
    expect(() => engine.sendTaskSuccess(token, '{not json')).toThrow(
      expect.objectContaining({ code: 'InvalidOutput' }),
    );
    engine.sendTaskSuccess(token, '"ok"');
    expect((await started.done).output).toBe('ok');
  });

  it('fails with States.Timeout (as AWS names a missed heartbeat) when no heartbeat comes within HeartbeatSeconds, and keeps going while they come', async () => {
    // Prepare
    const { engine, tokens } = engineWithTokens();
    const started = engine.start(approval({ HeartbeatSeconds: 1, TimeoutSeconds: 30 }), { env: 'prod' });
    const token = await tokenOf(tokens);
    // Act
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      engine.sendTaskHeartbeat(token);
    }
    const r = await started.done;
    // Assess
    expect(r.error).toBe('States.Timeout');
    const timedOut = eventsOf(r.history, 'TaskTimedOut')[0];
    expect(details(timedOut)).toMatchObject({
      error: 'States.Timeout',
      cause: 'No heartbeat was received for 1 seconds.',
    });
    const elapsed =
      (timedOut?.timestamp.getTime() as number) -
      (eventsOf(r.history, 'TaskStarted')[0]?.timestamp.getTime() as number);
    expect(elapsed).toBeGreaterThanOrEqual(2400);
  });

  it('reads TimeoutSecondsPath from the input, and TimeoutSeconds and the token from JSONata', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const seen: TaskRequest[] = [];
    engine.registerHandler(resource, (req) => {
      seen.push(req);
      return {};
    });
    const byPath = taskMachine({
      Resource: resource,
      TimeoutSecondsPath: '$.timeout',
      Parameters: { 't.$': '$$.Task.Token' },
    });
    const byAta = {
      QueryLanguage: 'JSONata',
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: resource,
          TimeoutSeconds: '{% $states.input.timeout * 2 %}',
          Arguments: { token: '{% $states.context.Task.Token %}' },
          End: true,
        },
      },
    } as StateMachineDefinition;
    // Act
    const a = await engine.start(byPath, { timeout: 5 }).done;
    const b = await engine.start(byAta, { timeout: 5 }).done;
    // Assess
    expect([a.error, b.error]).toEqual(['States.Timeout', 'States.Timeout']);
    expect(seen.map((r) => r.timeoutSeconds)).toEqual([5, 10]);
    expect(
      seen.map((r) => (r.input as Record<string, string>)['t'] ?? (r.input as Record<string, string>)['token']),
    ).toEqual(seen.map((r) => r.taskToken));
  });

  it('does not time out a request-response task on HeartbeatSeconds: only token tasks heartbeat', async () => {
    // Prepare
    const handlers = {
      'arn:aws:states:::lambda:invoke': async () => {
        await new Promise((resolve) => setTimeout(resolve, 1200));
        return 'slow but fine';
      },
    };
    // Act
    const r = await run(
      taskMachine({ Resource: 'arn:aws:states:::lambda:invoke', HeartbeatSeconds: 1, TimeoutSeconds: 5 }),
      {},
      { handlers, clock: 'real' },
    );
    // Assess
    expect(r.output).toBe('slow but fine');
  });

  it('times a waiting task out at once on the virtual clock', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    engine.registerHandler(resource, () => ({}));
    // Act
    const r = await engine.start(approval({ TimeoutSeconds: 3600 }), { env: 'x' }).done;
    // Assess
    expect(r.error).toBe('States.Timeout');
  });
});
