import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type {
  ApprovalGranted,
  ApprovalRejectedCause,
  ApprovalTaskEvent,
  TaskCallbacks,
} from '../../../../core/approval/contracts';
import { requestApproval } from '../../../../core/approval/service';
import { csrfToken, openSession } from '../../../../core/approval/session';
import type { Provider } from '../../../../core/config/schema';
import { createApprovalHttpHandler } from '../../../../functions/approval/http';
import { signInHosts } from '../../../../functions/approval/sign-in';
import { EXECUTION_ARN, environment, pipelineRequest, route } from '../../../support/githost/fixtures';
import { type OAuthStandIn, startOAuthStandIn } from '../../../support/oauth/server';
import { Agent } from './agent';

/**
 * The approval pages' sign-in, end to end through the real middy handler: the link, the host's authorize endpoint
 * (a stand-in on 127.0.0.1 for each host), the callback, the session, the decision. GitHub, then GitLab, then
 * Bitbucket: the same behaviour, each host's own shapes.
 */

const KEYS = ['approval-signing-key-0123456789abcdef'];
const BASE = 'https://approve.example.test';
const CALLBACK = `${BASE}/approvals/oauth/callback`;
const CLIENT = { clientId: 'stepline-client', clientSecret: 'stepline-client-secret' };

const USERS = [
  { login: 'alice', id: 11, uuid: '{0a11ce00-0000-4000-8000-000000000011}', accountId: '557058:alice' },
  { login: 'mallory', id: 12, uuid: '{0a11ce00-0000-4000-8000-000000000012}', accountId: '557058:mallory' },
  { login: 'octocat', id: 13, uuid: '{0a11ce00-0000-4000-8000-000000000013}', accountId: '557058:octocat' },
  { login: 'carol', id: 14, uuid: '{0a11ce00-0000-4000-8000-000000000014}', accountId: '557058:carol' },
];
/** Bitbucket lists account ids (nicknames are not unique); the others list logins. */
const APPROVER: Record<Provider, string> = { github: 'alice', gitlab: 'alice', bitbucket: '557058:alice' };
const TEAM: Record<Provider, string> = { github: '@acme/release', gitlab: '@acme/release', bitbucket: '@acme' };

interface Calls {
  succeeded: { token: string; output: ApprovalGranted }[];
  failed: { token: string; error: string; cause: ApprovalRejectedCause }[];
}

function recordingCallbacks(calls: Calls): TaskCallbacks {
  return {
    succeed: async (token, output) => {
      calls.succeeded.push({ token, output });
      return { kind: 'ok' };
    },
    fail: async (token, error, cause) => {
      calls.failed.push({ token, error, cause });
      return { kind: 'ok' };
    },
    heartbeat: async () => ({ kind: 'ok' }),
  };
}

describe.each<Provider>(['github', 'gitlab', 'bitbucket'])('signing in with %s on the approval page', (provider) => {
  let host: OAuthStandIn;
  let store: SqliteApprovalStore;
  let calls: Calls;
  let clock: number;
  let keys: readonly string[];

  beforeAll(async () => {
    host = await startOAuthStandIn({
      provider,
      client: CLIENT,
      callbackUrl: CALLBACK,
      users: USERS,
      teams: { [TEAM[provider].slice(1)]: ['carol'] },
    });
  });
  afterAll(async () => {
    await host.close();
  });
  beforeEach(() => {
    host.reset();
    store = new SqliteApprovalStore(':memory:');
    calls = { succeeded: [], failed: [] };
    clock = 1_893_456_000;
    keys = KEYS;
  });

  function handler() {
    return createApprovalHttpHandler({
      store,
      callbacks: recordingCallbacks(calls),
      keys: async () => keys,
      identity: {
        signIn: signInHosts({
          github: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => CLIENT },
          gitlab: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => CLIENT },
          bitbucket: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => CLIENT },
        }),
        trusted: null,
      },
      links: null,
      baseUrl: BASE,
      now: () => clock,
    });
  }

  async function gate(approvers: string[] = [APPROVER[provider]], execution = EXECUTION_ARN): Promise<string> {
    const event: ApprovalTaskEvent = {
      taskToken: `token-${execution}`,
      request: pipelineRequest(provider),
      route: route({
        environments: [environment('production', { approval: { approvers, timeoutSeconds: 86_400 } })],
      }),
      executionArn: execution,
      environment: 'production',
    };
    const result = await requestApproval(event, {
      store,
      keys: KEYS,
      baseUrl: BASE,
      now: () => clock,
      postStatus: async () => {},
    });
    return result.url;
  }

  /** The CSRF token the session would get on a page that offers the form: a decision the page did not offer. */
  function csrfOf(agent: Agent, url: string): string {
    const opened = openSession(agent.cookie('__Host-stepline-approval-session'), KEYS, clock);
    if (!opened.ok) throw new Error('no session');
    return csrfToken(opened.claims, url.split('/').at(-1)!.split('.')[0]!, KEYS);
  }

  async function signedIn(url: string, login: string, agent = new Agent(handler(), BASE)) {
    host.signInAs(login);
    const page = await agent.open(url);
    return { agent, page, fields: Agent.fields(page.body) };
  }

  it('signs in with the host, shows who signed in, and approves as that login', async () => {
    // Prepare
    const url = await gate();

    // Act
    const { agent, page, fields } = await signedIn(url, 'alice');
    const decided = await agent.send('POST', url, { ...fields, decision: 'approve' });

    // Assess
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signed in as <strong>alice</strong>');
    expect(decided.status).toBe(200);
    expect(decided.body).toContain('Approved by alice');
    expect(calls.succeeded).toEqual([
      {
        token: `token-${EXECUTION_ARN}`,
        output: {
          approved: true,
          environment: 'production',
          approvedBy: 'alice',
          approvedAt: new Date(clock * 1000).toISOString(),
        },
      },
    ]);
  });

  it('sends state and, where the host takes it, a PKCE challenge that the token request proves', async () => {
    // Prepare
    const url = await gate();

    // Act
    const { agent } = await signedIn(url, 'alice');

    // Assess
    const [authorize] = host.calls(/authorize$/);
    const [token] = host.calls(/(access_token|oauth\/token)$/);
    const redirect = agent.seen.find((a) => a.headers['location']?.startsWith(host.oauthUrl))!;
    expect(authorize!.query['state']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(authorize!.query['client_id']).toBe(CLIENT.clientId);
    expect(redirect.headers['referrer-policy']).toBe('no-referrer');
    if (provider === 'bitbucket') {
      expect(authorize!.query['code_challenge']).toBeUndefined();
      expect(token!.headers['authorization']).toBe(
        `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
      );
    } else {
      expect(authorize!.query['code_challenge_method']).toBe('S256');
      expect(new URLSearchParams(token!.body).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    // The person's token went to the host's API, and nowhere else: not to a page, a cookie or a redirect.
    const accessToken = host.calls(/\/user$/)[0]!.headers['authorization']!.replace(/^Bearer /, '');
    expect(accessToken.length).toBeGreaterThan(10);
    expect(JSON.stringify(agent.seen)).not.toContain(accessToken);
  });

  it('keeps the session in an HttpOnly, Secure, SameSite=Lax cookie that only this host can set', async () => {
    // Act
    const { agent } = await signedIn(await gate(), 'alice');

    // Assess
    const set = agent.seen.flatMap((a) => a.cookies).find((c) => c.startsWith('__Host-stepline-approval-session='))!;
    expect(set).toMatch(/; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    expect(agent.cookie('__Host-stepline-approval-sign-in')).toBeUndefined();
  });

  it('rejects with the reason, as the signed-in login', async () => {
    // Prepare
    const url = await gate();
    const { agent, fields } = await signedIn(url, 'alice');

    // Act
    const rejected = await agent.send('POST', url, { ...fields, decision: 'reject', reason: 'code freeze' });

    // Assess
    expect(rejected.status).toBe(200);
    expect(calls.failed).toHaveLength(1);
    expect(calls.failed[0]!.error).toBe('Stepline.ApprovalRejected');
    expect(calls.failed[0]!.cause).toMatchObject({ rejectedBy: 'alice', reason: 'code freeze' });
  });

  it('refuses someone who is not an approver: the page says so, a decision changes nothing', async () => {
    // Prepare
    const url = await gate();
    const { agent, page } = await signedIn(url, 'mallory');

    // Act
    const forced = await agent.send('POST', url, { csrf: csrfOf(agent, url), decision: 'approve' });

    // Assess
    expect(page.status).toBe(200);
    expect(page.body).toContain('mallory is not among the approvers of production');
    expect(page.body).not.toContain('value="approve"');
    expect(forced.status).toBe(403);
    expect(calls.succeeded).toEqual([]);
    expect((await store.get(url.split('/').at(-1)!.split('.')[0]!))?.status).toBe('waiting');
  });

  it("refuses the commit's author, even when listed as an approver", async () => {
    // Prepare: the push was by octocat, who is also an approver.
    const url = await gate([APPROVER[provider], provider === 'bitbucket' ? '557058:octocat' : 'octocat']);
    const { agent, page } = await signedIn(url, 'octocat');

    // Act
    const forced = await agent.send('POST', url, { csrf: csrfOf(agent, url), decision: 'approve' });

    // Assess
    expect(page.body).toContain('octocat pushed this commit and may not approve its own deploy to production');
    expect(forced.status).toBe(403);
    expect(forced.body).toContain('Not your own deploy');
    expect(calls.succeeded).toEqual([]);
  });

  it("lets a member of an approvers' team decide, checked with the person's token", async () => {
    // Prepare
    const url = await gate([TEAM[provider]]);

    // Act
    const member = await signedIn(url, 'carol');
    const outsider = await signedIn(url, 'mallory');
    const decided = await member.agent.send('POST', url, { ...member.fields, decision: 'approve' });

    // Assess
    expect(outsider.page.body).toContain('mallory is not among the approvers');
    expect(decided.status).toBe(200);
    expect(calls.succeeded[0]!.output.approvedBy).toBe('carol');
    const scope = host.calls(/authorize$/)[0]!.query['scope'];
    if (provider === 'github') expect(scope).toBe('read:org');
    if (provider === 'gitlab') expect(scope).toBe('read_user read_api');
  });

  it('asks only for the scope that reads who signed in when no team is named', async () => {
    // Act
    await signedIn(await gate(), 'alice');

    // Assess
    const scope = host.calls(/authorize$/)[0]!.query['scope'];
    if (provider === 'github') expect(scope).toBeUndefined();
    if (provider === 'gitlab') expect(scope).toBe('read_user');
  });
});
