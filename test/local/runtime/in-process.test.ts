import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { stateFileOf } from '../../../local/store';
import { ENVIRONMENTS, REPOSITORY, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * The runtime's own calls to itself (the webhook's StartExecution, the status functions' posts to the local Git
 * host sink, their DescribeExecution) are answered in process, through the same clients, without a connection to
 * its own server (docs/adr/0086).
 */

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;

/** Counts the TCP connections this process opens to `port` while `act` runs. */
async function connectionsTo(port: number, act: () => Promise<void>): Promise<number> {
  let count = 0;
  const onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    socket.once('connect', () => {
      if (socket.remotePort === port) count += 1;
    });
  };
  subscribe('net.client.socket', onSocket);
  try {
    await act();
  } finally {
    unsubscribe('net.client.socket', onSocket);
  }
  return count;
}

beforeAll(async () => {
  const config = pipelineConfig({ repository: REPOSITORY, environments: ENVIRONMENTS });
  (config['repositories'] as Record<string, unknown>[])[0]!['paths'] = { include: ['**'], exclude: ['**/*.md'] };
  runtime = await startTestRuntime({ config: config as never });
  repo = gitRepository(sampleFiles());
});

afterAll(async () => {
  await runtime.stop();
  removeDir(runtime.stateDir);
  removeDir(repo.dir);
});

describe("the runtime's calls to itself", () => {
  it('starts a run and reports its statuses with no connection to its own server but the sender’s', async () => {
    // Prepare
    const sha = repo.commit({ 'README.md': '# hello\n' }, 'Docs');
    const delivery = githubPush({
      repository: REPOSITORY,
      cloneUrl: repo.dir,
      sha,
      before: repo.sha,
      files: ['README.md'],
    });
    let answer: Awaited<ReturnType<typeof deliver>> | undefined;

    // Act
    const connections = await connectionsTo(runtime.port, async () => {
      answer = await deliver(runtime, delivery);
      const arn = answer.body['executionArn'] as string;
      await waitFor('the end of the skipped run', () => {
        const status = runtime.stores.executions.getExecution(arn)?.status;
        return status && status !== 'RUNNING' ? status : undefined;
      });
    });

    // Assess
    expect(answer).toMatchObject({ status: 202, body: { status: 'skipped' } });
    const statuses = runtime.stores.statuses.latest('github', REPOSITORY, sha);
    expect(statuses.length).toBeGreaterThan(0);
    expect(connections).toBe(1);
  });

  it('answers its own SDK client as its HTTP API answers, errors included', async () => {
    // Prepare
    const missing = `${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:no-such-execution`;

    // Act
    const error = await runtime.sfn.send(new DescribeExecutionCommand({ executionArn: missing })).catch((e) => e);
    const overHttp = await fetch(runtime.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.DescribeExecution',
      },
      body: JSON.stringify({ executionArn: missing }),
    });

    // Assess
    expect(error).toMatchObject({ name: 'ExecutionDoesNotExist', $metadata: { httpStatusCode: 400 } });
    expect(overHttp.status).toBe(400);
    expect(await overHttp.json()).toEqual({
      __type: 'com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist',
      message: error.message,
    });
  });
});

describe("the webhook's StartExecution in process (the runtime's SDK client, as the webhook uses it)", () => {
  it('starts an execution, and gets the API errors named as over HTTP', async () => {
    // Prepare
    const request = { stateMachineArn: runtime.stateMachineArn, name: 'in-process-start', input: '{"request":null}' };

    // Act
    const started = await runtime.sfn.send(new StartExecutionCommand(request));
    const refused = await runtime.sfn
      .send(new StartExecutionCommand({ ...request, input: '{"request":1}' }))
      .catch((error: Error) => error);

    // Assess
    expect(started.executionArn).toBe(
      `${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:in-process-start`,
    );
    expect(runtime.stores.executions.getExecution(started.executionArn!)?.name).toBe('in-process-start');
    expect(refused).toMatchObject({
      name: 'ExecutionAlreadyExists',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
  });
});

describe('what the runtime answers', () => {
  it('is in the state file before the answer leaves: an accepted delivery survives a crash right after', async () => {
    // Prepare
    const sha = repo.commit({ 'README.md': '# hello again\n' }, 'Docs again');
    const delivery = githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha, files: ['README.md'] });
    const reader = new Database(stateFileOf(runtime.stateDir), { readonly: true });

    // Act
    const answer = await deliver(runtime, delivery);
    const row = reader
      .prepare('SELECT status FROM executions WHERE arn = ?')
      .get(answer.body['executionArn'] as string) as { status: string } | undefined;
    reader.close();

    // Assess
    expect(answer.status).toBe(202);
    expect(row).toBeDefined();
  });
});
