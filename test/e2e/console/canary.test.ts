import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHandler, createConsoleRoutes, mountConsole, runtimeConsoleSource } from '../../../local/console';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { REPOSITORY, sampleFiles } from '../../local/runtime/sample';
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
 * The pipeline view of a canary (issue 18), in Chromium, on the real local runtime with the simulated cluster and
 * the runtime's metrics source, as `npm run demo -- --canary` makes one: a healthy canary is promoted through its
 * steps, each shown with its weight, its pause and its analysis (measurements passed, failed, inconclusive); a
 * canary whose error ratio is raised is aborted at its first step, which says so. The engine's clock is virtual.
 */

const NAME = 'hello';

const CANARY = {
  type: 'canary',
  steps: [
    { weight: 25, pauseSeconds: 60 },
    { weight: 50, pauseSeconds: 120 },
  ],
  analysis: {
    interval: 30,
    count: 2,
    metrics: [
      {
        name: 'errors',
        provider: {
          prometheus: {
            address: 'http://prometheus.stepline.local',
            query: `stepline_demo_http_error_ratio{namespace="${NAME}",deployment="${NAME}",track="canary"}`,
          },
        },
        successCondition: 'result[0] < 0.05',
      },
    ],
  },
};

describe.skipIf(!HAS_CHROMIUM)(`the pipeline view of a canary${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let runtime: Runtime;
  let handler: ConsoleHandler | undefined;
  let repo: ReturnType<typeof gitRepository>;

  async function push(sha: string): Promise<ExecutionRecord> {
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha }));
    const arn = String(answer.body['executionArn']);
    return waitFor(
      `the end of ${arn}`,
      () => {
        const e = runtime.stores.executions.getExecution(arn);
        return e && e.status !== 'RUNNING' ? e : undefined;
      },
      90_000,
    );
  }

  async function steps(page: Page): Promise<{ status: string | null; text: string }[]> {
    return page
      .locator('[data-job="rollout:staging"] [data-step]')
      .evaluateAll((els) =>
        els.map((e) => ({ status: e.getAttribute('data-status'), text: (e.textContent ?? '').replace(/\s+/g, ' ') })),
      );
  }

  beforeAll(async () => {
    const config = pipelineConfig({
      repository: REPOSITORY,
      environments: {
        staging: {
          cluster: { type: 'kubeconfig' },
          namespace: NAME,
          clusterScopedKinds: ['Namespace'],
          manifests: 'staging',
          rollout: { timeoutSeconds: 60, pollSeconds: 2 },
          strategy: CANARY,
        },
      },
    });
    runtime = await startTestRuntime({
      config: config as never,
      clock: 'virtual',
      extend: (router, rt) => {
        handler = createConsoleRoutes(runtimeConsoleSource(rt));
        mountConsole(router, handler);
      },
    });
    await handler?.ready;
    repo = gitRepository(sampleFiles());
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    if (repo) removeDir(repo.dir);
  });

  it('shows each step of a promoted canary with its weight, its pause and its analysis', async () => {
    // Prepare: the first version is deployed directly, the second goes through the canary
    expect((await push(repo.sha)).status).toBe('SUCCEEDED');
    const promoted = await push(repo.commit({ 'service.txt': 'hello, canary\n' }, 'Second'));
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${runtime.url}/executions/${encodeURIComponent(promoted.arn)}`);
    await page.locator('[data-job="rollout:staging"] [data-step]').first().waitFor({ timeout: 30_000 });
    const shown = await steps(page);
    const job = await page.locator('[data-job="rollout:staging"]').getAttribute('data-status');
    const name = await page.locator('[data-job="rollout:staging"] .job-name').textContent();
    const shot = screenshotPath('canary');
    if (shot) await page.screenshot({ path: shot });

    // Assess
    expect(promoted.status).toBe('SUCCEEDED');
    expect(job).toBe('succeeded');
    expect(name).toBe('Canary');
    expect(shown.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(shown[0]?.text).toContain('canary 25% promoted');
    expect(shown[0]?.text).toContain('weight 25% · pause 1 min');
    expect(shown[0]?.text).toContain('2/2 measured: 2 passed · 0 failed · 0 inconclusive');
    expect(shown[1]?.text).toContain('weight 50% · pause 2 min');
    await page.close();
  }, 180_000);

  it('shows the step a failed analysis aborted, with its failed measurements', async () => {
    // Prepare: the canary's error ratio raised
    runtime.metricsSource.setErrorRatio(NAME, NAME, 'canary', 0.3);
    const aborted = await push(repo.commit({ 'service.txt': 'hello, broken canary\n' }, 'Third'));
    runtime.metricsSource.setErrorRatio(NAME, NAME, 'canary', 0);
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${runtime.url}/executions/${encodeURIComponent(aborted.arn)}`);
    await page.locator('[data-job="rollout:staging"] [data-step]').first().waitFor({ timeout: 30_000 });
    const shown = await steps(page);
    const job = await page.locator('[data-job="rollout:staging"]').getAttribute('data-status');

    // Assess
    expect(aborted.status).toBe('FAILED');
    expect(job).toBe('failed');
    expect(shown).toHaveLength(1);
    expect(shown[0]?.status).toBe('failed');
    expect(shown[0]?.text).toContain('canary 25% aborted');
    expect(shown[0]?.text).toMatch(/[1-9] failed/);
    expect(shown[0]?.text).toContain('analysis failed');
    expect(await page.locator('[data-job="rollback:staging"]').getAttribute('data-status')).toBe('succeeded');
    await page.close();
  }, 180_000);
});
