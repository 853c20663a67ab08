import { createHmac } from 'node:crypto';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqsClient, SqsParkingQueue } from '../../../../adapters/aws/parking';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import { validateConfig } from '../../../../core/config';
import type { ExecutionInput } from '../../../../core/intake/types';
import { createWebhookHandler } from '../../../../functions/webhook/handler';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import { CONFIG_INPUT, SECRETS } from '../../intake/support';
import { apiEvent, CONTEXT, captureStdout } from './support';

// The hand-off (`POST /webhooks/generic`, docs/adr/0100) through the webhook function as on Lambda: Step Functions
// and the parking queue are moto_server's, reached through the SDK as on AWS.

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const HANDOFF_SECRET = 'the jenkins hand-off secret';
const COMMIT = 'a'.repeat(40);
const DIGEST = `sha256:${'b'.repeat(64)}`;

const CONFIG = validateConfig(
  {
    ...CONFIG_INPUT,
    handoffs: {
      sources: {
        jenkins: {
          repositories: [{ name: 'Codertocat/Hello-World', environments: ['staging', 'production'] }],
          registries: ['ghcr.io/codertocat'],
          manifests: ['s3://acme-artifacts/jenkins/'],
        },
        circleci: {
          repositories: [{ name: 'acme/payments', environments: ['staging'] }],
          registries: ['ghcr.io/acme'],
          defaultManifests: 's3://acme-artifacts/circleci/{commit}',
        },
      },
    },
  },
  'hand-off test configuration',
);

let moto: MotoServer;
let sfn: SFNClient;
let sqs: SQSClient;
let queueUrl: string;

function handler() {
  return createWebhookHandler({
    config: CONFIG,
    secrets: new StaticWebhookSecrets(SECRETS),
    handoffSecrets: {
      get: async (source) => (source === 'jenkins' ? { current: HANDOFF_SECRET, previous: null } : null),
    },
    workflow: new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN),
    parking: new SqsParkingQueue(sqs, queueUrl),
  });
}

const BODY = {
  repository: 'Codertocat/Hello-World',
  commit: COMMIT,
  ref: 'refs/heads/master',
  image: `ghcr.io/codertocat/hello@${DIGEST}`,
  manifests: 's3://acme-artifacts/jenkins/42',
};

interface HandoffOptions {
  readonly source?: string;
  readonly delivery?: string;
  readonly secret?: string;
  /** The body the signature is computed over, when not the one sent. */
  readonly signedBody?: string;
  readonly signature?: string | null;
}

function handoff(body: unknown, options: HandoffOptions = {}) {
  const text = JSON.stringify(body);
  const signature =
    options.signature === undefined
      ? `sha256=${createHmac('sha256', options.secret ?? HANDOFF_SECRET)
          .update(options.signedBody ?? text)
          .digest('hex')}`
      : options.signature;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Stepline-Source': options.source ?? 'jenkins',
    'X-Stepline-Delivery': options.delivery ?? 'jenkins-build-42',
    ...(signature === null ? {} : { 'X-Stepline-Signature-256': signature }),
  };
  return apiEvent({ provider: 'generic', headers, body: text });
}

async function invoke(event: ReturnType<typeof apiEvent>) {
  const { result, output } = await captureStdout(() => handler()(event, CONTEXT));
  return { status: result.statusCode, body: JSON.parse(result.body as string), output };
}

async function executions(): Promise<Array<{ name: string; input: ExecutionInput }>> {
  const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
  return Promise.all(
    (executions ?? []).map(async (e) => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      return { name: d.name!, input: JSON.parse(d.input!) as ExecutionInput };
    }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } };
  sfn = createSfnClient(config);
  sqs = createSqsClient(config);
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

describe('a hand-off to the webhook function', () => {
  it('starts the run at its promotion with the image given, the ref’s environments and no suites', async () => {
    // Act
    const response = await invoke(handoff(BODY));

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'started' });
    const [only, ...others] = await executions();
    expect(others).toEqual([]);
    expect(only!.input.prebuilt).toMatchObject({
      image: { repository: 'ghcr.io/codertocat/hello', digest: DIGEST },
      manifestsLocation: 's3://acme-artifacts/jenkins/42',
      build: null,
    });
    expect(only!.input.handoff).toEqual({ source: 'jenkins', tests: false });
    expect(only!.input.request).toMatchObject({ provider: 'github', commit: { sha: COMMIT }, event: 'handoff' });
    expect(only!.input.route.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(only!.input.route.tests).toEqual([]);
    expect(only!.input.route.concurrencyKey).toBe('github:Codertocat/Hello-World:refs/heads/master');
  });

  it('runs the suites when asked, to the environments named', async () => {
    // Act
    const response = await invoke(handoff({ ...BODY, environments: ['staging'], tests: true }));

    // Assess
    expect(response.status).toBe(202);
    const [only] = await executions();
    expect(only!.input.route.environments.map((e) => e.name)).toEqual(['staging']);
    expect(only!.input.route.tests.map((t) => t.name)).toEqual(['unit']);
    expect(only!.input.handoff).toEqual({ source: 'jenkins', tests: true });
  });

  it('takes the source’s default manifests, with the commit, when the hand-off names none', async () => {
    // Prepare: circleci has no secret here; give it one through a handler of its own.
    const h = createWebhookHandler({
      config: CONFIG,
      secrets: new StaticWebhookSecrets(SECRETS),
      handoffSecrets: { get: async () => ({ current: 'circle', previous: null }) },
      workflow: new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN),
      parking: new SqsParkingQueue(sqs, queueUrl),
    });
    const body = { repository: 'acme/payments', commit: COMMIT, ref: 'main', image: `ghcr.io/acme/pay@${DIGEST}` };

    // Act
    const { result } = await captureStdout(() =>
      h(handoff(body, { source: 'circleci', secret: 'circle', delivery: 'c-1' }), CONTEXT),
    );

    // Assess
    expect(result.statusCode).toBe(202);
    const [only] = await executions();
    expect(only!.input.prebuilt?.manifestsLocation).toBe(`s3://acme-artifacts/circleci/${COMMIT}`);
    expect(only!.input.request.provider).toBe('bitbucket');
  });

  it('reads {artifactsBucket} in the source’s locations as the bucket the function is given', async () => {
    // Prepare
    const config = validateConfig(
      {
        ...CONFIG_INPUT,
        handoffs: {
          sources: {
            jenkins: {
              repositories: [{ name: 'Codertocat/Hello-World', environments: ['staging'] }],
              registries: ['ghcr.io/codertocat'],
              manifests: ['s3://{artifactsBucket}/handoffs/'],
              defaultManifests: 's3://{artifactsBucket}/handoffs/{commit}',
            },
          },
        },
      },
      'bucket test configuration',
    );
    const h = (bucket?: string) =>
      createWebhookHandler({
        config,
        secrets: new StaticWebhookSecrets(SECRETS),
        handoffSecrets: { get: async () => ({ current: HANDOFF_SECRET, previous: null }) },
        workflow: new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN),
        parking: new SqsParkingQueue(sqs, queueUrl),
        ...(bucket ? { handoffArtifactsBucket: bucket } : {}),
      });
    const named = { ...BODY, manifests: 's3://stack-artifacts-1a2b/handoffs/42' };
    const { manifests: _, ...unnamed } = BODY;

    // Act
    const given = await captureStdout(() => h('stack-artifacts-1a2b')(handoff(named, { delivery: 'b-1' }), CONTEXT));
    const byDefault = await captureStdout(() =>
      h('stack-artifacts-1a2b')(handoff(unnamed, { delivery: 'b-2' }), CONTEXT),
    );
    const noBucket = await captureStdout(() => h()(handoff(named, { delivery: 'b-3' }), CONTEXT));

    // Assess
    expect([given.result.statusCode, byDefault.result.statusCode, noBucket.result.statusCode]).toEqual([202, 202, 403]);
    const locations = (await executions()).map((e) => e.input.prebuilt?.manifestsLocation).sort();
    expect(locations).toEqual([
      's3://stack-artifacts-1a2b/handoffs/42',
      `s3://stack-artifacts-1a2b/handoffs/${COMMIT}`,
    ]);
  });

  describe('signature', () => {
    it.each([
      ['a forged signature (another secret)', { secret: 'not the secret' }],
      ['a signature over another body', { signedBody: JSON.stringify({ ...BODY, environments: ['production'] }) }],
      ['no signature', { signature: null }],
      ['a malformed signature', { signature: 'sha256=zz' }],
      ['an unknown source', { source: 'travis' }],
    ])('refuses %s with 401 and starts nothing', async (_, options: HandoffOptions) => {
      // Act
      const response = await invoke(handoff(BODY, options));

      // Assess
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: 'invalid_signature',
        message: 'the request signature is missing or wrong',
      });
      expect(await executions()).toEqual([]);
    });

    it('never logs the body, the signature or the secret', async () => {
      // Prepare
      const event = handoff({ ...BODY, manifests: 's3://acme-artifacts/jenkins/BODY-MARKER' });

      // Act
      const { output } = await invoke(event);

      // Assess
      for (const secret of ['BODY-MARKER', HANDOFF_SECRET, event.headers['x-stepline-signature-256']!]) {
        expect(output).not.toContain(secret);
      }
    });
  });

  it('never logs the value of an unknown source’s header', async () => {
    // Act
    const { status, output } = await invoke(handoff(BODY, { source: 'header-marker-7b2e' }));

    // Assess
    expect(status).toBe(401);
    expect(output).toContain('unknown hand-off source');
    expect(output).not.toContain('header-marker-7b2e');
  });

  describe('dedup by X-Stepline-Delivery', () => {
    it('starts one execution for the same delivery id twice, and answers 200 duplicate once it has ended', async () => {
      // Prepare
      const first = await invoke(handoff(BODY));
      await sfn.send(new StopExecutionCommand({ executionArn: first.body.executionArn }));

      // Act
      const again = await invoke(handoff(BODY));

      // Assess
      expect(again.status).toBe(200);
      expect(again.body).toEqual({
        status: 'duplicate',
        duplicate: true,
        executionArn: first.body.executionArn,
        name: first.body.name,
      });
      expect(await executions()).toHaveLength(1);
    });

    it('starts another execution for another delivery id', async () => {
      // Act
      await invoke(handoff(BODY, { delivery: 'one' }));
      await invoke(handoff(BODY, { delivery: 'two' }));

      // Assess
      expect(await executions()).toHaveLength(2);
    });
  });

  describe('refusals, each a 4xx naming the field, starting nothing', () => {
    it.each([
      ['an image by tag', { image: 'ghcr.io/codertocat/hello:1.2' }, 400, 'image_not_by_digest', 'image:'],
      [
        'an image with a tag and a digest',
        { image: `ghcr.io/codertocat/hello:1.2@${DIGEST}` },
        400,
        'image_not_by_digest',
        'image:',
      ],
      ['a short digest', { image: 'ghcr.io/codertocat/hello@sha256:abc' }, 400, 'image_not_by_digest', 'image:'],
      [
        'an image from another registry',
        { image: `docker.io/evil/hello@${DIGEST}` },
        403,
        'registry_not_allowed',
        'image:',
      ],
      [
        'a registry that only starts like the allowed one',
        { image: `ghcr.io/codertocat-evil/x@${DIGEST}` },
        403,
        'registry_not_allowed',
        'image:',
      ],
      [
        'a repository the source may not hand off',
        { repository: 'acme/payments' },
        403,
        'repository_not_allowed',
        'repository:',
      ],
      ['a repository not configured', { repository: 'acme/nothing' }, 403, 'repository_not_allowed', 'repository:'],
      [
        'an environment not allowed',
        { environments: ['staging', 'qa'] },
        403,
        'environment_not_allowed',
        'environments[1]:',
      ],
      [
        'an empty list of environments, without the tests',
        { environments: [], tests: false },
        400,
        'malformed_body',
        'environments: an empty list',
      ],
      ['manifests from elsewhere', { manifests: 's3://other-bucket/x' }, 403, 'manifests_not_allowed', 'manifests:'],
      [
        'manifests that climb out',
        { manifests: 's3://acme-artifacts/jenkins/../secret' },
        403,
        'manifests_not_allowed',
        'manifests:',
      ],
      [
        'manifests that climb out, percent-encoded (a URL parser resolves %2e%2e)',
        { manifests: 's3://acme-artifacts/jenkins/%2e%2E/secret' },
        403,
        'manifests_not_allowed',
        'manifests:',
      ],
      [
        'manifests that climb out of a folder, percent-encoded',
        { manifests: 's3://acme-artifacts/jenkins/.%2e/secret' },
        403,
        'manifests_not_allowed',
        'manifests:',
      ],
      ['an abbreviated commit', { commit: 'abc1234' }, 400, 'malformed_body', 'commit'],
      ['no ref', { ref: undefined }, 400, 'malformed_body', 'ref'],
      ['tests that are not a boolean', { tests: 'yes' }, 400, 'malformed_body', 'tests'],
    ])('%s', async (_, change, status, error, field) => {
      // Act
      const response = await invoke(handoff({ ...BODY, ...change }));

      // Assess
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
      expect(response.body.message).toContain(field);
      expect(await executions()).toEqual([]);
    });

    it('refuses a body that is not JSON with 400, after the signature', async () => {
      // Prepare
      const event = handoff(BODY);
      const text = '{not json';
      event.body = text;
      event.headers['x-stepline-signature-256'] =
        `sha256=${createHmac('sha256', HANDOFF_SECRET).update(text).digest('hex')}`;

      // Act
      const response = await invoke(event);

      // Assess
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('malformed_body');
    });

    it('asks for the delivery id header', async () => {
      // Prepare
      const event = handoff(BODY);
      delete event.headers['x-stepline-delivery'];

      // Act
      const response = await invoke(event);

      // Assess
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'missing_header', message: 'missing header X-Stepline-Delivery' });
    });
  });
});
