import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsParkingQueue } from '../../../../adapters/aws/parking';
import { createSecretsManagerClient, SecretsManagerWebhookSecrets } from '../../../../adapters/aws/secrets';
import {
  createSfnClient,
  createStepFunctionsClient,
  executionArnOf,
  StepFunctionsWorkflowStarter,
} from '../../../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import { ParkingError, SecretsUnavailableError, WorkflowUnavailableError } from '../../../../core/intake/errors';
import type { ExecutionInput } from '../../../../core/intake/types';
import { awsError, type FakeAwsJsonServer, startFakeAwsJson } from '../../aws/fake-aws-json';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const INPUT = { request: { provider: 'github' }, route: {} } as unknown as ExecutionInput;

describe('webhook secrets from Secrets Manager', () => {
  let secretsManager: FakeAwsJsonServer;
  let now = 0;
  const source = () =>
    new SecretsManagerWebhookSecrets(
      createSecretsManagerClient({
        endpoint: secretsManager.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
        sleep: async () => undefined,
      }),
      'stepline/webhook',
      60_000,
      () => now,
    );

  beforeAll(async () => {
    secretsManager = await startFakeAwsJson();
  });

  afterAll(async () => {
    await secretsManager.close();
  });

  beforeEach(() => {
    secretsManager.reset();
    now = 0;
  });

  it('reads the secret once per TTL, not once per delivery, with GetSecretValue over awsJson1_1', async () => {
    // Prepare
    secretsManager.respond(() => ({ status: 200, body: { SecretString: '{"current":"a","previous":"b"}' } }));
    const secrets = source();

    // Act
    const first = await secrets.get('github');
    now = 59_000;
    await secrets.get('gitlab');
    now = 61_000;
    await secrets.get('github');

    // Assess
    expect(first).toEqual({ current: 'a', previous: 'b' });
    const calls = secretsManager.calls('GetSecretValue');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      target: 'secretsmanager.GetSecretValue',
      body: { SecretId: 'stepline/webhook' },
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-security-token': 'session' },
    });
    expect(calls[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, /,
    );
  });

  it('keeps serving the cached secret when a refresh fails', async () => {
    // Prepare
    secretsManager.enqueue({ status: 200, body: { SecretString: 'old-but-good' } });
    secretsManager.respond(() => awsError(500, 'InternalServiceError', 'Secrets Manager unreachable'));
    const secrets = source();
    await secrets.get('github');
    now = 120_000;

    // Act
    const stale = await secrets.get('github');

    // Assess
    expect(stale).toEqual({ current: 'old-but-good', previous: null });
    expect(secretsManager.calls('GetSecretValue')).toHaveLength(4);
  });

  it('fails with SecretsUnavailableError naming the error code when the secret was never read', async () => {
    // Prepare
    secretsManager.respond(() => awsError(400, 'AccessDeniedException', 'not authorized to perform GetSecretValue'));

    // Act
    const act = source().get('github');

    // Assess
    await expect(act).rejects.toThrow(SecretsUnavailableError);
    await expect(source().get('github')).rejects.toThrow(/AccessDeniedException/);
    expect(secretsManager.calls('GetSecretValue')).toHaveLength(2);
  });

  it('fails with SecretsUnavailableError when the secret has no string value', async () => {
    // Prepare
    secretsManager.respond(() => ({ status: 200, body: { SecretBinary: 'AAEC' } }));

    // Act
    const act = source().get('github');

    // Assess
    await expect(act).rejects.toThrow(/has no string value/);
  });

  it('answers null for a provider the secret does not cover', async () => {
    // Prepare
    secretsManager.respond(() => ({ status: 200, body: { SecretString: '{"github":"only"}' } }));

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
  let sfn: FakeAwsJsonServer;

  beforeAll(async () => {
    sfn = await startFakeAwsJson();
  });

  afterAll(async () => {
    await sfn.close();
  });

  beforeEach(() => sfn.reset());

  const starter = () =>
    new StepFunctionsWorkflowStarter(
      createStepFunctionsClient({
        endpoint: sfn.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        sleep: async () => undefined,
      }),
      STATE_MACHINE_ARN,
    );

  it('retries a service failure and starts the execution', async () => {
    // Prepare
    sfn.enqueue(awsError(503, 'ServiceUnavailable', 'try again'), {
      status: 200,
      body: { executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-1'), startDate: 1795662000 },
    });

    // Act
    const result = await starter().start({ name: 'run-1', input: INPUT });

    // Assess
    expect(result).toEqual({ outcome: 'started', executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-1') });
    expect(sfn.requests).toHaveLength(2);
    expect(sfn.requests[0]).toMatchObject({
      target: 'AWSStepFunctions.StartExecution',
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: { stateMachineArn: STATE_MACHINE_ARN, name: 'run-1', input: JSON.stringify(INPUT) },
    });
  });

  it('sends the input JSON it is given as it is', async () => {
    // Prepare
    sfn.enqueue({ status: 200, body: { executionArn: 'arn:given', startDate: 1 } });
    const inputJson = '{"request":{"provider":"github"},  "route":{}}';

    // Act
    await starter().start({ name: 'run-0', input: INPUT, inputJson });

    // Assess
    expect(sfn.requests[0]!.body['input']).toBe(inputJson);
  });

  it('gives up after three attempts with WorkflowUnavailableError, naming the error', async () => {
    // Prepare
    sfn.respond(() => awsError(503, 'ServiceUnavailable', 'down'));

    // Act
    const act = starter().start({ name: 'run-2', input: INPUT });

    // Assess
    await expect(act).rejects.toThrow(WorkflowUnavailableError);
    await expect(starter().start({ name: 'run-2', input: INPUT })).rejects.toThrow(
      'StartExecution of run-2 failed: ServiceUnavailable: down',
    );
    expect(sfn.requests).toHaveLength(6);
  });

  it('answers duplicate for ExecutionAlreadyExists, with the ARN the name implies, and does not retry', async () => {
    // Prepare
    sfn.enqueue(awsError(400, 'ExecutionAlreadyExists', 'Execution Already Exists'));

    // Act
    const result = await starter().start({ name: 'run-3', input: INPUT });

    // Assess
    expect(result).toEqual({
      outcome: 'duplicate',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:run-3',
    });
    expect(sfn.requests).toHaveLength(1);
  });

  it('fails at once, without retrying, on a client error such as a state machine that does not exist', async () => {
    // Prepare
    sfn.respond(() => awsError(400, 'com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist', 'no such machine'));

    // Act
    const act = starter().start({ name: 'run-4', input: INPUT });

    // Assess
    await expect(act).rejects.toThrow('StartExecution of run-4 failed: StateMachineDoesNotExist: no such machine');
    expect(sfn.requests).toHaveLength(1);
  });

  it("still takes the SDK's SFNClient, for callers that hold one (the local runtime)", async () => {
    // Prepare
    sfn.enqueue(awsError(400, 'ExecutionAlreadyExists', 'exists'));
    sfn.enqueue({ status: 200, body: { executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-6'), startDate: 1 } });
    const sdkStarter = new StepFunctionsWorkflowStarter(
      createSfnClient({
        endpoint: sfn.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 't', secretAccessKey: 't' },
      }),
      STATE_MACHINE_ARN,
    );

    // Act
    const duplicate = await sdkStarter.start({ name: 'run-5', input: INPUT });
    const started = await sdkStarter.start({ name: 'run-6', input: INPUT });

    // Assess
    expect(duplicate.outcome).toBe('duplicate');
    expect(started).toEqual({ outcome: 'started', executionArn: executionArnOf(STATE_MACHINE_ARN, 'run-6') });
    expect(sfn.requests.map((r) => r.body['name'])).toEqual(['run-5', 'run-6']);
  });
});
