import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqsParkingQueue } from '../../../../adapters/aws/parking';
import { SecretsManagerWebhookSecrets } from '../../../../adapters/aws/secrets';
import { createSfnClient, executionArnOf, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import { ParkingError, SecretsUnavailableError, WorkflowUnavailableError } from '../../../../core/intake/errors';
import type { ExecutionInput } from '../../../../core/intake/types';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const INPUT = { request: { provider: 'github' }, route: {} } as unknown as ExecutionInput;

describe('webhook secrets from Secrets Manager', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  let now = 0;
  const source = () =>
    new SecretsManagerWebhookSecrets(
      new SecretsManagerClient({ region: 'eu-west-1' }),
      'stepline/webhook',
      60_000,
      () => now,
    );

  beforeEach(() => {
    secretsManager.reset();
    now = 0;
  });

  it('reads the secret once per TTL, not once per delivery', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"current":"a","previous":"b"}' });
    const secrets = source();

    // Act
    const first = await secrets.get('github');
    now = 59_000;
    await secrets.get('gitlab');
    now = 61_000;
    await secrets.get('github');

    // Assess
    expect(first).toEqual({ current: 'a', previous: 'b' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({
      SecretId: 'stepline/webhook',
    });
  });

  it('keeps serving the cached secret when a refresh fails', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'old-but-good' })
      .rejects(new Error('Secrets Manager unreachable'));
    const secrets = source();
    await secrets.get('github');
    now = 120_000;

    // Act
    const stale = await secrets.get('github');

    // Assess
    expect(stale).toEqual({ current: 'old-but-good', previous: null });
  });

  it('fails with SecretsUnavailableError when the secret was never read', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const act = source().get('github');

    // Assess
    await expect(act).rejects.toThrow(SecretsUnavailableError);
    await expect(source().get('github')).rejects.toThrow(/AccessDeniedException/);
  });

  it('answers null for a provider the secret does not cover', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"github":"only"}' });

    // Act
    const secrets = await source().get('bitbucket');

    // Assess
    expect(secrets).toBeNull();
  });
});

describe('webhook secrets given directly', () => {
  it('gives the same secrets to every provider, or each its own', async () => {
    // Act
    const shared = await new StaticWebhookSecrets({ current: 'x', previous: null }).get('gitlab');
    const own = await new StaticWebhookSecrets({ github: { current: 'g', previous: null } }).get('gitlab');

    // Assess
    expect(shared).toEqual({ current: 'x', previous: null });
    expect(own).toBeNull();
  });
});

describe('the parking queue on SQS', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it('wraps a failed send in ParkingError', async () => {
    // Prepare
    sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    const queue = new SqsParkingQueue(new SQSClient({ region: 'eu-west-1' }), 'https://sqs/q');
    const delivery = {
      version: 1 as const,
      name: 'n',
      input: { request: { provider: 'github', deliveryId: 'd', repository: { fullName: 'a/b' } }, route: {} },
      parkedAt: '2026-11-26T00:00:00.000Z',
      reason: 'r',
    } as never;

    // Act
    const act = queue.park(delivery);

    // Assess
    await expect(act).rejects.toThrow(ParkingError);
  });
});

describe('the Step Functions starter against a real HTTP endpoint', () => {
  let server: Server;
  let endpoint: string;
  let answers: Array<{ status: number; body: unknown }>;
  let requests: Array<{ target: string | undefined; body: Record<string, unknown> }>;

  beforeEach(async () => {
    answers = [];
    requests = [];
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        requests.push({ target: req.headers['x-amz-target'] as string | undefined, body: JSON.parse(text) });
        const answer = answers.shift() ?? {
          status: 500,
          body: { __type: 'InternalFailure', message: 'no answer left' },
        };
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const starter = () =>
    new StepFunctionsWorkflowStarter(
      createSfnClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      STATE_MACHINE_ARN,
    );

  it('retries a service failure and starts the execution', async () => {
    // Prepare
    answers.push(
      { status: 503, body: { __type: 'ServiceUnavailable', message: 'try again' } },
      { status: 200, body: { executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-1'), startDate: 1795662000 } },
    );

    // Act
    const result = await starter().start({ name: 'run-1', input: INPUT });

    // Assess
    expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-1') });
    expect(requests).toHaveLength(2);
    expect(requests[0]).toEqual({
      target: 'AWSStepFunctions.StartExecution',
      body: { stateMachineArn: STATE_MACHINE_ARN, name: 'run-1', input: JSON.stringify(INPUT) },
    });
  });

  it('gives up after three attempts with WorkflowUnavailableError', async () => {
    // Prepare
    answers.push(
      ...Array.from({ length: 3 }, () => ({ status: 503, body: { __type: 'ServiceUnavailable', message: 'down' } })),
    );

    // Act
    const act = starter().start({ name: 'run-2', input: INPUT });

    // Assess
    await expect(act).rejects.toThrow(WorkflowUnavailableError);
    expect(requests).toHaveLength(3);
  });

  it('answers duplicate for ExecutionAlreadyExists, with the ARN the name implies', async () => {
    // Prepare
    answers.push({ status: 400, body: { __type: 'ExecutionAlreadyExists', message: 'Execution Already Exists' } });

    // Act
    const result = await starter().start({ name: 'run-3', input: INPUT });

    // Assess
    expect(result).toEqual({
      outcome: 'duplicate',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:run-3',
    });
    expect(requests).toHaveLength(1);
  });
});
