import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDeploymentStore } from '../../../adapters/local/deployments-sqlite';
import type { DoraReport } from '../../../core/insight';
import { type ConsoleHandler, createConsoleRoutes, mountConsole, runtimeConsoleSource } from '../../../local/console';
import type { Runtime } from '../../../local/runtime';
import { removeDir, startTestRuntime } from '../../local/runtime/support';
import { commit, deploy } from '../../unit/insight/fixtures';
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON, screenshotPath } from './browser';

/**
 * The console's Delivery insight page (`/insight`) in Chromium, over the real runtime's API: the four figures of
 * each environment and their 12-week trend as SVG plots, from deployment records of several weeks (a rollback and a
 * restore among them) put in the runtime's state file. What the page shows is held to what `/api/insight/dora`
 * answers, and to the figures the definitions give for these records.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe.skipIf(!HAS_CHROMIUM)(`the Delivery insight page${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let runtime: Runtime;
  let handler: ConsoleHandler | undefined;
  const at = (daysAgo: number, hours = 0): string => new Date(Date.now() - daysAgo * DAY + hours * HOUR).toISOString();

  beforeAll(async () => {
    runtime = await startTestRuntime({
      extend: (router, rt) => {
        handler = createConsoleRoutes(runtimeConsoleSource(rt));
        mountConsole(router, handler);
      },
    });
    await handler?.ready;
    // Production: a deploy 3 weeks ago (lead time 2 h), a rollback 10 days ago restored 6 h later by a deploy
    // carrying its own commit (1 h) and the rolled-back one (7 h), and one an hour ago (30 min). Staging: one
    // deploy 2 days ago.
    const store = new SqliteDeploymentStore(runtime.stores.db);
    const records = [
      deploy('production', at(21), 'a1', { commits: [commit('a1', at(21, -2))] }),
      deploy('production', at(10), 'b1', { failed: 'rolled-back', commits: [commit('b1', at(10, -1))] }),
      deploy('production', at(10, 6), 'b2', { commits: [commit('b2', at(10, 5)), commit('b1', at(10, -1))] }),
      deploy('production', at(0, -1), 'c1', { commits: [commit('c1', at(0, -1.5))] }),
      deploy('staging', at(2), 's1'),
    ];
    for (const record of records) await store.put(record);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
  });

  it('shows the four figures of each environment, as the API computes them', async () => {
    // Prepare
    const page = await browser.context.newPage();
    await page.goto(runtime.url);

    // Act: from the executions list, through the top bar
    await page.getByRole('link', { name: 'Delivery insight' }).click();
    const production = page.locator('[data-environment="production"]');
    await production.getByRole('heading', { name: 'production' }).waitFor();
    const figure = async (name: string) =>
      (await production.locator(`[data-key="${name}"] dd`).textContent())?.replace(/\s+/g, ' ').trim();
    const shown = {
      frequency: await figure('Deployment frequency'),
      lead: await figure('Lead time for changes'),
      failures: await figure('Change failure rate'),
      restore: await figure('Time to restore'),
    };
    const environments = await page.locator('section.dora-env h2').allTextContents();
    const screenshot = screenshotPath('insight');
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

    // Assess: 3 successful deploys in 30 days (0.10/day), in 3 of the 4 weeks since the first (weekly); lead times
    // 30 min, 1 h, 2 h, 7 h: median 1 h 30 min, p90 2 h + 0.7 × 5 h = 5 h 30 min (PERCENTILE_CONT); 1 failure of
    // 4 deploys; restored once, after 6 h.
    expect(page.url()).toBe(`${runtime.url}/insight`);
    expect(environments).toEqual(['production', 'staging']);
    expect(shown).toEqual({
      frequency: '0.10/day3 successful deploys · weekly',
      lead: '1h 30mmedian of 4 changes · p90 5h 30m',
      failures: '25%1 of 4 deploys',
      restore: '6h1 restore',
    });
    await page.close();
  });

  it('plots each key week by week over 12 weeks, the values those of the API', async () => {
    // Prepare
    const page = await browser.context.newPage();
    const report = (await (await fetch(`${runtime.url}/api/insight/dora`)).json()) as DoraReport;
    const trend = report.environments.find((e) => e.environment === 'production')!.trend;

    // Act
    await page.goto(`${runtime.url}/insight`);
    const production = page.locator('[data-environment="production"]');
    await production.locator('figure.plot').first().waitFor();
    const marks = async (caption: string) =>
      production
        .locator('figure.plot', { has: page.getByText(caption, { exact: true }) })
        .locator('.mark')
        .evaluateAll((els) => els.map((el) => [el.getAttribute('data-week'), Number(el.getAttribute('data-value'))]));
    const plots = await production.locator('figure.plot svg[role="img"]').count();
    const deploys = await marks('Successful deploys per week');
    const lead = await marks('Lead time, median');
    const failures = await marks('Change failure rate');
    const restore = await marks('Time to restore, median');

    // Assess
    expect(plots).toBe(4);
    expect(deploys).toEqual(trend.map((w) => [w.start, w.succeeded]));
    const known = (pick: (w: (typeof trend)[number]) => number | null) =>
      trend.filter((w) => pick(w) !== null).map((w) => [w.start, pick(w)]);
    expect(lead).toEqual(known((w) => w.leadTimeMedian));
    expect(failures).toEqual(known((w) => w.changeFailureRate));
    expect(restore).toEqual(known((w) => w.timeToRestoreMedian));
    expect(restore).toEqual([[expect.any(String), 6 * 3600]]);
    await page.close();
  });

  it('narrows the window from its selector, in the address too', async () => {
    // Prepare
    const page = await browser.context.newPage();
    await page.goto(`${runtime.url}/insight`);
    const production = page.locator('[data-environment="production"]');
    await production.getByRole('heading', { name: 'production' }).waitFor();

    // Act
    await page.getByRole('combobox', { name: 'Window' }).selectOption('7d');
    await production.locator('[data-key="Deployment frequency"]').getByText('0.14/day').waitFor();

    // Assess: the last 7 days hold one successful production deploy (1/7 a day)
    expect(new URL(page.url()).search).toBe('?since=7d');
    expect(await production.locator('[data-key="Change failure rate"] .detail').textContent()).toBe('0 of 1 deploy');
    await page.close();
  });
});
