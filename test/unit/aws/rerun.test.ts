import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsRerunStarter, stateMachineArnOf } from '../../../adapters/aws/rerun';
import { createSfnClient, executionArnOf, StepFunctionsWorkflowStarter } from '../../../adapters/aws/workflow';
import { IntakeError, WorkflowUnavailableError } from '../../../core/intake/errors';
import type { RerunRequest } from '../../../core/intake/rerun';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto/clients';
import { type MotoServer, startMoto } from '../../support/moto/server';
import { awsError, stubHttp } from './stub-http';

/**
 * GitHub's "Re-run" on a check run, on Step Functions (docs/adr/0091): DescribeExecution of the run the check run
 * names, StartExecution of its input under the re-run's name. moto_server's Step Functions answers both (its
 * executions stay RUNNING until stopped, and it applies AWS's name-and-input idempotency); a throttled
 * DescribeExecution comes from HTTP stubbed under the client.
 */

const SHA = 'd6fde92930d4715a2b49857d24b940956b26d2d3';
// As the webhook started it: serialized once, with the spacing of its own JSON.
const INPUT_JSON = JSON.stringify({
  request: { provider: 'github', repository: { fullName: 'github/hello-world' }, commit: { sha: SHA } },
  route: { environments: ['staging'] },
});

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

async function createStateMachine(name: string): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      roleArn: `arn:aws:iam::123456789012:role/${name}`,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
  return created.stateMachineArn!;
}

beforeEach(async () => {
  await moto.reset();
  sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
  stateMachineArn = await createStateMachine('stepline-pipeline');
});

/** A run that has ended, as GitHub's "Re-run" finds it. */
async function finishedRun(name = 'github-hello-world-d6fde92-1', input = INPUT_JSON, machine = stateMachineArn) {
  const arn = (
    await new StepFunctionsWorkflowStarter(sfn, machine).start({ name, input: JSON.parse(input), inputJson: input })
  ).executionArn;
  await sfn.send(new StopExecutionCommand({ executionArn: arn }));
  return arn;
}

function rerunOf(executionArn: string, sha = SHA): RerunRequest {
  return {
    deliveryId: 'a1b2c3d4-0000-4000-8000-000000000001',
    repository: 'github/hello-world',
    sha,
    checkName: 'stepline/build',
    executionArn,
    sender: 'octocat',
  };
}

async function executionNames(machine = stateMachineArn): Promise<string[]> {
  const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }));
  return (executions ?? []).map((e) => e.name!).sort();
}

describe('the re-run starter on Step Functions (moto)', () => {
  it('starts the input of the run the check run names, as it was, under the new name', async () => {
    // Prepare
    const original = await finishedRun();

    // Act
    const result = await new StepFunctionsRerunStarter(sfn, stateMachineArn).rerun(rerunOf(original), 'again-1');

    // Assess
    expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(stateMachineArn, 'again-1') });
    const rerun = await sfn.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(rerun).toMatchObject({ stateMachineArn, status: 'RUNNING' });
    expect(rerun.input).toBe(INPUT_JSON);
  });

  it('answers duplicate to a redelivery of the same press once the re-run has ended, and starts nothing', async () => {
    // Prepare
    const original = await finishedRun();
    const starter = new StepFunctionsRerunStarter(sfn, stateMachineArn);
    const first = await starter.rerun(rerunOf(original), 'again-2');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    // Act
    const again = await starter.rerun(rerunOf(original), 'again-2');

    // Assess
    expect(again).toEqual({ outcome: 'duplicate', executionArn: first.executionArn });
    expect(await executionNames()).toEqual(['again-2', 'github-hello-world-d6fde92-1']);
  });

  it('refuses an execution of another state machine, starting nothing', async () => {
    // Prepare: another installation's pipeline, in the same account.
    const other = await createStateMachine('other-pipeline');
    const foreign = await finishedRun('theirs', INPUT_JSON, other);

    // Act
    const error = await new StepFunctionsRerunStarter(sfn, stateMachineArn)
      .rerun(rerunOf(foreign), 'again-3')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(IntakeError);
    expect((error as Error).message).toMatch(/is not one of .*:stateMachine:stepline-pipeline/);
    expect(await executionNames()).toEqual([]);
    expect(await executionNames(other)).toEqual(['theirs']);
  });

  it("refuses a run whose commit is not the check run's", async () => {
    // Prepare
    const original = await finishedRun();

    // Act
    const error = await new StepFunctionsRerunStarter(sfn, stateMachineArn)
      .rerun(rerunOf(original, 'f'.repeat(40)), 'again-4')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(IntakeError);
    expect((error as Error).message).toContain(`ran commit ${SHA}`);
    expect(await executionNames()).toEqual(['github-hello-world-d6fde92-1']);
  });

  it('says that a run Step Functions no longer keeps cannot be re-run', async () => {
    // Act
    const error = await new StepFunctionsRerunStarter(sfn, stateMachineArn)
      .rerun(rerunOf(executionArnOf(stateMachineArn, 'long-gone')), 'again-5')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(IntakeError);
    expect(error).not.toBeInstanceOf(WorkflowUnavailableError);
    expect((error as Error).message).toMatch(/does not exist \(Step Functions keeps closed executions 90 days\)/);
  });
});

describe('the re-run starter when Step Functions cannot answer', () => {
  it('fails with WorkflowUnavailableError once DescribeExecution is still throttled after the SDK retries', async () => {
    // Prepare: HTTP stubbed under the client (moto never throttles).
    const http = stubHttp(() => awsError(400, 'ThrottlingException', 'Rate exceeded'));
    const client = createSfnClient({
      region: MOTO_REGION,
      credentials: { ...MOTO_CREDENTIALS },
      requestHandler: http.requestHandler,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
    });
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

    // Act
    const error = await new StepFunctionsRerunStarter(client, arn)
      .rerun(rerunOf(executionArnOf(arn, 'run-1')), 'again-6')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WorkflowUnavailableError);
    expect((error as Error).message).toMatch(/^DescribeExecution of .*:run-1 failed: ThrottlingException/);
    expect(http.calls('DescribeExecution')).toHaveLength(3);
    expect(http.calls('StartExecution')).toHaveLength(0);
  });
});

describe('stateMachineArnOf', () => {
  it("names an execution's state machine, and nothing for what is not an execution ARN", () => {
    expect(stateMachineArnOf('arn:aws:states:eu-west-1:123456789012:execution:p:run')).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:p',
    );
    expect(stateMachineArnOf('arn:aws:states:eu-west-1:123456789012:stateMachine:p')).toBeNull();
    expect(stateMachineArnOf('arn:aws:states:eu-west-1:123456789012:express:p:run:x')).toBeNull();
  });
});
