import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHandler, createConsoleRoutes, mountConsole, runtimeConsoleSource } from '../../../local/console';
import type { Runtime } from '../../../local/runtime';
import { ENVIRONMENTS, environments, REPOSITORY, sampleFiles } from '../../local/runtime/sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  startTestRuntime,
  waitFor,
} from '../../local/runtime/support';
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON } from './browser';

/**
 * The console mounted on the real local runtime (`startRuntime`), watched in Chromium during real pipeline runs:
 * a signed push of a real git repository, its buildspec run, its deployment rolled out on the simulated cluster,
 * its statuses in the local sink; and an approval gate approved in the page by a named approver.
 */

const GATED = 'acme/gated';

describe.skipIf(!HAS_CHROMIUM)(`console on the local runtime${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let runtime: Runtime;
  let handler: ConsoleHandler | undefined;
  const repositories: string[] = [];

  beforeAll(async () => {
    const config = pipelineConfig({
      repository: REPOSITORY,
      environments: ENVIRONMENTS,
      tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
    });
    const gated = pipelineConfig({
      repository: GATED,
      environments: {
        production: { ...environments('gated')['staging'], approval: { approvers: ['alice'], timeoutMinutes: 30 } },
      },
    });
    (config['repositories'] as unknown[]).push(...(gated['repositories'] as unknown[]));
    runtime = await startTestRuntime({
      config: config as never,
      identity: 'mallory',
      extend: (router, rt) => {
        handler = createConsoleRoutes(runtimeConsoleSource(rt));
        mountConsole(router, handler);
      },
    });
    await handler?.ready;
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    for (const dir of repositories) removeDir(dir);
  });

  it('shows a pushed commit run through its build, tests and deploys to green, with build logs and deployed objects', async () => {
    // Prepare
    const repo = gitRepository(sampleFiles());
    repositories.push(repo.dir);
    const page = await browser.context.newPage();
    await page.goto(runtime.url);
    await page.getByRole('heading', { name: 'Executions' }).waitFor();

    // Act
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const executionArn = answer.body['executionArn'] as string;
    const name = executionArn.split(':').pop() as string;
    const row = page.locator('tr', { has: page.getByRole('link', { name }) });
    await row.waitFor();
    const firstSeen = await row.locator('.badge').textContent();
    await row.getByText('Succeeded').waitFor({ timeout: 60_000 });
    const rowText = await row.textContent();
    await page.getByRole('link', { name }).click();
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="Build"][data-status="succeeded"]').waitFor();
    await page.getByRole('tab', { name: /Builds/ }).click();
    await page
      .getByRole('button', { name: /^BUILD: SUCCEEDED/ })
      .first()
      .click();
    await page.locator('.log pre').filter({ hasText: /\S/ }).waitFor();
    const log = await page.locator('.log pre').textContent();
    await page.getByRole('tab', { name: /Deployments/ }).click();
    const deployments = await page.locator('.deployments').textContent();
    const objectLink = await page.locator('.objects a').first().getAttribute('href');
    await page.getByRole('tab', { name: /Statuses/ }).click();
    const statuses = await page.locator('table.statuses').textContent();

    // Assess
    expect(answer.status).toBe(202);
    expect(['Running', 'Succeeded']).toContain(firstSeen);
    expect(rowText).toContain(repo.sha.slice(0, 7));
    expect(rowText).toContain(REPOSITORY);
    expect(log).toMatch(/\S/);
    expect(deployments).toContain('staging');
    expect(deployments).toContain('deployed');
    expect(objectLink).toMatch(new RegExp(`^${runtime.kubernetes.server}/apis?/`));
    expect(statuses).toContain('success');
    await page.close();
  }, 90_000);

  it('approves a gate in the page as the identity its header shows, after which the run deploys', async () => {
    // Prepare
    const repo = gitRepository(sampleFiles({ name: 'gated' }));
    repositories.push(repo.dir);
    const answer = await deliver(runtime, githubPush({ repository: GATED, cloneUrl: repo.dir, sha: repo.sha }));
    const executionArn = answer.body['executionArn'] as string;
    await waitFor(
      'the approval request',
      async () => ((await runtime.approvals.list({ status: 'waiting', executionArn })).length ? true : undefined),
      60_000,
    );
    const page = await browser.context.newPage();
    await page.goto(`${runtime.url}/executions/${executionArn}`);
    const approve = page.getByRole('button', { name: 'Approve the deploy to production' });
    await approve.waitFor();

    // Act: the runtime decides as mallory (--as); a refusal, then the header changes the identity to alice.
    const shown = await page.locator('[data-identity]').textContent();
    await approve.click();
    const refusal = await page.locator('.approval .error').textContent();
    await page.getByRole('button', { name: 'Change who you decide as' }).click();
    await page.getByRole('textbox', { name: 'Your login' }).fill('alice');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-identity]', { hasText: 'alice' }).waitFor();
    await approve.click();
    await page.locator('h1', { hasText: 'Succeeded' }).waitFor({ timeout: 60_000 });

    // Assess
    expect(shown).toBe('mallory');
    expect(refusal).toBe('mallory is not among the approvers of production (alice)');
    expect(runtime.approvals.identity).toBe('alice');
    const [approval] = await runtime.approvals.list({ executionArn });
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'alice' });
    expect(await page.locator('.approvals').textContent()).toContain('approved by alice');
    await page.close();
  }, 90_000);
});
