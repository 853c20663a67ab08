import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsRerunStarter } from '../../../../adapters/aws/rerun';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { gitHostCommitResolver } from '../../../../adapters/githost/commits';
import { gitHostSettings } from '../../../../adapters/githost/settings';
import { StaticTokenSource } from '../../../../adapters/githost/tokens';
import { StaticWebhookSecrets } from '../../../../adapters/local/secrets';
import { INTAKE_GITHOST_BUDGET } from '../../../../adapters/settings';
import type { ExecutionInput } from '../../../../core/intake/types';
import { createWebhookHandler, type WebhookDependencies } from '../../../../functions/webhook/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import {
  bitbucketDelivery,
  CONFIG,
  fixture,
  githubDelivery,
  githubExample,
  githubPush,
  type Loose,
  SECRETS,
} from '../../intake/support';
import { apiEvent, CONTEXT, captureStdout } from './support';

/**
 * The webhook function with its two newer ports, on real stand-ins: a Bitbucket pull request's abbreviated commit
 * resolved at the host's commit API (the fake Git host, with a token it checks) before the run starts on Step
 * Functions (moto), issue 21 and docs/adr/0090; GitHub's "Re-run" on a check run starting the run's input again
 * (DescribeExecution and StartExecution on moto), issue 17 and docs/adr/0091.
 */

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const FULL = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const TOKEN = 'bitbucket-access-token';

let moto: MotoServer;
let sfn: SFNClient;
let host: FakeGitHost;

beforeAll(async () => {
  moto = await startMoto();
  sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
  host = await startFakeGitHost({ expectAuth: { bitbucket: { header: 'authorization', value: `Bearer ${TOKEN}` } } });
}, 30_000);

afterAll(async () => {
  sfn?.destroy();
  await moto?.stop();
  await host?.close();
});

beforeEach(async () => {
  await moto.reset();
  host.reset();
  await sfn.send(
    new CreateStateMachineCommand({
      name: 'stepline-pipeline',
      roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
});

/** The handler as functions/webhook/index.ts composes it, its AWS and Git host endpoints the stand-ins. */
function handler(overrides: Partial<WebhookDependencies> = {}) {
  const workflow = new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN);
  const settings = gitHostSettings({ baseUrls: { bitbucket: host.baseUrl('bitbucket') }, ...INTAKE_GITHOST_BUDGET });
  return createWebhookHandler({
    config: CONFIG,
    secrets: new StaticWebhookSecrets(SECRETS),
    workflow,
    parking: { park: async () => Promise.reject(new Error('nothing is parked in these tests')) },
    commits: gitHostCommitResolver(settings, new StaticTokenSource({ bitbucket: TOKEN })),
    reruns: new StepFunctionsRerunStarter(sfn, STATE_MACHINE_ARN, workflow),
    ...overrides,
  });
}

async function invoke(h: ReturnType<typeof handler>, event: ReturnType<typeof apiEvent>) {
  const { result, output } = await captureStdout(() => h(event, CONTEXT));
  return { status: result.statusCode, body: JSON.parse(result.body as string), output };
}

/** The executions moto holds, by name, with their input. */
async function executions(): Promise<Array<{ name: string; input: string; status: string }>> {
  const { executions: list } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
  const described = await Promise.all(
    (list ?? []).map((e) => sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))),
  );
  return described
    .map((e) => ({ name: e.name!, input: e.input!, status: e.status! }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const pullRequest = () =>
  apiEvent(bitbucketDelivery('pullrequest:created', fixture('bitbucket/pullrequest-created.json')));

describe("the webhook function and a Bitbucket pull request's abbreviated commit", () => {
  it('starts the run at the full SHA the commit API gives, asked with the token', async () => {
    // Prepare
    host.addCommit('bitbucket', 'acme/payments', FULL);

    // Act
    const response = await invoke(handler(), pullRequest());

    // Assess
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(host.requests.map((r) => [r.method, r.path, r.headers['authorization']])).toEqual([
      ['GET', '/repositories/acme/payments/commit/1a2b3c4d5e6f', `Bearer ${TOKEN}`],
    ]);
    const [started] = await executions();
    const input = JSON.parse(started!.input) as ExecutionInput;
    expect(input.request.commit.sha).toBe(FULL);
    expect(input.request.pullRequest?.head.sha).toBe(FULL);
    expect(started!.name).toBe(response.body.name);
  });

  it('answers 503 and starts nothing when the host cannot answer within its two tries, never logging the token', async () => {
    // Prepare
    host.addCommit('bitbucket', 'acme/payments', FULL);
    for (let i = 0; i <= INTAKE_GITHOST_BUDGET.retries; i += 1)
      host.enqueue({ status: 502 }, { provider: 'bitbucket' });

    // Act
    const response = await invoke(handler(), pullRequest());

    // Assess
    expect(response).toMatchObject({ status: 503, body: { error: 'unavailable' } });
    expect(host.requests).toHaveLength(1 + INTAKE_GITHOST_BUDGET.retries);
    expect(await executions()).toEqual([]);
    expect(response.output).toContain('resolving commit 1a2b3c4d5e6f');
    expect(response.output).not.toContain(TOKEN);
  });

  it('starts nothing, saying why, for a commit the host does not know (force-pushed away)', async () => {
    // Act
    const response = await invoke(handler(), pullRequest());

    // Assess
    expect(response).toMatchObject({ status: 202, body: { status: 'ignored', code: 'event_not_handled' } });
    expect(response.body.reason).toContain('1a2b3c4d5e6f is not in acme/payments');
    expect(await executions()).toEqual([]);
  });
});

/** GitHub's check_run rerequested (@octokit/webhooks-examples) on the check run of the execution `arn`. */
function rerunPress(arn: string, sha: string, deliveryId: string) {
  const payload = githubExample('check_run', (p: Loose) => p.action === 'rerequested');
  payload.check_run.external_id = arn;
  payload.check_run.head_sha = sha;
  return apiEvent(githubDelivery('check_run', payload, { deliveryId }));
}

describe('the webhook function and "Re-run" on a check run', () => {
  async function finishedPush() {
    const push = githubPush() as Loose;
    const started = await invoke(handler(), apiEvent(githubDelivery('push', push)));
    await sfn.send(new StopExecutionCommand({ executionArn: started.body.executionArn }));
    return { arn: started.body.executionArn as string, sha: push.after as string };
  }

  it("starts the run's input again under a name of its own, and a redelivery of the press starts nothing", async () => {
    // Prepare
    const { arn, sha } = await finishedPush();
    const press = rerunPress(arn, sha, 'b0b0b0b0-0000-4000-8000-000000000001');

    // Act
    const first = await invoke(handler(), press);
    await sfn.send(new StopExecutionCommand({ executionArn: first.body.executionArn }));
    const again = await invoke(handler(), press);

    // Assess
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ status: 'started', name: expect.stringMatching(/-r[0-9a-f]{8}$/) });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', name: first.body.name } });
    const all = await executions();
    expect(all.map((e) => e.name)).toEqual([arn.split(':').at(-1), first.body.name].sort());
    expect(new Set(all.map((e) => e.input)).size).toBe(1);
  });

  it('answers 503 when the run it names is not there to re-run', async () => {
    // Act
    const response = await invoke(
      handler(),
      rerunPress(`${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:gone`, 'a'.repeat(40), 'd-2'),
    );

    // Assess
    expect(response).toMatchObject({ status: 503, body: { error: 'unavailable' } });
    expect(response.output).toContain('nothing to re-run');
    expect(await executions()).toEqual([]);
  });

  it('ignores the press when the function has no re-run starter, as before', async () => {
    // Prepare
    const { arn, sha } = await finishedPush();

    // Act
    const response = await invoke(handler({ reruns: undefined }), rerunPress(arn, sha, 'd-3'));

    // Assess
    expect(response).toMatchObject({ status: 202, body: { status: 'ignored' } });
    expect((await executions()).map((e) => e.name)).toEqual([arn.split(':').at(-1)]);
  });
});
