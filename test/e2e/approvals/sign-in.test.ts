import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { environments, sampleFiles } from '../../local/runtime/sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  startTestRuntime,
  waitFor,
} from '../../local/runtime/support';
import { type OAuthStandIn, startOAuthStandIn } from '../../support/oauth/server';
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON } from '../console/browser';

/**
 * The approval gate as a person meets it, in Chromium: the link in the commit status, the sign-in with GitHub (a
 * stand-in OAuth server on 127.0.0.1 that consents at once for the user it is told), the approval page, and the run
 * going on to deploy (or not). The pusher of every commit is `tester`.
 */

const GATED = 'acme/gated';
const CLIENT = { clientId: 'Iv1.stepline-test', clientSecret: 'stepline-test-secret' };

describe.skipIf(!HAS_CHROMIUM)(`approving in the browser${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let runtime: Runtime;
  let github: OAuthStandIn;
  const repositories: string[] = [];

  beforeAll(async () => {
    github = await startOAuthStandIn({
      provider: 'github',
      client: CLIENT,
      callbackUrl: 'http://127.0.0.1/unknown-until-the-runtime-listens',
      users: [
        { login: 'alice', id: 11 },
        { login: 'mallory', id: 12 },
        { login: 'tester', id: 2 },
      ],
    });
    const gated = {
      ...environments('gated')['staging'],
      approval: { approvers: ['alice', 'tester'], timeoutMinutes: 30 },
    };
    runtime = await startTestRuntime({
      config: pipelineConfig({ repository: GATED, environments: { production: gated } }) as never,
      identity: 'nobody',
      env: {
        PATH: process.env['PATH'],
        STEPLINE_GITHUB_OAUTH_URL: github.oauthUrl,
        STEPLINE_GITHUB_API_URL: github.apiUrl,
        STEPLINE_GITHUB_OAUTH_CLIENT_ID: CLIENT.clientId,
        STEPLINE_GITHUB_OAUTH_CLIENT_SECRET: CLIENT.clientSecret,
      },
    });
    github.register(`${runtime.url}/approvals/oauth/callback`);
    browser = await launchBrowser({ width: 1000, height: 800 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await github?.close();
    if (runtime) removeDir(runtime.stateDir);
    for (const dir of repositories) removeDir(dir);
  });

  /** A push of the gated repository; answers its execution and the approval link its commit status carries. */
  async function gate(): Promise<{ executionArn: string; link: string }> {
    const repo = gitRepository(sampleFiles({ name: 'gated' }));
    repositories.push(repo.dir);
    const answer = await deliver(runtime, githubPush({ repository: GATED, cloneUrl: repo.dir, sha: repo.sha }));
    const link = await waitFor(
      'the approval link in the commit status',
      () =>
        runtime.stores.statuses
          .list({ repository: GATED, sha: repo.sha })
          .find((s) => s.context === 'stepline/deploy/production' && s.targetUrl?.includes('/approvals/'))?.targetUrl ??
        undefined,
      60_000,
    );
    return { executionArn: answer.body['executionArn'] as string, link };
  }

  async function ended(executionArn: string): Promise<ExecutionRecord> {
    return waitFor(
      'the end of the run',
      () => {
        const e = runtime.stores.executions.getExecution(executionArn);
        return e && e.status !== 'RUNNING' ? e : undefined;
      },
      60_000,
    );
  }

  /** Follows the commit status link as `login`, in a browser that has no session yet. */
  async function open(link: string, login: string): Promise<Page> {
    await browser.context.clearCookies();
    github.signInAs(login);
    const page = await browser.context.newPage();
    await page.goto(link);
    await page.locator('h1').waitFor();
    return page;
  }

  it('signs in with GitHub from the commit status link, approves, and the run deploys', async () => {
    // Prepare
    const { executionArn, link } = await gate();
    github.reset();

    // Act
    const page = await open(link, 'alice');
    const who = await page.locator('.who').textContent();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('h1', { hasText: 'Approved' }).waitFor();
    const run = await ended(executionArn);

    // Assess
    expect(new URL(page.url()).pathname).toBe(new URL(link).pathname);
    expect(who).toContain('Signed in as alice (GitHub)');
    expect(github.calls(/^\/login\/oauth\/(authorize|access_token)$/).map((c) => c.path)).toEqual([
      '/login/oauth/authorize',
      '/login/oauth/access_token',
    ]);
    expect(await page.locator('.ok').textContent()).toContain('Approved by alice');
    expect(run.status, String(run.cause)).toBe('SUCCEEDED');
    expect(runtime.cluster?.object('apps/v1', 'Deployment', 'gated', 'gated')).toBeDefined();
    expect((await runtime.approvals.list({ executionArn }))[0]).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
    });
    const cookies = await browser.context.cookies(runtime.url);
    expect(cookies.find((c) => c.name === 'stepline-approval-session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
    });
    await page.close();
  }, 120_000);

  it('rejects with a reason, which the run and the commit say once', async () => {
    // Prepare
    const { executionArn, link } = await gate();
    const page = await open(link, 'alice');

    // Act
    await page.getByRole('textbox', { name: /Reason/ }).fill('code freeze until Monday');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('h1', { hasText: 'Rejected' }).waitFor();
    const run = await ended(executionArn);

    // Assess
    expect(await page.locator('.bad').textContent()).toContain('Rejected by alice');
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Stepline.ApprovalRejected');
    const gateStatus = runtime.stores.statuses
      .list({ repository: GATED })
      .find((s) => s.context === 'stepline/deploy/production' && s.state === 'failure');
    expect(gateStatus?.description).toBe('not approved: rejected by alice: code freeze until Monday');
    await page.close();
  }, 120_000);

  it('refuses someone who is not an approver, and the gate still waits', async () => {
    // Prepare
    const { executionArn, link } = await gate();

    // Act
    const page = await open(link, 'mallory');
    const refusal = await page.locator('.bad').textContent();
    const buttons = await page.getByRole('button', { name: 'Approve' }).count();

    // Assess
    expect(refusal).toBe('mallory is not among the approvers of production (alice, tester).');
    expect(buttons).toBe(0);
    expect(runtime.stores.executions.getExecution(executionArn)?.status).toBe('RUNNING');
    expect((await runtime.approvals.list({ executionArn }))[0]?.status).toBe('waiting');
    await runtime.approvals.decide((await runtime.approvals.list({ executionArn }))[0]!.id, {
      action: 'reject',
      as: 'alice',
      reason: 'end of the test',
    });
    await page.close();
  }, 120_000);

  it("refuses the commit's author, though listed, until someone else signs in", async () => {
    // Prepare
    const { executionArn, link } = await gate();

    // Act
    const page = await open(link, 'tester');
    const refusal = await page.locator('.bad').textContent();
    github.signInAs('alice');
    await page.getByRole('link', { name: 'Sign in as someone else' }).click();
    await page.locator('.who', { hasText: 'alice' }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('h1', { hasText: 'Approved' }).waitFor();
    const run = await ended(executionArn);

    // Assess
    expect(refusal).toBe('tester pushed this commit and may not approve its own deploy to production.');
    expect(run.status, String(run.cause)).toBe('SUCCEEDED');
    expect((await runtime.approvals.list({ executionArn }))[0]?.decidedBy).toBe('alice');
    await page.close();
  }, 120_000);
});
