import { SendTaskHeartbeatCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsCallbacks } from '../../../../adapters/aws/approvals-sfn';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type { ApprovalRecord } from '../../../../core/approval/contracts';
import { createApprovalKeeperHandler } from '../../../../functions/approval/keeper';
import { EXECUTION_ARN, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';

/**
 * The approval keeper: every waiting request's task is heartbeaten; a task that no longer waits marks its request
 * expired; a heartbeat that fails for a passing reason is counted and left for the next run; no token is logged.
 */

const sfn = mockClient(SFNClient);
// The stub is on the client's prototype: later files in this worker must get the real send back.
afterAll(() => sfn.restore());
let store: SqliteApprovalStore;

function request(n: number, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: `AAAAAAAAAAAAAAAAAAAAA${n}`,
    taskToken: `secret-task-token-${n}`,
    executionArn: EXECUTION_ARN,
    provider: 'github',
    repository: 'acme/shop',
    commitSha: SHA,
    commitMessage: null,
    commitUrl: null,
    ref: 'main',
    environment: 'production',
    approvers: [],
    image: null,
    tests: [],
    requestedAt: '2030-01-01T00:00:00.000Z',
    expiresAt: 10_000,
    status: 'waiting',
    decidedBy: null,
    decidedAt: null,
    reason: null,
    ...overrides,
  };
}

beforeEach(() => {
  store = new SqliteApprovalStore(':memory:');
});

afterEach(() => {
  store.close();
  sfn.reset();
});

const keeper = () =>
  createApprovalKeeperHandler({
    store,
    callbacks: stepFunctionsCallbacks(new SFNClient({ region: 'eu-west-1' })),
    now: () => 5_000,
  });

describe('the approval keeper', () => {
  it('heartbeats each waiting request, expires the gone ones, and leaves the failed ones for the next run', async () => {
    // Prepare
    for (const n of [1, 2, 3, 4]) await store.create(request(n));
    await store.create(request(5, { expiresAt: 4_000 }));
    await store.decide(request(4).id, { status: 'approved', by: 'alice', at: '2030-01-01T00:01:00Z', reason: null }, 1);
    sfn
      .on(SendTaskHeartbeatCommand, { taskToken: 'secret-task-token-1' })
      .resolves({})
      .on(SendTaskHeartbeatCommand, { taskToken: 'secret-task-token-2' })
      .rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }))
      .on(SendTaskHeartbeatCommand, { taskToken: 'secret-task-token-3' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const { result, lines } = await captureStdout(() => keeper()({ source: 'aws.events' }, lambdaContext()));

    // Assess
    expect(result).toMatchObject({ kept: 1, gone: 1, failed: 1 });
    expect(
      sfn
        .commandCalls(SendTaskHeartbeatCommand)
        .map((c) => c.args[0].input.taskToken)
        .sort(),
    ).toEqual(['secret-task-token-1', 'secret-task-token-2', 'secret-task-token-3']);
    expect((await store.get(request(2).id))?.status).toBe('expired');
    expect((await store.get(request(3).id))?.status).toBe('waiting');
    const output = lines.join('\n');
    expect(output).toContain('"approvalsKept":1');
    expect(output).toContain('"approvalHeartbeatsFailed":1');
    expect(output).toContain('ThrottlingException');
    expect(output).not.toContain('secret-task-token');
  });

  it('a request whose execution was stopped is expired, so its page says so', async () => {
    // Prepare
    await store.create(request(1));
    sfn.on(SendTaskHeartbeatCommand).rejects(new TaskDoesNotExist({ message: 'no such task', $metadata: {} }));

    // Act
    const { result } = await captureStdout(() => keeper()({}, lambdaContext()));

    // Assess
    expect(result).toMatchObject({ kept: 0, gone: 1, failed: 0 });
    expect(await store.listWaiting(5_000)).toEqual([]);
  });
});
