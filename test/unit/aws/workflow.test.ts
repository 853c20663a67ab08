import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSfnClient, executionArnOf, StepFunctionsWorkflowStarter } from '../../../adapters/aws/workflow';
import { WorkflowUnavailableError } from '../../../core/intake/errors';
import type { ExecutionInput } from '../../../core/intake/types';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto/clients';
import { type MotoServer, startMoto } from '../../support/moto/server';
import { awsError, requestTimeout, startedExecution, stubHttp } from './stub-http';

/**
 * The Step Functions starter through the SDK's SFNClient. What a stand-in can answer, moto_server answers (its
 * Step Functions keeps executions RUNNING and applies AWS's name-and-input idempotency); throttling, a 5xx and a
 * timeout come from HTTP stubbed under the client, the SDK's own retries running with no wait between attempts.
 */

const INPUT = { request: { provider: 'github' }, route: {} } as unknown as ExecutionInput;
const STUB_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

let moto: MotoServer;
let sfn: SFNClient;
let stateMachineArn: string;

beforeAll(async () => {
  moto = await startMoto();
}, 30_000);

afterAll(async () => {
  sfn?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: 'stepline-pipeline',
      roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
  stateMachineArn = created.stateMachineArn!;
});

describe('the Step Functions starter against moto', () => {
  it('starts an execution under the name it is given, with the input as JSON', async () => {
    // Act
    const result = await new StepFunctionsWorkflowStarter(sfn, stateMachineArn).start({ name: 'run-1', input: INPUT });

    // Assess
    expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(stateMachineArn, 'run-1') });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(execution).toMatchObject({ name: 'run-1', status: 'RUNNING' });
    expect(JSON.parse(execution.input!)).toEqual(INPUT);
  });

  it('sends the input JSON it is given as it is', async () => {
    // Prepare
    const inputJson = '{"request":{"provider":"github"},  "route":{}}';

    // Act
    const result = await new StepFunctionsWorkflowStarter(sfn, stateMachineArn).start({
      name: 'run-0',
      input: INPUT,
      inputJson,
    });

    // Assess
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(execution.input).toBe(inputJson);
  });

  it('answers started with the same ARN for a redelivery while the execution runs with the same input', async () => {
    // Prepare
    const starter = new StepFunctionsWorkflowStarter(sfn, stateMachineArn);
    const first = await starter.start({ name: 'run-2', input: INPUT });

    // Act
    const again = await starter.start({ name: 'run-2', input: INPUT });

    // Assess
    expect(again).toEqual({ outcome: 'started', executionArn: first.executionArn });
  });

  it('answers duplicate for a redelivery that comes while the execution runs, later than the first start', async () => {
    // Prepare: the redelivery comes a minute after the delivery (the starter's clock says so).
    let now = Date.now();
    const starter = new StepFunctionsWorkflowStarter(sfn, stateMachineArn, () => now);
    const first = await starter.start({ name: 'run-5', input: INPUT });
    now += 60_000;

    // Act
    const again = await starter.start({ name: 'run-5', input: INPUT });

    // Assess: Step Functions answers the running execution's own start date, a minute before this call.
    expect(first.outcome).toBe('started');
    expect(again).toEqual({ outcome: 'duplicate', executionArn: first.executionArn });
  });

  it('answers duplicate (ExecutionAlreadyExists) for a redelivery once the execution has closed', async () => {
    // Prepare
    const starter = new StepFunctionsWorkflowStarter(sfn, stateMachineArn);
    const first = await starter.start({ name: 'run-3', input: INPUT });
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    // Act
    const again = await starter.start({ name: 'run-3', input: INPUT });

    // Assess
    expect(again).toEqual({ outcome: 'duplicate', executionArn: executionArnOf(stateMachineArn, 'run-3') });
  });

  it('answers duplicate for the same name with another input', async () => {
    // Prepare
    const starter = new StepFunctionsWorkflowStarter(sfn, stateMachineArn);
    await starter.start({ name: 'run-4', input: INPUT });

    // Act
    const again = await starter.start({ name: 'run-4', input: INPUT, inputJson: '{"another":"input"}' });

    // Assess
    expect(again.outcome).toBe('duplicate');
  });

  it('fails at once, without retrying, with WorkflowUnavailableError when the state machine does not exist', async () => {
    // Act
    const error = await new StepFunctionsWorkflowStarter(sfn, `${stateMachineArn}-missing`)
      .start({ name: 'run-5', input: INPUT })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WorkflowUnavailableError);
    expect((error as Error).message).toMatch(
      /^StartExecution of run-5 failed: StateMachineDoesNotExist: .*\(HTTP 400, 1 attempt\)$/,
    );
  });

  it('finds its endpoint in AWS_ENDPOINT_URL_SFN, as the SDK reads it', async () => {
    // Prepare
    const saved = process.env['AWS_ENDPOINT_URL_SFN'];
    process.env['AWS_ENDPOINT_URL_SFN'] = moto.endpoint;
    const client = createSfnClient({ region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });

    // Act
    try {
      const result = await new StepFunctionsWorkflowStarter(client, stateMachineArn).start({
        name: 'run-6',
        input: INPUT,
      });

      // Assess
      expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(stateMachineArn, 'run-6') });
    } finally {
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_SFN'];
      else process.env['AWS_ENDPOINT_URL_SFN'] = saved;
      client.destroy();
    }
  });
});

describe('the Step Functions starter when Step Functions throttles, fails or does not answer (stubbed HTTP)', () => {
  function stubbed(...answers: Parameters<ReturnType<typeof stubHttp>['enqueue']>) {
    const http = stubHttp(startedExecution);
    http.enqueue(...answers);
    const client = createSfnClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: http.requestHandler,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
    });
    return { http, starter: new StepFunctionsWorkflowStarter(client, STUB_ARN) };
  }

  it('retries a 5xx and starts the execution', async () => {
    // Prepare
    const { http, starter } = stubbed(awsError(503, 'ServiceUnavailable', 'try again'));

    // Act
    const result = await starter.start({ name: 'run-1', input: INPUT });

    // Assess
    expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(STUB_ARN, 'run-1') });
    expect(http.calls('StartExecution')).toHaveLength(2);
  });

  it('gives up after three throttled attempts with WorkflowUnavailableError, naming the error', async () => {
    // Prepare
    const throttled = awsError(400, 'ThrottlingException', 'Rate exceeded');
    const { http, starter } = stubbed(throttled, throttled, throttled);

    // Act
    const error = await starter.start({ name: 'run-2', input: INPUT }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WorkflowUnavailableError);
    expect((error as Error).message).toBe(
      'StartExecution of run-2 failed: ThrottlingException: Rate exceeded (HTTP 400, 3 attempts)',
    );
    expect(http.requests).toHaveLength(3);
  });

  it('gives up after three attempts that timed out', async () => {
    // Prepare
    const { http, starter } = stubbed(requestTimeout(), requestTimeout(), requestTimeout());

    // Act
    const error = await starter.start({ name: 'run-3', input: INPUT }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WorkflowUnavailableError);
    expect((error as Error).message).toMatch(/^StartExecution of run-3 failed: TimeoutError: .*3 attempts\)$/);
    expect(http.requests).toHaveLength(3);
  });
});
