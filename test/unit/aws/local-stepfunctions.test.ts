import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../../adapters/aws/workflow';
import type { ExecutionInput } from '../../../core/intake/types';
import type { Runtime } from '../../../local/runtime';
import { removeDir, startTestRuntime, waitFor } from '../../local/runtime/support';

/**
 * The webhook's Step Functions client (the SDK's SFNClient, as `createSfnClient` makes it) against the local
 * runtime's Step Functions API over HTTP, as a webhook function whose `AWS_ENDPOINT_URL_SFN` names `stepline start`
 * calls it: a real server that parses `X-Amz-Target`, answers awsJson 1.0 and names its errors as Step Functions does.
 */

let runtime: Runtime;
let client: SFNClient;
let stateMachineArn: string;

const INPUT = { request: { provider: 'github' }, route: { environments: [] } } as unknown as ExecutionInput;

beforeAll(async () => {
  runtime = await startTestRuntime();
  client = createSfnClient({
    endpoint: runtime.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'stepline-local', secretAccessKey: 'stepline-local' },
    maxAttempts: 1,
  });
  const created = await client.send(
    new CreateStateMachineCommand({
      name: 'sdk-client-probe',
      roleArn: 'arn:aws:iam::000000000000:role/test',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
  stateMachineArn = created.stateMachineArn!;
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await runtime.stop();
  removeDir(runtime.stateDir);
});

describe("the webhook's Step Functions client against the local Step Functions API", () => {
  it('starts an execution that runs to its end', async () => {
    // Act
    const result = await new StepFunctionsWorkflowStarter(client, stateMachineArn).start({
      name: 'run-1',
      input: INPUT,
    });

    // Assess
    expect(result).toEqual({
      outcome: 'started',
      executionArn: expect.stringMatching(/:execution:sdk-client-probe:run-1$/),
    });
    const status = await waitFor('the end of run-1', async () => {
      const out = await client.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
      return out.status === 'RUNNING' ? undefined : out.status;
    });
    expect(status).toBe('SUCCEEDED');
  });

  it('answers duplicate when the name is taken by an execution with another input', async () => {
    // Prepare
    const starter = new StepFunctionsWorkflowStarter(client, stateMachineArn);
    await starter.start({ name: 'run-2', input: INPUT });

    // Act
    const again = await starter.start({ name: 'run-2', input: INPUT, inputJson: '{"another":"input"}' });

    // Assess
    expect(again).toEqual({ outcome: 'duplicate', executionArn: expect.stringMatching(/:run-2$/) });
  });

  it('names the error of a call the API refuses, as Step Functions does', async () => {
    // Act
    const error = await client
      .send(new StartExecutionCommand({ stateMachineArn: `${stateMachineArn}-missing`, name: 'x', input: '{}' }))
      .then(
        () => null,
        (e: unknown) => e,
      );

    // Assess
    expect(error).toMatchObject({ name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });
});
