import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type { ApprovalTaskEvent, TaskCallbacks } from '../../../../core/approval/contracts';
import { requestApproval } from '../../../../core/approval/service';
import { newSession, openSession, seal } from '../../../../core/approval/session';
import { createApprovalHttpHandler } from '../../../../functions/approval/http';
import { signInHosts } from '../../../../functions/approval/sign-in';
import { EXECUTION_ARN, environment, pipelineRequest, route } from '../../../support/githost/fixtures';
import { type OAuthStandIn, startOAuthStandIn } from '../../../support/oauth/server';
import { Agent } from './agent';

/**
 * Bad input on the approval pages: each gets a clear refusal with the right status, and changes nothing (no
 * decision recorded, nothing told to Step Functions, no session opened).
 */

const KEYS = ['approval-signing-key-0123456789abcdef', 'approval-signing-key-previous-0123456'];
const OTHER_KEYS = ['another-deployment-key-0123456789abcdef'];
const BASE = 'https://approve.example.test';
const CLIENT = { clientId: 'stepline-client', clientSecret: 'stepline-client-secret' };
const SESSION = '__Host-stepline-approval-session';
const SIGN_IN = '__Host-stepline-approval-sign-in';

let host: OAuthStandIn;
let store: SqliteApprovalStore;
let told: string[];
let clock: number;

const callbacks: TaskCallbacks = {
  succeed: async (token) => {
    told.push(`success ${token}`);
    return { kind: 'ok' };
  },
  fail: async (token) => {
    told.push(`failure ${token}`);
    return { kind: 'ok' };
  },
  heartbeat: async () => ({ kind: 'ok' }),
};

function handler(keys: readonly string[] = KEYS) {
  return createApprovalHttpHandler({
    store,
    callbacks,
    keys: async () => keys,
    identity: {
      signIn: signInHosts({
        github: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => CLIENT },
        gitlab: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => null },
        bitbucket: { oauthUrl: host.oauthUrl, apiUrl: host.apiUrl, client: async () => null },
      }),
      trusted: null,
    },
    links: null,
    baseUrl: BASE,
    now: () => clock,
  });
}

async function gate(execution = EXECUTION_ARN): Promise<{ url: string; id: string }> {
  const event: ApprovalTaskEvent = {
    taskToken: `token-${execution}`,
    request: pipelineRequest('github'),
    route: route({
      environments: [environment('production', { approval: { approvers: ['alice'], timeoutSeconds: 86_400 } })],
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
  return { url: result.url, id: result.approvalId };
}

async function signedIn(url: string) {
  const agent = new Agent(handler(), BASE);
  const page = await agent.open(url);
  return { agent, fields: Agent.fields(page.body) };
}

/** The callback address the stand-in sends the browser to, without following it. */
async function callbackOf(agent: Agent, url: string): Promise<string> {
  const start = await agent.send('GET', url);
  const authorize = await agent.send('GET', start.headers['location']!);
  return authorize.headers['location']!;
}

const nothingDecided = async (id: string) => {
  expect(told).toEqual([]);
  expect((await store.get(id))?.status).toBe('waiting');
};

beforeAll(async () => {
  host = await startOAuthStandIn({
    provider: 'github',
    client: CLIENT,
    callbackUrl: `${BASE}/approvals/oauth/callback`,
    users: [{ login: 'alice', id: 11 }],
  });
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  store = new SqliteApprovalStore(':memory:');
  told = [];
  clock = 1_893_456_000;
});

describe('the approval links', () => {
  it('answers a forged link 403, a malformed one 400, an expired one 410, before any sign-in', async () => {
    // Prepare
    const { url } = await gate();
    const agent = new Agent(handler(), BASE);
    const forged = url.replace(/\.(\d+)\./, (_m, exp: string) => `.${Number(exp) + 3600}.`);

    // Act
    const answers = [await agent.send('GET', forged), await agent.send('GET', `${BASE}/approvals/not-a-link`)];
    clock += 86_400;
    answers.push(await agent.send('GET', url));

    // Assess
    expect(answers.map((a) => a.status)).toEqual([403, 400, 410]);
    expect(host.calls()).toEqual([]);
  });

  it('answers a replayed decision 409, saying who decided', async () => {
    // Prepare
    const { url } = await gate();
    const { agent, fields } = await signedIn(url);
    await agent.send('POST', url, { ...fields, decision: 'approve' });

    // Act
    const replay = await agent.send('POST', url, { ...fields, decision: 'reject' });

    // Assess
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('already approved by alice');
    expect(told).toHaveLength(1);
  });

  it("refuses the form of another execution's gate: its CSRF token is bound to its own request", async () => {
    // Prepare
    const first = await gate();
    const second = await gate(`${EXECUTION_ARN}-other`);
    const { agent, fields } = await signedIn(first.url);
    await agent.open(second.url);

    // Act
    const crossed = await agent.send('POST', second.url, { ...fields, decision: 'approve' });

    // Assess
    expect(crossed.status).toBe(403);
    expect(crossed.body).toContain('did not come from the approval page');
    await nothingDecided(second.id);
  });
});

describe('the session', () => {
  it('refuses a decision without a CSRF token, or with a wrong one', async () => {
    // Prepare
    const { url, id } = await gate();
    const { agent, fields } = await signedIn(url);

    // Act
    const missing = await agent.send('POST', url, { decision: 'approve' });
    const wrong = await agent.send('POST', url, { csrf: `${fields['csrf']!.slice(0, -2)}AA`, decision: 'approve' });

    // Assess
    expect([missing.status, wrong.status]).toEqual([403, 403]);
    await nothingDecided(id);
  });

  it('refuses a decision without a session: 401, with the way back', async () => {
    // Prepare
    const { url, id } = await gate();
    const { fields } = await signedIn(url);

    // Act
    const stranger = await new Agent(handler(), BASE).send('POST', url, { ...fields, decision: 'approve' });

    // Assess
    expect(stranger.status).toBe(401);
    expect(stranger.body).toContain('Sign in first');
    await nothingDecided(id);
  });

  it('takes no session sealed with another key: the page signs in again, a decision is refused', async () => {
    // Prepare
    const { url, id } = await gate();
    const { agent, fields } = await signedIn(url);
    const opened = openSession(agent.cookie(SESSION), KEYS, clock);
    if (!opened.ok) throw new Error('no session');
    agent.jar.set(SESSION, seal(opened.claims, OTHER_KEYS));

    // Act
    const decided = await agent.send('POST', url, { ...fields, decision: 'approve' });
    const page = await agent.send('GET', url);

    // Assess
    expect(decided.status).toBe(401);
    expect(page.status).toBe(302);
    expect(page.headers['location']).toContain(`${host.oauthUrl}/login/oauth/authorize?`);
    await nothingDecided(id);
  });

  it('still takes a session sealed with the previous key while keys rotate', async () => {
    // Prepare
    const { url } = await gate();
    const { agent, fields } = await signedIn(url);
    const opened = openSession(agent.cookie(SESSION), KEYS, clock);
    if (!opened.ok) throw new Error('no session');
    agent.jar.set(SESSION, seal(opened.claims, [KEYS[1]!]));

    // Act
    const decided = await agent.send('POST', url, { ...fields, decision: 'approve' });

    // Assess
    expect(decided.status).toBe(200);
  });

  it('refuses an expired session', async () => {
    // Prepare
    const { url, id } = await gate();
    const { agent, fields } = await signedIn(url);
    clock += 3600;

    // Act
    const late = await agent.send('POST', url, { ...fields, decision: 'approve' });

    // Assess
    expect(late.status).toBe(401);
    await nothingDecided(id);
  });

  it('takes no sign-in cookie for a session, though both are sealed with the same keys', async () => {
    // Prepare
    const { url, id } = await gate();
    const agent = new Agent(handler(), BASE);
    await agent.send('GET', url);
    agent.jar.set(SESSION, agent.cookie(SIGN_IN)!);

    // Act
    const decided = await agent.send('POST', url, { csrf: 'x', decision: 'approve' });

    // Assess
    expect(decided.status).toBe(401);
    await nothingDecided(id);
  });

  it('takes a session made for a trusted identity no more than one from another host', async () => {
    // Prepare: a session that says "local", as the local runtime makes them.
    const { url, id } = await gate();
    const agent = new Agent(handler(), BASE);
    agent.jar.set(SESSION, seal(newSession({ source: 'local', login: 'alice', names: ['alice'] }, {}, clock), KEYS));

    // Act
    const decided = await agent.send('POST', url, { csrf: 'x', decision: 'approve' });

    // Assess
    expect(decided.status).toBe(401);
    await nothingDecided(id);
  });
});

describe('the sign-in', () => {
  it('refuses a callback whose state does not match, and opens no session', async () => {
    // Prepare
    const { url, id } = await gate();
    const agent = new Agent(handler(), BASE);
    const callback = new URL(await callbackOf(agent, url));
    callback.searchParams.set('state', 'made-up-state-made-up-state-made-up');

    // Act
    const answer = await agent.send('GET', callback.toString());

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('The sign-in state does not match');
    expect(agent.cookie(SESSION)).toBeUndefined();
    expect(host.calls(/access_token$/)).toEqual([]);
    await nothingDecided(id);
  });

  it('refuses a callback in a browser that did not start the sign-in (login CSRF)', async () => {
    // Prepare: the attacker's own callback, handed to the victim's browser.
    const { url } = await gate();
    const callback = await callbackOf(new Agent(handler(), BASE), url);
    const victim = new Agent(handler(), BASE);

    // Act
    const answer = await victim.send('GET', callback);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('was not started from an approval page in this browser');
    expect(victim.cookie(SESSION)).toBeUndefined();
  });

  it('refuses a sign-in that took longer than ten minutes', async () => {
    // Prepare
    const { url } = await gate();
    const agent = new Agent(handler(), BASE);
    const callback = await callbackOf(agent, url);
    clock += 601;

    // Act
    const answer = await agent.send('GET', callback);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('took too long');
  });

  it('says so when the person does not consent at the host', async () => {
    // Prepare
    const { url } = await gate();
    host.consent('access_denied');

    // Act
    const answer = await new Agent(handler(), BASE).open(url);

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('GitHub did not sign you in (access_denied)');
  });

  it('refuses a replayed callback: the host takes a code once', async () => {
    // Prepare
    const { url, id } = await gate();
    const agent = new Agent(handler(), BASE);
    const start = await agent.send('GET', url);
    const signInCookie = agent.cookie(SIGN_IN)!;
    const callback = (await agent.send('GET', start.headers['location']!)).headers['location']!;
    await agent.send('GET', callback);
    agent.jar.delete(SESSION);
    agent.jar.set(SIGN_IN, signInCookie);

    // Act
    const again = await agent.send('GET', callback);

    // Assess
    expect(again.status).toBe(403);
    expect(again.body).toContain('GitHub did not exchange the sign-in code (bad_verification_code)');
    expect(agent.cookie(SESSION)).toBeUndefined();
    await nothingDecided(id);
  });
});
