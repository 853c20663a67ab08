import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsCallbacks } from '../../../../adapters/aws/approvals-sfn';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type { ApprovalTaskEvent } from '../../../../core/approval/contracts';
import type { Provider } from '../../../../core/config/schema';
import { ConsoleLinks } from '../../../../core/status/links';
import { createApprovalHttpHandler } from '../../../../functions/approval/http';
import type { IdentityMode } from '../../../../functions/approval/identity';
import { createApprovalTaskHandler } from '../../../../functions/approval/task';
import { createStatusHandler } from '../../../../functions/status/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';

const KEYS = ['approval-signing-key-0123456789abcdef'];
const TASK_TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAfake-task-token-for-tests';
const BASE = 'https://approve.example.test';
const sfn = mockClient(SFNClient);
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

function httpHandler(identity: IdentityMode = { kind: 'jwt', claim: 'preferred_username' }) {
  return createApprovalHttpHandler({
    store,
    callbacks: stepFunctionsCallbacks(new SFNClient({ region: 'eu-west-1' })),
    keys: async () => KEYS,
    identity,
    links,
    now: () => clock,
  });
}

function httpEvent(
  method: 'GET' | 'POST',
  url: string,
  options: { user?: string; form?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const rawPath = new URL(url).pathname;
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{id}`,
    rawPath,
    rawQueryString: '',
    headers: options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    pathParameters: { id: rawPath.split('/').at(-1)! },
    isBase64Encoded: false,
    body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'approve.example.test',
      domainPrefix: 'approve',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'r1',
      routeKey: `${method} /approvals/{id}`,
      stage: '$default',
      time: '01/Jan/2030:00:00:00 +0000',
      timeEpoch: 1_893_456_000_000,
      ...(options.user ? { authorizer: { jwt: { claims: { preferred_username: options.user }, scopes: [] } } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

async function requestApproval() {
  const { result } = await captureStdout(() => taskHandler()(taskEvent, lambdaContext()));
  return result;
}

async function http(event: APIGatewayProxyEventV2, identity?: IdentityMode) {
  const { result } = await captureStdout(() => httpHandler(identity)(event, lambdaContext()));
  return result as { statusCode: number; body: string; headers: Record<string, string> };
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
    const page = await http(httpEvent('GET', url, { user: 'alice' }));

    // Assess
    expect(page.statusCode).toBe(200);
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
    const approved = await http(httpEvent('POST', url, { user: 'Alice', form: { decision: 'approve' } }));
    const replay = await http(httpEvent('POST', url, { user: 'bob', form: { decision: 'reject' } }));

    // Assess
    expect(approved.statusCode).toBe(200);
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
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('already approved by Alice');
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('rejects with the reason: SendTaskFailure Stepline.ApprovalRejected', async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const rejected = await http(
      httpEvent('POST', url, { user: 'bob', form: { decision: 'reject', reason: 'code freeze' } }),
    );

    // Assess
    expect(rejected.statusCode).toBe(200);
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
    const forbidden = await http(httpEvent('POST', url, { user: 'mallory', form: { decision: 'approve' } }));
    const anonymous = await http(httpEvent('POST', url, { form: { decision: 'approve' } }));

    // Assess
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.body).toContain(
      '<strong>mallory</strong> is not among the approvers of <strong>production</strong>',
    );
    expect(anonymous.statusCode).toBe(403);
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
      http(httpEvent('POST', forged, { user: 'alice', form: { decision: 'approve' } })),
      http(httpEvent('GET', otherKey)),
      http(httpEvent('GET', `${BASE}/approvals/not-a-link`)),
      http(httpEvent('GET', url.replace(/^(.*\/approvals\/)[A-Za-z0-9_-]{22}/, '$1ZZZZZZZZZZZZZZZZZZZZZZ'))),
    ]);

    // Assess
    expect(answers.map((a) => a.statusCode)).toEqual([403, 403, 400, 403]);
    expect(answers[0]!.body).toContain('signature does not match');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers a validly signed id that the store does not know with 404', async () => {
    // Prepare
    const { url } = await requestApproval();
    const other = new SqliteApprovalStore(':memory:');
    const page = createApprovalHttpHandler({
      store: other,
      callbacks: stepFunctionsCallbacks(new SFNClient({ region: 'eu-west-1' })),
      keys: async () => KEYS,
      identity: { kind: 'jwt', claim: 'preferred_username' },
      links,
      now: () => clock,
    });

    // Act
    const { result } = await captureStdout(() => page(httpEvent('GET', url), lambdaContext()));

    // Assess
    expect((result as { statusCode: number }).statusCode).toBe(404);
    other.close();
  });

  it('answers an expired link with 410 and tells Step Functions nothing', async () => {
    // Prepare
    const { url } = await requestApproval();
    clock += 86_400;

    // Act
    const expired = await http(httpEvent('POST', url, { user: 'alice', form: { decision: 'approve' } }));

    // Assess
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('was not approved');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers 410 and marks the request expired when the run no longer waits', async () => {
    // Prepare
    const { url, approvalId } = await requestApproval();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    // Act
    const late = await http(httpEvent('POST', url, { user: 'alice', form: { decision: 'approve' } }));

    // Assess
    expect(late.statusCode).toBe(410);
    expect((await store.get(approvalId))?.status).toBe('expired');
  });

  it('undoes the decision when Step Functions cannot be reached, so that it can be tried again', async () => {
    // Prepare
    const { url, approvalId } = await requestApproval();
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const first = await http(httpEvent('POST', url, { user: 'alice', form: { decision: 'approve' } }));
    const second = await http(httpEvent('POST', url, { user: 'alice', form: { decision: 'approve' } }));

    // Assess
    expect(first.statusCode).toBe(503);
    expect(second.statusCode).toBe(200);
    expect((await store.get(approvalId))?.status).toBe('approved');
  });

  it("takes the approver's name from the form only in the local runtime's form mode", async () => {
    // Prepare
    const { url } = await requestApproval();

    // Act
    const page = await http(httpEvent('GET', url), { kind: 'form' });
    const decided = await http(httpEvent('POST', url, { form: { decision: 'approve', user: 'bob' } }), {
      kind: 'form',
    });

    // Assess
    expect(page.body).toContain('name="user"');
    expect(decided.statusCode).toBe(200);
    expect(decided.body).toContain('Approved by bob');
  });

  it('refuses a form without a decision, and methods other than GET and POST', async () => {
    const { url } = await requestApproval();
    const noDecision = await http(httpEvent('POST', url, { user: 'alice', form: { reason: 'x' } }));
    const put = await http({
      ...httpEvent('GET', url),
      requestContext: {
        ...httpEvent('GET', url).requestContext,
        http: { ...httpEvent('GET', url).requestContext.http, method: 'PUT' },
      },
    });
    expect(noDecision.statusCode).toBe(400);
    expect(put.statusCode).toBe(405);
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
    const late = await http(httpEvent('POST', url, { user: 'alice', form: { decision: 'approve' } }));

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
    expect(late.statusCode).toBe(410);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});
