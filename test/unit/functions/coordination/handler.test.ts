import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsStopper } from '../../../../adapters/aws/stopper';
import { SqliteCoordinationStore } from '../../../../adapters/local/coordination';
import { Coordinator } from '../../../../core/coordination/service';
import { createCoordinationHandler } from '../../../../functions/coordination/handler';
import { captureStdout, lambdaContext, metricValues } from '../../../support/githost/lambda';

const sfn = mockClient(SFNClient);
// The stub is on the client's prototype: later files in this worker must get the real send back.
afterAll(() => sfn.restore());
const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:pipeline:${name}`;
const KEY = 'github:acme/shop:refs/heads/main';

function build() {
  const coordinator = new Coordinator(new SqliteCoordinationStore(new Database(':memory:')));
  return createCoordinationHandler({
    coordinator,
    stopper: stepFunctionsStopper(new SFNClient({ region: 'eu-west-1' })),
  });
}

describe('coordination function', () => {
  beforeEach(() => {
    sfn.reset();
  });

  it('stops the older run of the branch that a new run supersedes, naming the newer run', async () => {
    // Prepare
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    const handler = build();
    const register = (name: string) => ({
      action: 'register',
      executionArn: arn(name),
      concurrencyKey: KEY,
      repositoryKey: 'github:acme/shop',
    });
    await handler(register('older'), lambdaContext());

    // Act
    const { result, lines } = await captureStdout(() => handler(register('newer'), lambdaContext()));

    // Assess
    expect(result).toEqual({ sequence: 2, superseded: { executionArn: arn('older'), sequence: 1 } });
    const stop = sfn.commandCalls(StopExecutionCommand);
    expect(stop).toHaveLength(1);
    expect(stop[0]?.args[0].input).toEqual({
      executionArn: arn('older'),
      error: 'Stepline.Superseded',
      cause: 'superseded by newer, a newer run of the same branch',
    });
    expect(metricValues(lines, 'superseded')).toEqual([1]);
  });

  it('does not fail when the superseded run has already ended', async () => {
    // Prepare
    sfn.on(StopExecutionCommand).rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));
    const handler = build();
    await handler(
      { action: 'register', executionArn: arn('a'), concurrencyKey: KEY, repositoryKey: 'r' },
      lambdaContext(),
    );

    // Act
    const { result } = await captureStdout(() =>
      handler({ action: 'register', executionArn: arn('b'), concurrencyKey: KEY, repositoryKey: 'r' }, lambdaContext()),
    );

    // Assess
    expect(result).toMatchObject({ sequence: 2, superseded: { executionArn: arn('a') } });
  });

  it('throws Stepline.EnvironmentBusy naming the holder while another run deploys', async () => {
    // Prepare
    const handler = build();
    const gate = (name: string, sequence: number) => ({
      action: 'enter',
      executionArn: arn(name),
      sequence,
      concurrencyKey: `github:acme/shop:refs/heads/${name}`,
      environmentKey: 'github:acme/shop:staging',
      first: true,
      leaseSeconds: 900,
    });
    await captureStdout(() => handler(gate('first', 1), lambdaContext()));

    // Act
    const attempt = captureStdout(() => handler(gate('second', 2), lambdaContext()));

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Stepline.EnvironmentBusy',
      message: expect.stringContaining('github:acme/shop:staging is being deployed by first'),
    });
  });

  it('fails the gate with Stepline.Superseded when a newer run of the branch registered first', async () => {
    // Prepare
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    const handler = build();
    const register = (name: string) => ({
      action: 'register',
      executionArn: arn(name),
      concurrencyKey: KEY,
      repositoryKey: 'r',
    });
    await captureStdout(() => handler(register('older'), lambdaContext()));
    await captureStdout(() => handler(register('newer'), lambdaContext()));

    // Act
    const attempt = captureStdout(() =>
      handler(
        {
          action: 'enter',
          executionArn: arn('older'),
          sequence: 1,
          concurrencyKey: KEY,
          environmentKey: 'github:acme/shop:staging',
          first: true,
          leaseSeconds: 900,
        },
        lambdaContext(),
      ),
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Stepline.Superseded',
      message: 'superseded by newer, a newer run of the same branch',
    });
  });

  it('rejects an event that is not a coordination request, naming the field', async () => {
    // Prepare
    const handler = build();

    // Act
    const attempt = captureStdout(() =>
      handler({ action: 'enter', executionArn: arn('x'), sequence: '1' }, lambdaContext()),
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'CoordinationRequestInvalid',
      message: 'coordination request: "sequence" must be a number',
    });
  });
});
