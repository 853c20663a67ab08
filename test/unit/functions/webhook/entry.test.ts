import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSfnClient } from '../../../../adapters/aws/workflow';
import { ConfigError } from '../../../../core/errors';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { MOTO_CREDENTIALS, MOTO_REGION, motoClients } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import {
  bitbucketDelivery,
  CONFIG_INPUT,
  fixture,
  githubDelivery,
  githubExample,
  githubPush,
  type Loose,
  SECRET,
} from '../../intake/support';
import { apiEvent, CONTEXT, captureStdout } from './support';

const SAVED = { ...process.env };

afterEach(() => {
  process.env = { ...SAVED };
  vi.resetModules();
});

describe('the webhook entry point at cold start', () => {
  it('fails the init with a ConfigError naming the field when the configuration is invalid', async () => {
    // Prepare
    process.env['STEPLINE_CONFIG'] = JSON.stringify({
      version: 1,
      repositories: [{ provider: 'github', name: 'a/b' }],
    });
    process.env['STATE_MACHINE_ARN'] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:p';
    process.env['WEBHOOK_SECRET'] = 's';
    process.env['PARKING_QUEUE_URL'] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';

    // Act
    const load = import('../../../../functions/webhook/index');

    // Assess
    await expect(load).rejects.toThrow(ConfigError);
    await expect(import('../../../../functions/webhook/index')).rejects.toThrow(/repositories\[0\]\.build/);
  });

  it('builds the AWS handler when the settings are complete', async () => {
    // Prepare
    process.env['STEPLINE_CONFIG'] = 'stepline.config.json';
    process.env['STATE_MACHINE_ARN'] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:p';
    process.env['WEBHOOK_SECRET_ARN'] = 'stepline/webhook';
    process.env['PARKING_QUEUE_URL'] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
    process.env['AWS_REGION'] = 'eu-west-1';

    // Act
    const entry = await import('../../../../functions/webhook/index');

    // Assess
    expect(typeof entry.handler).toBe('function');
    expect(typeof entry.handler.use).toBe('function');
  });
});

describe('the webhook entry point on its stand-ins (moto, the fake Git host)', () => {
  const FULL = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
  const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
  const TOKEN = 'bitbucket-token-from-the-secret';
  let moto: MotoServer;
  let host: FakeGitHost;

  beforeAll(async () => {
    moto = await startMoto();
    host = await startFakeGitHost({ expectAuth: { bitbucket: { header: 'authorization', value: `Bearer ${TOKEN}` } } });
  }, 30_000);

  afterAll(async () => {
    await moto?.stop();
    await host?.close();
  });

  /** The function's environment as the WebhookIntake construct gives it, its endpoints the stand-ins'. */
  async function deployed(): Promise<typeof import('../../../../functions/webhook/index')> {
    await moto.reset();
    host.reset();
    const clients = motoClients(moto.endpoint);
    const tokens = await clients.secretsManager.send(
      new CreateSecretCommand({ Name: 'stepline-githost-tokens', SecretString: JSON.stringify({ bitbucket: TOKEN }) }),
    );
    const sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'stepline-pipeline',
        roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      }),
    );
    Object.assign(process.env, {
      STEPLINE_CONFIG: JSON.stringify(CONFIG_INPUT),
      STATE_MACHINE_ARN: ARN,
      WEBHOOK_SECRET: SECRET,
      PARKING_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
      STEPLINE_GITHOST_TOKENS_SECRET: tokens.ARN!,
      STEPLINE_BITBUCKET_API_URL: host.baseUrl('bitbucket'),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    return import('../../../../functions/webhook/index');
  }

  const sfn = () =>
    createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });

  async function invoke(entry: Awaited<ReturnType<typeof deployed>>, event: ReturnType<typeof apiEvent>) {
    const { result } = await captureStdout(() => entry.handler(event, CONTEXT));
    return { status: result.statusCode, body: JSON.parse(result.body as string) };
  }

  it("starts a Bitbucket pull request's run at the full commit, asked of the host with the secret's token", async () => {
    // Prepare
    const entry = await deployed();
    host.addCommit('bitbucket', 'acme/payments', FULL);

    // Act
    const response = await invoke(
      entry,
      apiEvent(bitbucketDelivery('pullrequest:created', fixture('bitbucket/pullrequest-created.json'))),
    );

    // Assess
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const execution = await sfn().send(new DescribeExecutionCommand({ executionArn: response.body.executionArn }));
    expect(JSON.parse(execution.input!).request.commit.sha).toBe(FULL);
    expect(host.requests.map((r) => r.headers['authorization'])).toEqual([`Bearer ${TOKEN}`]);
  });

  it('starts the input of a finished run again when its check run is re-run', async () => {
    // Prepare
    const entry = await deployed();
    const push = githubPush() as Loose;
    const first = await invoke(entry, apiEvent(githubDelivery('push', push)));
    await sfn().send(new StopExecutionCommand({ executionArn: first.body.executionArn }));
    const press = githubExample('check_run', (p: Loose) => p.action === 'rerequested');
    press.check_run.external_id = first.body.executionArn;
    press.check_run.head_sha = push.after;

    // Act
    const response = await invoke(entry, apiEvent(githubDelivery('check_run', press, { deliveryId: 'press-1' })));

    // Assess
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const { executions } = await sfn().send(new ListExecutionsCommand({ stateMachineArn: ARN }));
    expect(executions?.map((e) => e.name).sort()).toEqual([first.body.name, response.body.name].sort());
  });
});
