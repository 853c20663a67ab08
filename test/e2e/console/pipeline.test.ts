import type { Page } from 'playwright-core';
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
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON, screenshotPath } from './browser';

/**
 * The console's pipeline view, Run and Re-run, in Chromium, on the real local runtime (issue 17): a run started
 * with the Run button is drawn as stages left to right with each job's status, duration and logs; Re-run starts the
 * commit again; a build whose clone failed says why; the graph is compact with its Catch transitions on demand;
 * a gate waits in the pipeline; the page says nothing of reconnecting, and no count of 0, while it loads. The
 * README's screenshots are taken here (STEPLINE_SCREENSHOTS=1).
 */

const GATED = 'acme/gated';

/** Records, from the first paint, every text the live indicator and the tab counts showed. */
const RECORDER = `
  window.__seen = { live: new Set(), counts: new Set() };
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.live')) window.__seen.live.add(el.textContent.trim());
    for (const el of document.querySelectorAll('[role="tab"]')) window.__seen.counts.add(el.textContent.trim());
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

describe.skipIf(!HAS_CHROMIUM)(`the pipeline view, Run and Re-run${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let runtime: Runtime;
  let handler: ConsoleHandler | undefined;
  let repo: ReturnType<typeof gitRepository>;
  let gatedRepo: ReturnType<typeof gitRepository>;
  let gatedArn: string;
  let firstRun = '';

  const statusOf = (arn: string) => runtime.stores.executions.getExecution(arn)?.status;

  async function jobStatus(page: Page, job: string): Promise<string | null> {
    return page.locator(`[data-job="${job}"]`).getAttribute('data-status');
  }

  beforeAll(async () => {
    repo = gitRepository(sampleFiles());
    gatedRepo = gitRepository(sampleFiles({ name: 'gated' }));
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
      identity: 'carol',
      extend: (router, rt) => {
        handler = createConsoleRoutes(runtimeConsoleSource(rt));
        mountConsole(router, handler);
      },
    });
    await handler?.ready;
    // A push of acme/hello (the runtime learns where its repository is, as from a Git host), and a push of
    // acme/gated that waits at its gate while the other tests run.
    const hello = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const pushed = await deliver(
      runtime,
      githubPush({ repository: GATED, cloneUrl: gatedRepo.dir, sha: gatedRepo.sha }),
    );
    gatedArn = pushed.body['executionArn'] as string;
    browser = await launchBrowser();
    expect(hello.status).toBe(202);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    for (const r of [repo, gatedRepo]) if (r) removeDir(r.dir);
  });

  it('starts a run with the Run button and draws it as stages left to right, each job with its status, time and logs', async () => {
    // Prepare
    const page = await browser.context.newPage();
    await page.addInitScript(RECORDER);
    await page.goto(runtime.url);

    // Act
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    const form = page.getByRole('form', { name: 'Run a pipeline' });
    await form.getByRole('combobox', { name: 'Repository' }).selectOption(REPOSITORY);
    await form.getByRole('textbox', { name: 'Branch, tag or commit' }).fill('main');
    await form.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/\/executions\/arn:aws:states:.*-manual-/);
    firstRun = decodeURIComponent(new URL(page.url()).pathname.slice('/executions/'.length));
    await page.locator('[data-stage="env:staging"][data-status="succeeded"]').waitFor({ timeout: 90_000 });
    const stages = await page
      .locator('[data-stage]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
    const buildCard = await page.locator('[data-job="build"]').textContent();
    await page.getByRole('button', { name: 'Logs of unit (unit)' }).click();
    await page.locator('.log pre').filter({ hasText: /\S/ }).waitFor();
    const log = await page.locator('.log h3').textContent();
    await page.getByRole('tab', { name: /Pipeline/ }).click();
    const shot = screenshotPath('pipeline');
    if (shot) await page.screenshot({ path: shot });
    const seen = await page.evaluate<{ live: string[]; counts: string[] }>(
      '({ live: [...window.__seen.live], counts: [...window.__seen.counts] })',
    );

    // Assess
    expect(statusOf(firstRun)).toBe('SUCCEEDED');
    expect(stages).toEqual(['build', 'tests', 'env:staging']);
    expect(buildCard).toMatch(/Build image\s*Succeeded · [\d.]+ (ms|s)/);
    expect(await jobStatus(page, 'test:unit')).toBe('succeeded');
    expect(await jobStatus(page, 'deploy:staging')).toBe('succeeded');
    expect(await jobStatus(page, 'rollout:staging')).toBe('succeeded');
    expect(await page.getByRole('tab', { name: /Builds/ }).getAttribute('aria-selected')).toBe('false');
    expect(log).toContain('Full log');
    expect(seen.live.filter((t) => t.includes('Reconnecting'))).toEqual([]);
    expect(seen.counts.filter((t) => /^(Builds|Statuses|Deployments)\s*0$/.test(t))).toEqual([]);
    await page.close();
  }, 120_000);

  it('lists the run with its commit message and who started it', async () => {
    // Prepare
    const page = await browser.context.newPage();

    // Act
    await page.goto(runtime.url);
    const row = page.locator('tr', {
      has: page.getByRole('link', { name: firstRun.split(':').pop() as string, exact: true }),
    });
    await row.waitFor();
    const text = await row.textContent();
    const shot = screenshotPath('executions');
    if (shot) await page.screenshot({ path: shot });

    // Assess
    expect(text).toContain(`${repo.sha.slice(0, 7)} first`);
    expect(text).toContain('carol');
    await page.close();
  });

  it('re-runs a finished run: a new execution of the same commit, started by the person the header shows', async () => {
    // Prepare
    const page = await browser.context.newPage();
    await page.goto(`${runtime.url}/executions/${firstRun}`);

    // Act
    await page.getByRole('button', { name: 'Re-run', exact: true }).click();
    await page.waitForURL(/-rerun-[0-9a-f]{8}$/);
    const again = decodeURIComponent(new URL(page.url()).pathname.slice('/executions/'.length));
    await page.locator('[data-job="build"]:not([data-status="pending"])').waitFor({ timeout: 60_000 });
    const commit = await page.locator('.summary').textContent();
    if (statusOf(again) === 'RUNNING') runtime.states.stopExecution({ executionArn: again });

    // Assess
    expect(again).not.toBe(firstRun);
    expect(runtime.stores.executions.getExecution(again)?.input).toContain(repo.sha);
    expect(commit).toContain(repo.sha.slice(0, 7));
    expect(commit).toContain('carol');
    await page.close();
  }, 120_000);

  it('says why a run whose clone failed failed, and that it reached no environment', async () => {
    // Prepare
    const failed = await runtime.runs.run({
      repository: REPOSITORY,
      ref: 'main',
      sha: 'f'.repeat(40),
      cloneUrl: '/nowhere/hello.git',
      by: 'carol',
    });
    const failedArn = failed.executionArn;
    await waitFor('the failed run', () => (statusOf(failedArn) === 'FAILED' ? true : undefined), 60_000);
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${runtime.url}/executions/${failedArn}`);
    await page.locator('.failure-reason').waitFor();
    // The phase joins the reason once the run's builds are read (they come after the execution).
    await page.locator('.failure', { hasText: 'DOWNLOAD_SOURCE:' }).waitFor();
    const banner = await page.locator('.failure').textContent();
    const build = await jobStatus(page, 'build');
    const tests = await jobStatus(page, 'test:unit');
    const shot = screenshotPath('execution');
    if (shot) await page.screenshot({ path: shot });
    await page.getByRole('tab', { name: /Deployments/ }).click();
    const deployments = await page.locator('.deployments').textContent();
    await page.getByRole('tab', { name: /Statuses/ }).click();
    const tab = await page.getByRole('tab', { name: /Statuses/ }).textContent();
    const rows = await page.locator('table.statuses tbody tr').count();

    // Assess
    expect(banner).toContain('Stepline.BuildFailed');
    expect(banner).toContain(
      "DOWNLOAD_SOURCE: could not clone /nowhere/hello.git: fatal: repository '/nowhere/hello.git' does not exist",
    );
    expect(banner).not.toContain('"reason"');
    expect(build).toBe('failed');
    expect(tests).toBe('skipped');
    expect(deployments).toContain('not reached');
    expect(deployments).not.toContain('pending');
    expect(tab?.replace(/\D/g, '')).toBe(String(rows));
    await page.close();
  }, 90_000);

  it('draws the graph compact: Catch transitions on demand, Choice conditions whole', async () => {
    // Prepare
    const page = await browser.context.newPage();
    await page.goto(`${runtime.url}/executions/${firstRun}`);

    // Act
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="Build"]').waitFor();
    const compact = {
      catches: await page.locator('.edge.catch').count(),
      height: await page.locator('.graph svg').getAttribute('height'),
      states: await page.locator('.graph [data-state]').count(),
    };
    const label = await page
      .locator('.edge.choice text')
      .evaluateAll((els) => els.map((e) => [...e.querySelectorAll('tspan')].map((t) => t.textContent).join(' ')));
    // Every label inside the drawing: none is cut by its border.
    type Box = { x: number; width: number };
    const outside = await page.locator('.graph svg').evaluate((svg) => {
      // Structural types: the tests compile without the DOM library.
      const box = (svg as unknown as { viewBox: { baseVal: Box } }).viewBox.baseVal;
      return [...svg.querySelectorAll('.edge text')]
        .map((t) => (t as unknown as { getBBox(): Box }).getBBox())
        .filter((b) => b.x < box.x || b.x + b.width > box.x + box.width).length;
    });
    const shot = screenshotPath('graph');
    if (shot) await page.screenshot({ path: shot });
    await page.getByRole('checkbox', { name: /Catch transitions/ }).check();
    const all = {
      catches: await page.locator('.edge.catch').count(),
      height: await page.locator('.graph svg').getAttribute('height'),
    };

    // Assess
    expect(compact.catches).toBe(0);
    expect(all.catches).toBeGreaterThan(10);
    expect(Number(compact.height)).toBeLessThan(Number(all.height));
    // Folded into columns (ADR 0107): 1,424 px tall before, 804 px now, every state still drawn.
    expect(Number(compact.height)).toBeLessThanOrEqual(820);
    expect(compact.states).toBeGreaterThanOrEqual(20);
    expect(label).toContain('$states.input.environment.approval != null');
    expect(label.every((l) => !l.includes('…'))).toBe(true);
    expect(outside).toBe(0);
    await page.close();
  }, 60_000);

  it('shows a gate that waits for a person in the pipeline, with whom it waits for', async () => {
    // Prepare
    await waitFor(
      'the gate',
      async () =>
        (await runtime.approvals.list({ status: 'waiting', executionArn: gatedArn })).length ? true : undefined,
      90_000,
    );
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${runtime.url}/executions/${gatedArn}`);
    await page.locator('[data-job="gate:production"][data-status="waiting"]', { hasText: 'for alice' }).waitFor();
    const gate = await page.locator('[data-job="gate:production"]').textContent();
    const shot = screenshotPath('approval');
    if (shot) await page.screenshot({ path: shot });

    // Assess
    expect(gate).toContain('for alice');
    expect(await jobStatus(page, 'deploy:production')).toBe('pending');
    if (statusOf(gatedArn) === 'RUNNING') runtime.states.stopExecution({ executionArn: gatedArn });
    await page.close();
  }, 120_000);
});
