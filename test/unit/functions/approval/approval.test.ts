import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsCallbacks } from '../../../../adapters/aws/approvals-sfn';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type { ApprovalTaskEvent } from '../../../../core/approval/contracts';
import { csrfToken, openSession } from '../../../../core/approval/session';
import type { Provider } from '../../../../core/config/schema';
import { ConsoleLinks } from '../../../../core/status/links';
import { createApprovalHttpHandler } from '../../../../functions/approval/http';
import type { IdentityMode } from '../../../../functions/approval/identity';
import { createApprovalTaskHandler } from '../../../../functions/approval/task';
import { createStatusHandler } from '../../../../functions/status/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';
import { Agent } from './agent';

const KEYS = ['approval-signing-key-0123456789abcdef'];
const TASK_TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAfake-task-token-for-tests';
const BASE = 'https://approve.example.test';
const sfn = mockClient(SFNClient);
// The stub is on the client's prototype: later files in this worker must get the real send back.
afterAll(() => sfn.restore());
let host: FakeGitHost;
let store: SqliteApprovalStore;
let clock: number;

const links = new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' });
const transportFor = async (provider: Provider) =>
  new HttpHostTransport({
    provider,
    baseUrl: host.baseUrl(provider),
    credential: { scheme: 'bearer', token: 'x' },
    backoff: () => 0,
    sleep: async () => {},
  });

const taskEvent: ApprovalTaskEvent = {
  taskToken: TASK_TOKEN,
  request: pipelineRequest('github'),
  route: route(),
  executionArn: EXECUTION_ARN,
  environment: 'production',
  image: { uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/shop', digest: 'sha256:feedbeef' },
  tests: [
    { suite: 'unit', state: 'success' },
    { suite: 'e2e', state: 'success' },
  ],
};

function taskHandler() {
  return createApprovalTaskHandler({
    store,
    keys: async () => KEYS,
    baseUrl: BASE,
    transportFor,
    links,
    contextPrefix: 'stepline',
    now: () => clock,
  });
}

const PROXY: IdentityMode = { signIn: null, trusted: { kind: 'header', header: 'x-forwarded-user' } };

function httpHandler(identity: IdentityMode = PROXY, approvals: SqliteApprovalStore = store) {
  return createApprovalHttpHandler({
    store: approvals,
    callbacks: stepFunctionsCallbacks(new SFNClient({ region: 'eu-west-1' })),
    keys: async () => KEYS,
    identity,
    links,
    baseUrl: BASE,
    now: () => clock,
  });
}

/** The CSRF token the session would get on a page that offers the form: a decision the page did not offer. */
function csrfOf(agent: Agent, url: string): string {
  const opened = openSession(agent.cookie('__Host-stepline-approval-session'), KEYS, clock);
  if (!opened.ok) throw new Error('no session');
  return csrfToken(opened.claims, url.split('/').at(-1)!.split('.')[0]!, KEYS);
}

/** A browser behind an authenticating proxy that says the person is `user`. */
function browser(user?: string): Agent {
  return new Agent(httpHandler(), BASE, user ? { 'x-forwarded-user': user } : {});
}

/** Opens the page as `user`, then sends the form with `form` added, as the page's buttons do. */
async function decide(url: string, user: string, form: Record<string, string>) {
  const agent = browser(user);
  const page = await agent.send('GET', url);
  return agent.send('POST', url, { ...Agent.fields(page.body), ...form });
}

async function requestApproval() {
  const { result } = await captureStdout(() => taskHandler()(taskEvent, lambdaContext()));
  return result;
}

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  store = new SqliteApprovalStore(':memory:');
  clock = 1_893_456_000;
  sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
});
afterEach(() => {
  store.close();
  sfn.reset();
});

const deployStatus = () => host.latest('github', 'acme/shop', SHA).get('stepline/deploy/production');

describe('the approval task', () => {
  it('records the request and posts a pending status and deployment that link to the approval page', async () => {
    // Act
    const result = await requestApproval();

    // Assess
    expect(result.url).toMatch(
      /^https:\/\/approve\.example\.test\/approvals\/[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}$/,
    );
    expect(result.url).not.toContain(TASK_TOKEN);
    expect(result.expiresAt).toBe(new Date((clock + 86_400) * 1000).toISOString());
    expect(deployStatus()).toMatchObject({
      state: 'pending',
      description: 'waiting for approval by alice, Bob to deploy to production',
      targetUrl: result.url,
    });
    expect(host.deployments('acme/shop')[0]?.statuses[0]).toMatchObject({ state: 'queued', environment: 'production' });
    expect((await store.get(result.approvalId))?.taskToken).toBe(TASK_TOKEN);
  });

  it('records one request when the invocation is retried with the same token', async () => {
    const first = await requestApproval();
    const again = await requestApproval();
    expect(again).toMatchObject({ approvalId: first.approvalId, url: first.url, existing: true });
  });

  it('keeps its one request when the run resumes at the gate with a new task token: same id, same link', async () => {
    // Prepare
    const first = await requestApproval();

    // Act: the runtime restarted; the engine asks again with the token of its new attempt.
    const { result: resumed } = await captureStdout(() =>
      taskHandler()({ ...taskEvent, taskToken: `${TASK_TOKEN}-resumed` }, lambdaContext()),
    );

    // Assess
    expect(resumed).toMatchObject({ approvalId: first.approvalId, url: first.url, existing: true });
    expect((await store.get(first.approvalId))?.taskToken).toBe(`${TASK_TOKEN}-resumed`);
    expect((await store.listWaiting(clock)).map((r) => r.id)).toEqual([first.approvalId]);
  });

  it('asks again with a new request when the gate was decided already (a redriven run)', async () => {
    // Prepare
    const first = await requestApproval();
    await store.decide(first.approvalId, { status: 'rejected', by: 'alice', at: 'x', reason: null }, clock);

    // Act
    const { result: again } = await captureStdout(() =>
      taskHandler()({ ...taskEvent, taskToken: `${TASK_TOKEN}-redriven` }, lambdaContext()),
    );

    // Assess
    expect(again.approvalId).not.toBe(first.approvalId);
    expect(again.existing).toBe(false);
    expect((await store.get(again.approvalId))?.status).toBe('waiting');
  });

  it('fails for an environment that asks for no approval', async () => {
    await expect(
      captureStdout(() => taskHandler()({ ...taskEvent, environment: 'staging' }, lambdaContext())),
    ).rejects.toThrow('environment "staging" asks for no approval');
  });
});

describe('the approval page', () => {
  it('shows the commit, image, environment and tests with Approve and Reject', async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const page = await browser('alice').send('GET', url);

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    for (const text of [
      'Deploy to production?',
      SHA.slice(0, 12),
      'Add the basket',
      'sha256:feedbeef',
      'unit',
      'e2e',
      'alice, Bob',
    ]) {
      expect(page.body).toContain(text);
    }
    expect(page.body).toContain('value="approve"');
    expect(page.body).toContain('value="reject"');
    expect(page.body).not.toContain(TASK_TOKEN);
  });

  it('approves once: SendTaskSuccess with who and when, then a replay gets 409', async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const approved = await decide(url, 'Alice', { decision: 'approve' });
    const replay = await decide(url, 'bob', { decision: 'reject' });

    // Assess
    expect(approved.status).toBe(200);
    expect(approved.body).toContain('Approved by Alice');
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe(TASK_TOKEN);
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toEqual({
      approved: true,
      environment: 'production',
      approvedBy: 'Alice',
      approvedAt: new Date(clock * 1000).toISOString(),
    });
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('already approved by Alice');
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('rejects with the reason: SendTaskFailure Stepline.ApprovalRejected', async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const rejected = await decide(url, 'bob', { decision: 'reject', reason: 'code freeze' });

    // Assess
    expect(rejected.status).toBe(200);
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input.error).toBe('Stepline.ApprovalRejected');
    expect(JSON.parse(input.cause!)).toMatchObject({
      environment: 'production',
      rejectedBy: 'bob',
      reason: 'code freeze',
    });
  });

  it('refuses someone who is not an approver, and tells nobody the run', async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const agent = browser('mallory');
    const page = await agent.send('GET', url);
    const forced = await agent.send('POST', url, { csrf: csrfOf(agent, url), decision: 'approve' });
    const anonymous = await browser().send('GET', url);

    // Assess
    expect(page.body).toContain('mallory is not among the approvers of production (alice, Bob)');
    expect(page.body).not.toContain('value="approve"');
    expect(forced.status).toBe(403);
    expect(forced.body).toContain('mallory is not among the approvers of production');
    expect(anonymous.status).toBe(401);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await store.get((await requestApproval()).approvalId))?.status).toBe('waiting');
  });

  it('answers a forged link with 403, a malformed one with 400 and an unknown one with 404', async () => {
    // Prepare
    const { url } = await requestApproval();
    const forged = url.replace(/\.(\d+)\./, (_m, exp: string) => `.${Number(exp) + 3600}.`);
    const otherKey = url.replace(/[A-Za-z0-9_-]{43}$/, 'A'.repeat(43));

    // Act
    const answers = await Promise.all([
      decide(forged, 'alice', { decision: 'approve' }),
      browser('alice').send('GET', otherKey),
      browser('alice').send('GET', `${BASE}/approvals/not-a-link`),
      browser('alice').send('GET', url.replace(/^(.*\/approvals\/)[A-Za-z0-9_-]{22}/, '$1ZZZZZZZZZZZZZZZZZZZZZZ')),
    ]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([403, 403, 400, 403]);
    expect(answers[0]!.body).toContain('signature does not match');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers a validly signed id that the store does not know with 404', async () => {
    // Prepare
    const { url } = await requestApproval();
    const other = new SqliteApprovalStore(':memory:');
    const agent = new Agent(httpHandler(PROXY, other), BASE, { 'x-forwarded-user': 'alice' });

    // Act
    const page = await agent.send('GET', url);

    // Assess
    expect(page.status).toBe(404);
    other.close();
  });

  it('answers an expired link with 410 and tells Step Functions nothing', async () => {
    // Prepare
    const { url } = await requestApproval();
    clock += 86_400;

    // Act
    const expired = await decide(url, 'alice', { decision: 'approve' });

    // Assess
    expect(expired.status).toBe(410);
    expect(expired.body).toContain('was not approved');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers 410 and marks the request expired when the run no longer waits', async () => {
    // Prepare
    const { url, approvalId } = await requestApproval();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    // Act
    const late = await decide(url, 'alice', { decision: 'approve' });

    // Assess
    expect(late.status).toBe(410);
    expect((await store.get(approvalId))?.status).toBe('expired');
  });

  it('undoes the decision when Step Functions cannot be reached, so that it can be tried again', async () => {
    // Prepare
    const { url, approvalId } = await requestApproval();
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const first = await decide(url, 'alice', { decision: 'approve' });
    const second = await decide(url, 'alice', { decision: 'approve' });

    // Assess
    expect(first.status).toBe(503);
    expect(second.status).toBe(200);
    expect((await store.get(approvalId))?.status).toBe('approved');
  });

  it("decides as the proxy's person, and refuses a decision when the proxy names someone else since the page", async () => {
    // Prepare
    const { url, approvalId } = await requestApproval();
    const agent = browser('alice');
    const fields = Agent.fields((await agent.send('GET', url)).body);
    agent.headers = { 'x-forwarded-user': 'bob' };

    // Act
    const switched = await agent.send('POST', url, { ...fields, decision: 'approve' });

    // Assess
    expect(switched.status).toBe(401);
    expect((await store.get(approvalId))?.status).toBe('waiting');
  });

  it('refuses a form without a decision, and methods other than GET and POST', async () => {
    // Prepare
    const { url } = await requestApproval();
    const agent = browser('alice');

    // Act
    const noDecision = await decide(url, 'alice', { reason: 'x' });
    const put = await agent.send('PUT', url);
    const postToCallback = await agent.send('POST', `${BASE}/approvals/oauth/callback`);

    // Assess
    expect(noDecision.status).toBe(400);
    expect(put.status).toBe(405);
    expect(postToCallback.status).toBe(405);
  });
});

describe('an approval that times out', () => {
  it('ends the run "not approved" on the commit, and its link stops working', async () => {
    // Prepare: the gate waits; the workflow's task times out after the environment's 24 h.
    const { url } = await requestApproval();
    clock += 86_400;
    const status = createStatusHandler({ transportFor, links, contextPrefix: 'stepline' });
    const base = { request: taskEvent.request, route: taskEvent.route, executionArn: EXECUTION_ARN } as const;

    // Act: the workflow's Catch for States.Timeout reports the gate, then the run.
    await captureStdout(() =>
      status(
        {
          ...base,
          step: 'approval',
          environment: 'production',
          state: 'failure',
          detail: { approval: { outcome: 'timed-out' } },
        },
        lambdaContext(),
      ),
    );
    await captureStdout(() =>
      status(
        {
          ...base,
          step: 'pipeline',
          state: 'failure',
          detail: { failedStep: { step: 'approval', environment: 'production' }, reason: 'no decision within 24 h' },
        },
        lambdaContext(),
      ),
    );
    const late = await decide(url, 'alice', { decision: 'approve' });

    // Assess
    const latest = host.latest('github', 'acme/shop', SHA);
    expect(latest.get('stepline/deploy/production')).toMatchObject({
      state: 'failure',
      description: 'not approved: no decision within 24 h',
    });
    expect(latest.get('stepline')).toMatchObject({
      state: 'failure',
      description: 'not approved for production: no decision within 24 h',
    });
    expect(host.deployments('acme/shop')[0]?.statuses.map((s) => s.state)).toEqual(['queued', 'failure']);
    expect(late.status).toBe(410);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});
