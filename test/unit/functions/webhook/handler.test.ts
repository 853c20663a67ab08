import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsParkingQueue } from '../../../../adapters/aws/parking';
import { createStepFunctionsClient, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import type { ParkedDelivery } from '../../../../core/contracts/parking';
import { SecretsUnavailableError } from '../../../../core/intake/errors';
import type { ExecutionInput } from '../../../../core/intake/types';
import { createWebhookHandler, type WebhookDependencies } from '../../../../functions/webhook/handler';
import { awsError, type FakeAwsJsonServer, startedExecution, startFakeAwsJson } from '../../aws/fake-aws-json';
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
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking';
const EXECUTION_NAME = 'Codertocat-Hello-World-6113728-72d3162e-cc78-11e3-81ab-4c9367dc0958';
const EXECUTION_ARN = `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${EXECUTION_NAME}`;

// Step Functions is a fake endpoint over real HTTP on 127.0.0.1, called through the webhook's own client (signed,
// retried: with no wait between attempts, so that the throttled cases stay fast). SQS keeps the SDK, mocked.
let sfn: FakeAwsJsonServer;
const sqs = mockClient(SQSClient);

function workflow() {
  const client = createStepFunctionsClient({
    endpoint: sfn.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    sleep: async () => undefined,
  });
  return new StepFunctionsWorkflowStarter(client, STATE_MACHINE_ARN);
}

/** The StartExecution requests the fake Step Functions received, their bodies as the API takes them. */
function starts(): Array<{ stateMachineArn: string; name: string; input: string }> {
  return sfn.calls('StartExecution').map((r) => r.body as { stateMachineArn: string; name: string; input: string });
}

function handler(overrides: Partial<WebhookDependencies> = {}) {
  return createWebhookHandler({
    config: CONFIG,
    secrets: new StaticWebhookSecrets(SECRETS),
    workflow: workflow(),
    parking: new SqsParkingQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL),
    now: () => new Date('2026-11-26T03:00:00Z'),
    ...overrides,
  });
}

async function invoke(h: ReturnType<typeof handler>, event: ReturnType<typeof apiEvent>) {
  const { result, output } = await captureStdout(() => h(event, CONTEXT));
  return { status: result.statusCode, body: JSON.parse(result.body as string), output, lines: jsonLines(output) };
}

beforeAll(async () => {
  sfn = await startFakeAwsJson(startedExecution);
});

afterAll(async () => {
  await sfn.close();
});

beforeEach(() => {
  sfn.reset();
  sqs.reset();
});

afterEach(() => {
  sqs.reset();
});

describe('the webhook function', () => {
  it('starts an execution for a push and answers 202 with its ARN and name', async () => {
    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: 'started', executionArn: EXECUTION_ARN, name: EXECUTION_NAME });
    expect(starts()).toHaveLength(1);
    const { stateMachineArn, name, input } = starts()[0]!;
    expect({ stateMachineArn, name }).toEqual({ stateMachineArn: STATE_MACHINE_ARN, name: EXECUTION_NAME });
    const executionInput = JSON.parse(input!) as ExecutionInput;
    expect(executionInput.request).toMatchObject({ provider: 'github', ref: { fullName: 'refs/heads/master' } });
    expect(executionInput.route.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
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

  it('answers 200 duplicate when Step Functions says the execution already exists', async () => {
    // Prepare
    sfn.respond(() => awsError(400, 'ExecutionAlreadyExists', 'Execution Already Exists'));

    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'duplicate',
      duplicate: true,
      executionArn: EXECUTION_ARN,
      name: EXECUTION_NAME,
    });
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ duplicate: 1 });
    expect(starts()).toHaveLength(1);
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
    expect(starts()).toHaveLength(0);
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ ignored: 1 });
  });

  it('parks the delivery and answers 202 queued when StartExecution is still throttled after three attempts', async () => {
    // Prepare
    sfn.respond(() => awsError(400, 'ThrottlingException', 'Rate exceeded'));
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'queued', name: EXECUTION_NAME });
    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    const message = sent[0]!.args[0].input;
    expect(message.QueueUrl).toBe(QUEUE_URL);
    expect(message.MessageAttributes).toMatchObject({
      deliveryId: { DataType: 'String', StringValue: '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
      provider: { DataType: 'String', StringValue: 'github' },
    });
    const parked = JSON.parse(message.MessageBody!) as ParkedDelivery;
    expect(parked).toMatchObject({
      version: 1,
      name: EXECUTION_NAME,
      parkedAt: '2026-11-26T03:00:00.000Z',
      reason: expect.stringContaining('ThrottlingException'),
    });
    expect(starts()).toHaveLength(3);
    const started = JSON.parse(starts()[0]!.input);
    expect(parked.input).toEqual(started);
    expect(response.lines.find((l) => '_aws' in l)).toMatchObject({ queued: 1 });
  });

  it('answers 503 when the delivery can be neither started nor parked', async () => {
    // Prepare
    sfn.respond(() => awsError(503, 'ServiceUnavailable', 'down'));
    sqs.on(SendMessageCommand).rejects(new Error('queue unavailable'));

    // Act
    const response = await invoke(handler(), apiEvent(githubDelivery('push', githubPush())));

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
    expect(starts()).toHaveLength(0);
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
    expect(starts()).toHaveLength(1);
    const input = JSON.parse(starts()[0]!.input);
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
    expect(starts().map((s) => s.name)).toEqual(names);
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
    expect(starts()).toHaveLength(0);
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
