import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import type { Provider } from '../../../../core/config/schema';
import type { ExecutionEvent, ExecutionEventDetail } from '../../../../core/status/contracts';
import { ConsoleLinks } from '../../../../core/status/links';
import { reportStatus } from '../../../../core/status/report';
import { createExecutionEventsHandler } from '../../../../functions/execution-events/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';

let host: FakeGitHost;
let described: string[];
const links = new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' });
const input = { request: pipelineRequest('github'), route: route() };

function transport(provider: Provider) {
  return new HttpHostTransport({
    provider,
    baseUrl: host.baseUrl(provider),
    credential: { scheme: 'bearer', token: 'x' },
    backoff: () => 0,
    sleep: async () => {},
  });
}

function handler() {
  return createExecutionEventsHandler({
    transportFor: async (provider) => transport(provider),
    links,
    contextPrefix: 'stepline',
    readExecutionInput: async (arn) => {
      described.push(arn);
      return input;
    },
  });
}

function statusChange(detail: Partial<ExecutionEventDetail>): ExecutionEvent {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2030-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [EXECUTION_ARN],
    detail: {
      executionArn: EXECUTION_ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline',
      name: 'acme-shop-0123456-d1',
      status: 'FAILED',
      startDate: 1_893_456_000_000,
      stopDate: 1_893_456_100_000,
      input: JSON.stringify(input),
      inputDetails: { included: true },
      ...detail,
    },
  };
}

async function runningRun() {
  const deps = { transport: transport('github'), links };
  const base = { ...input, executionArn: EXECUTION_ARN } as const;
  await reportStatus({ ...base, step: 'pipeline', state: 'running' }, deps);
  await reportStatus({ ...base, step: 'build', state: 'success' }, deps);
  await reportStatus({ ...base, step: 'deploy', environment: 'staging', state: 'running' }, deps);
}

const latest = () => host.latest('github', 'acme/shop', SHA);

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  described = [];
});

describe('functions/execution-events', () => {
  it('ends a timed-out run as failed and closes what it left pending', async () => {
    // Prepare
    await runningRun();

    // Act
    await captureStdout(() => handler()(statusChange({ status: 'TIMED_OUT' }), lambdaContext()));

    // Assess
    expect(latest().get('stepline')).toMatchObject({ state: 'failure', description: 'failed: timed out' });
    expect(latest().get('stepline/build')?.state).toBe('success');
    expect(latest().get('stepline/deploy/staging')).toMatchObject({
      state: 'error',
      description: 'stopped: run failed: timed out',
    });
    const [deployment] = host.deployments('acme/shop');
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
  });

  it('ends an aborted run as cancelled with the reason it was stopped', async () => {
    // Prepare
    await runningRun();

    // Act
    await captureStdout(() =>
      handler()(statusChange({ status: 'ABORTED', error: null, cause: 'superseded by 89abcde' }), lambdaContext()),
    );

    // Assess
    expect(latest().get('stepline')).toMatchObject({
      state: 'error',
      description: 'cancelled: stopped: superseded by 89abcde',
    });
  });

  it("keeps the workflow's own failure report and only closes what is still open", async () => {
    // Prepare
    await runningRun();
    await reportStatus(
      {
        ...input,
        executionArn: EXECUTION_ARN,
        step: 'pipeline',
        state: 'failure',
        detail: { failedStep: { step: 'deploy', environment: 'staging' }, reason: 'rollout timed out' },
      },
      { transport: transport('github'), links },
    );
    const before = host.requests.length;

    // Act
    await captureStdout(() =>
      handler()(statusChange({ status: 'FAILED', error: 'States.TaskFailed', cause: 'rollout' }), lambdaContext()),
    );

    // Assess
    expect(latest().get('stepline')?.description).toBe('failed at deploy to staging: rollout timed out');
    expect(host.requests.slice(before).filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('reads the input with DescribeExecution when the event does not include it', async () => {
    // Act
    await captureStdout(() =>
      handler()(statusChange({ status: 'TIMED_OUT', input: null, inputDetails: { included: false } }), lambdaContext()),
    );

    // Assess
    expect(described).toEqual([EXECUTION_ARN]);
    expect(latest().get('stepline')?.state).toBe('failure');
  });

  it.each(['RUNNING', 'SUCCEEDED'])('posts nothing for an execution that is %s', async (status) => {
    const { result } = await captureStdout(() => handler()(statusChange({ status }), lambdaContext()));
    expect(result).toEqual({ ignored: `execution status ${status} needs no final status` });
    expect(host.requests).toHaveLength(0);
  });
});
