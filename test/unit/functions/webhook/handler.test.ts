import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqsClient, SqsParkingQueue } from '../../../../adapters/aws/parking';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import type { ParkedDelivery } from '../../../../core/contracts/parking';
import { SecretsUnavailableError } from '../../../../core/intake/errors';
import type { ExecutionInput } from '../../../../core/intake/types';
import { createWebhookHandler, type WebhookDependencies } from '../../../../functions/webhook/handler';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import { awsError, type StubAnswer, stubHttp } from '../../aws/stub-http';
import {
  bitbucketDelivery,
  CONFIG,
  fixture,
  githubDelivery,
  githubExample,
  githubPush,
  SECRET,
  SECRETS,
  variant,
} from '../../intake/support';
import { apiEvent, CONTEXT, captureStdout, jsonLines } from './support';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const EXECUTION_NAME = 'Codertocat-Hello-World-6113728-72d3162e-cc78-11e3-81ab-4c9367dc0958';
const EXECUTION_ARN = `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${EXECUTION_NAME}`;

// Step Functions and SQS are moto_server's (the state machine and the parking queue created in its default account
// and region, which the ARNs above name), reached through the SDK's clients as on Lambda. Throttling and a 5xx,
// which moto does not produce, come from HTTP stubbed under the SDK's Step Functions client (its retries with no
// wait between attempts).
let moto: MotoServer;
let sfn: SFNClient;
let sqs: SQSClient;
let queueUrl: string;

function motoConfig() {
  return { endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } };
}

/** A workflow starter whose StartExecution is answered, attempt by attempt, with `answers`. */
function stubbedWorkflow(...answers: StubAnswer[]) {
  const http = stubHttp(() => {
    throw new Error('the stubbed Step Functions has no answer left');
  });
  http.enqueue(...answers);
  const client = createSfnClient({
    region: MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
    requestHandler: http.requestHandler,
    retryStrategy: new ConfiguredRetryStrategy(3, 0),
  });
  return { http, workflow: new StepFunctionsWorkflowStarter(client, STATE_MACHINE_ARN) };
}

/** The executions moto holds, oldest name first, with their input as the API takes it. */
async function starts(): Promise<Array<{ name: string; input: string; status: string }>> {
  const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
  const described = await Promise.all(
    (executions ?? []).map((e) => sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))),
  );
  return described
    .map((e) => ({ name: e.name!, input: e.input!, status: e.status! }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The deliveries parked in the moto queue. */
async function parkedMessages() {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], MaxNumberOfMessages: 10 }),
  );
  return Messages ?? [];
}

function handler(overrides: Partial<WebhookDependencies> = {}) {
  return createWebhookHandler({
    config: CONFIG,
    secrets: new StaticWebhookSecrets(SECRETS),
    workflow: new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN),
    parking: new SqsParkingQueue(sqs, queueUrl),
    now: () => new Date('2026-11-26T03:00:00Z'),
    ...overrides,
  });
}

async function invoke(h: ReturnType<typeof handler>, event: ReturnType<typeof apiEvent>) {
  const { result, output } = await captureStdout(() => h(event, CONTEXT));
  return { status: result.statusCode, body: JSON.parse(result.body as string), output, lines: jsonLines(output) };
}

beforeAll(async () => {
  moto = await startMoto();
  sfn = createSfnClient(motoConfig());
  sqs = createSqsClient(motoConfig());
}, 30_000);

afterAll(async () => {
  sfn?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await sfn.send(
    new CreateStateMachineCommand({
      name: 'stepline-pipeline',
      roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'stepline-parking' }))).QueueUrl!;
});

describe('the webhook function', () => {
  it('starts an execution for a push and answers 202 with its ARN and name', async () => {
    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: 'started', executionArn: EXECUTION_ARN, name: EXECUTION_NAME });
    const started = await starts();
    expect(started.map((s) => s.name)).toEqual([EXECUTION_NAME]);
    const executionInput = JSON.parse(started[0]!.input) as ExecutionInput;
    expect(executionInput.request).toMatchObject({ provider: 'github', ref: { fullName: 'refs/heads/master' } });
    expect(executionInput.route.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(await parkedMessages()).toHaveLength(0);
  });

  it('logs with the delivery keys and counts the delivery as accepted', async () => {
    // Act
    const { lines } = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(lines.find((l) => l['message'] === 'execution started')).toMatchObject({
      level: 'INFO',
      provider: 'github',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      repository: 'Codertocat/Hello-World',
      executionName: EXECUTION_NAME,
    });
    expect(lines.find((l) => '_aws' in l)).toMatchObject({ accepted: 1, service: 'stepline-webhook' });
  });

  it('never logs the body, a header value or the secret', async () => {
    // Prepare
    const payload = variant(githubPush(), (p) => (p.head_commit.message = 'BODY-MARKER-5f3a'));
    const delivery = githubDelivery('push', payload, { headers: { 'User-Agent': 'HEADER-MARKER-9c1d' } });
    const rejected = githubDelivery('push', payload, {
      secret: 'wrong',
      headers: { 'User-Agent': 'HEADER-MARKER-9c1d' },
    });

    // Act
    const first = await invoke(handler(), apiEvent(delivery));
    const second = await invoke(handler(), apiEvent(rejected));

    // Assess
    const output = first.output + second.output;
    expect(output).toContain('delivery rejected');
    for (const secret of ['BODY-MARKER-5f3a', 'HEADER-MARKER-9c1d', SECRET, delivery.headers['X-Hub-Signature-256']!]) {
      expect(output).not.toContain(secret);
    }
  });

  it('answers 202 with the same execution to a redelivery while that execution runs, and starts nothing new', async () => {
    // Prepare
    const delivery = apiEvent(githubDelivery('push', githubPush()));
    await invoke(handler(), delivery);

    // Act
    const response = await invoke(handler(), delivery);

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: 'started', executionArn: EXECUTION_ARN, name: EXECUTION_NAME });
    expect(await starts()).toEqual([expect.objectContaining({ name: EXECUTION_NAME, status: 'RUNNING' })]);
  });

  it('answers 200 duplicate to a redelivery once the execution has closed (ExecutionAlreadyExists)', async () => {
    // Prepare
    const delivery = apiEvent(githubDelivery('push', githubPush()));
    await invoke(handler(), delivery);
    await sfn.send(new StopExecutionCommand({ executionArn: EXECUTION_ARN }));

    // Act
    const response = await invoke(handler(), delivery);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'duplicate',
      duplicate: true,
      executionArn: EXECUTION_ARN,
      name: EXECUTION_NAME,
    });
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ duplicate: 1 });
    expect(await starts()).toEqual([expect.objectContaining({ name: EXECUTION_NAME, status: 'ABORTED' })]);
  });

  it('answers 202 ignored with the reason when no route wants the event, and starts nothing', async () => {
    // Prepare
    const payload = variant(githubPush(), (p) => (p.ref = 'refs/heads/wip'));

    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', payload)));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      status: 'ignored',
      code: 'ref_not_configured',
      reason: 'branch wip matches no configured branches pattern',
    });
    expect(await starts()).toHaveLength(0);
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ ignored: 1 });
  });

  it('parks the delivery and answers 202 queued when StartExecution is still throttled after three attempts', async () => {
    // Prepare
    const throttled = awsError(400, 'ThrottlingException', 'Rate exceeded');
    const { http, workflow } = stubbedWorkflow(throttled, throttled, throttled);

    // Act
    const response = await invoke(handler({ workflow }), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'queued', name: EXECUTION_NAME });
    const sent = await parkedMessages();
    expect(sent).toHaveLength(1);
    const message = sent[0]!;
    expect(message.MessageAttributes).toMatchObject({
      deliveryId: { DataType: 'String', StringValue: '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
      provider: { DataType: 'String', StringValue: 'github' },
    });
    const parked = JSON.parse(message.Body!) as ParkedDelivery;
    expect(parked).toMatchObject({
      version: 1,
      name: EXECUTION_NAME,
      parkedAt: '2026-11-26T03:00:00.000Z',
      reason: expect.stringContaining('ThrottlingException: Rate exceeded (HTTP 400, 3 attempts)'),
    });
    const attempts = http.calls('StartExecution');
    expect(attempts).toHaveLength(3);
    expect(parked.input).toEqual(JSON.parse(String(attempts[0]!.body['input'])));
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ queued: 1 });
  });

  it('answers 503 when the delivery can be neither started nor parked', async () => {
    // Prepare
    const down = awsError(503, 'ServiceUnavailable', 'down');
    const { workflow } = stubbedWorkflow(down, down, down);
    const parking = new SqsParkingQueue(sqs, `${moto.endpoint}/123456789012/stepline-deleted`);

    // Act
    const response = await invoke(handler({ workflow, parking }), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      error: 'unavailable',
      message: 'the delivery could not be started or kept; redeliver it later',
    });
    expect(response.lines.find((l) => l['level'] === 'ERROR')).toMatchObject({ executionName: EXECUTION_NAME });
  });

  it('answers 200 pong to a ping and starts nothing', async () => {
    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('ping', githubExample('ping'))));

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'pong', provider: 'github' });
    expect(await starts()).toHaveLength(0);
  });

  it('starts a short skipped run and answers 202 skipped with the contexts a path filter spared', async () => {
    // Prepare
    const config = structuredClone(CONFIG);
    (config.repositories[0]!.paths as { include: string[] }).include = ['services/**'];
    const payload = variant(githubPush(), (p) => {
      p.created = false;
      p.before = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
    });

    // Act
    const response = await invoke(handler({ config }), apiEvent(githubDelivery('push', payload)));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      status: 'skipped',
      code: 'paths_unchanged',
      reason: 'skipped: no changes under services/**',
      contexts: [
        'stepline',
        'stepline/build',
        'stepline/test/unit',
        'stepline/deploy/staging',
        'stepline/deploy/production',
      ],
      executionArn: EXECUTION_ARN,
      name: expect.any(String),
    });
    const started = await starts();
    expect(started).toHaveLength(1);
    const input = JSON.parse(started[0]!.input);
    expect(input.skip).toEqual({ reason: 'skipped: no changes under services/**' });
    expect(input.route.environments.map((e: { name: string }) => e.name)).toEqual(['staging', 'production']);
  });

  it('reads a base64-encoded body', async () => {
    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush()), { base64: true }));

    // Assess
    expect(response.body).toMatchObject({ status: 'started', name: EXECUTION_NAME });
  });

  it('starts one execution per ref of a Bitbucket push that reports two', async () => {
    // Prepare
    const payload = variant(fixture('bitbucket/repo-push.json'), (p) => {
      p.push.changes.push({
        ...p.push.changes[0],
        new: { type: 'tag', name: 'v2.0.0', target: { hash: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' } },
        old: null,
      });
    });

    // Act
    const response = await invoke(handler(), apiEvent(bitbucketDelivery('repo:push', payload, { deliveryId: 'abc' })));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('multiple');
    const names = response.body.results.map((r: { name: string }) => r.name);
    expect(names).toEqual([
      expect.stringMatching(/^acme-payments-4b825dc-abc-1-[0-9a-f]{10}$/),
      expect.stringMatching(/^acme-payments-4b825dc-abc-2-[0-9a-f]{10}$/),
    ]);
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual(['started', 'started']);
    expect((await starts()).map((s) => s.name)).toEqual([...names].sort());
  });
});

describe('the webhook function refuses bad requests with clear JSON', () => {
  it.each([
    ['an unknown provider', { ...githubDelivery('push', githubPush()), provider: 'gitea' }, 404, 'unknown_provider'],
    [
      'a missing event header',
      githubDelivery('push', githubPush(), { headers: { 'X-GitHub-Event': undefined } }),
      400,
      'missing_header',
    ],
    ['a wrong signature', githubDelivery('push', githubPush(), { secret: 'nope' }), 401, 'invalid_signature'],
    [
      'another content type',
      githubDelivery('push', githubPush(), { contentType: 'text/xml' }),
      415,
      'unsupported_media_type',
    ],
  ])('answers %s with its status and reason', async (_name, delivery, status, code) => {
    // Act
    const response = await invoke(handler(), apiEvent(delivery));

    // Assess
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: code, message: expect.any(String) });
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ rejected: 1, reason: code });
    expect(await starts()).toHaveLength(0);
  });

  it('refuses a base64 body over the limit with 413 without decoding or hashing it', async () => {
    // Prepare
    let secretsRead = 0;
    const secrets = {
      get: async () => {
        secretsRead++;
        return SECRETS;
      },
    };
    const event = apiEvent(githubDelivery('push', githubPush()), { base64: true });

    // Act
    const response = await invoke(handler({ secrets, maxBodyBytes: 1024 }), event);

    // Assess
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      error: 'body_too_large',
      message: 'the body is larger than the limit of 1024 bytes',
    });
    expect(secretsRead).toBe(0);
  });

  it('answers 503 when the secrets cannot be read', async () => {
    // Prepare
    const secrets = {
      get: async () => {
        throw new SecretsUnavailableError('could not read the webhook secret x: AccessDeniedException');
      },
    };

    // Act
    const response = await invoke(handler({ secrets }), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'unavailable' });
  });

  it('answers 500 with no detail when something unexpected breaks', async () => {
    // Prepare
    const secrets = {
      get: async () => {
        throw new TypeError('cannot read properties of undefined (internal detail)');
      },
    };

    // Act
    const response = await invoke(handler({ secrets }), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: 'internal', message: 'internal error' });
    expect(response.lines.find((l) => l['level'] === 'ERROR')).toMatchObject({ message: 'unhandled error' });
  });
});

describe('the webhook function for the local runtime', () => {
  it('hands every receipt to onReceipt, so deliveries can be counted without reading logs', async () => {
    // Prepare
    const receipts: { status: number; kinds: string[] }[] = [];
    const h = handler({ onReceipt: (r) => receipts.push({ status: r.status, kinds: r.outcomes.map((o) => o.kind) }) });

    // Act
    await invoke(h, apiEvent(githubDelivery('push', githubPush())));
    await invoke(h, apiEvent(githubDelivery('push', githubPush(), { secret: 'nope' })));

    // Assess
    expect(receipts).toEqual([
      { status: 202, kinds: ['started'] },
      { status: 401, kinds: ['rejected'] },
    ]);
  });

  it('answers as usual when onReceipt throws', async () => {
    // Prepare
    const h = handler({
      onReceipt: () => {
        throw new Error('counter broken');
      },
    });

    // Act
    const response = await invoke(h, apiEvent(githubDelivery('ping', githubExample('ping'))));

    // Assess
    expect(response.status).toBe(200);
    expect(response.lines.find((l) => l['message'] === 'onReceipt failed')).toBeDefined();
  });
});
