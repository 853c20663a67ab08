import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineConsoleSource } from '../../../local/console';
import { Engine, type StateMachineDefinition } from '../../../local/engine';
import { type ConsoleServer, ConsoleWorld, serveConsole } from '../../local/console/support';
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON } from './browser';

/**
 * The console in a real browser (Debian's Chromium) against a real local Engine running the real pipeline
 * definition: a run appears and turns green, a failed run's failing state tells its error, a pending approval is
 * approved by a click, and everything is reachable with the keyboard.
 */

describe.skipIf(!HAS_CHROMIUM)(`console in Chromium${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let browser: Browser;
  let server: ConsoleServer | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('shows a new run appear in the list and turn green when it succeeds', async () => {
    // Prepare: a passing run, a pull request whose e2e suite fails, and a run waiting for approval.
    const world = new ConsoleWorld({ failingSuites: ['e2e'] });
    await world.start('push-main-0001', { sha: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567', suites: ['unit'] }).done;
    await world.start('pr-42-checkout', {
      branch: 'feature/checkout',
      pullRequest: 42,
      sha: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
    }).done;
    const gated = world.start(
      'push-main-payments',
      { repository: 'acme/payments', approval: true, suites: ['unit'] },
      'real',
    );
    server = await serveConsole(world.source);
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.getByRole('link', { name: 'push-main-0001' }).waitFor();

    // Act
    world.world.hold('push-main-0002');
    const run = world.start('push-main-0002', { branch: 'feature/cart', repository: 'acme/cart', suites: ['unit'] });
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'push-main-0002' }) });
    await row.getByText('Running').waitFor();
    const whileRunning = await row.textContent();
    world.world.release('push-main-0002');
    await run.done;
    await row.getByText('Succeeded').waitFor();

    // Assess
    expect(whileRunning).toContain('acme/cart');
    expect(whileRunning).toContain('feature/cart');
    expect(await page.locator('tbody tr').first().textContent()).toContain('push-main-0002');
    expect(await page.locator('tr', { hasText: 'pr-42-checkout' }).textContent()).toContain('PR #42');
    await page.getByRole('button', { name: 'Approve the deploy to production' }).waitFor();
    await page.close();
    world.engine.stop(gated.executionArn);
    await gated.done;
  });

  it('opens a failed run and shows the failing state with its error and cause', async () => {
    // Prepare
    const world = new ConsoleWorld({ failBuild: { phase: 'BUILD', exitCode: 2 } });
    const result = await world.start('push-main-broken').done;
    server = await serveConsole(world.source);
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'push-main-broken' }).click();
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="Build"]').click();
    const error = await page.locator('.state-panel .state-error').textContent();
    const cause = await page.locator('.state-panel .cause-summary').textContent();

    // Assess
    expect(result.status).toBe('FAILED');
    expect(await page.locator('h1').textContent()).toContain('Failed');
    expect(await page.locator('[data-state="Build"]').getAttribute('data-status')).toBe('caught');
    expect(await page.locator('[data-state="PipelineFailed"]').getAttribute('data-status')).toBe('failed');
    expect(await page.locator('[data-state="Promote"]').getAttribute('data-status')).toBe('notStarted');
    expect(error).toBe('States.TaskFailed');
    expect(cause).toMatch(/^BUILD FAILED: .*exit status 2/);
    expect(await page.locator('.state-panel .error-block').last().textContent()).not.toContain('"');
    await page.getByRole('button', { name: /^Open the log of build/ }).click();
    await page.locator('.log pre', { hasText: 'exit status 2' }).waitFor();
    expect(await page.getByRole('tab', { name: /Builds/ }).getAttribute('aria-selected')).toBe('true');
    await page.close();
  });

  it('approves a pending approval with a click and the run goes on to deploy production', async () => {
    // Prepare
    const world = new ConsoleWorld();
    const run = world.start('push-main-gated', { approval: true }, 'real');
    server = await serveConsole(world.source);
    const page = await browser.context.newPage();
    await page.goto(server.url);
    const approve = page.getByRole('button', { name: 'Approve the deploy to production' });
    await approve.waitFor();
    await page.getByRole('link', { name: 'push-main-gated' }).click();
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="Approve"][data-status="running"]').waitFor();

    // Act
    await page.getByRole('button', { name: 'Approve the deploy to production' }).click();
    const result = await run.done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    await page.locator('h1', { hasText: 'Succeeded' }).waitFor();
    await page.locator('[data-state="Approve"][data-status="succeeded"]').waitFor();
    await page.locator('[data-state="Promote"][data-status="succeeded"]').waitFor();
    expect(await page.locator('.approvals').textContent()).toContain('approved by console');
    await page.close();
  });

  it('selects a state, moves through the events and switches tabs with the keyboard alone', async () => {
    // Prepare
    const world = new ConsoleWorld();
    await world.start('push-main-keys').done;
    server = await serveConsole(world.source);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/executions/${world.engine.list()[0]?.executionArn}`);
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="Build"]').waitFor();

    // Act: Tab to the Build state and press Enter.
    let focused = '';
    for (let i = 0; i < 60 && focused !== 'Build'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>("document.activeElement?.getAttribute('data-state') ?? ''");
    }
    await page.keyboard.press('Enter');
    const panel = await page.locator('.state-panel h2').textContent();
    await page.getByRole('tab', { name: /Graph/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.locator('.grid-body').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');

    // Assess
    expect(focused).toBe('Build');
    expect(panel).toBe('Build');
    expect(await page.getByRole('tab', { name: /Events/ }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.event-details h3').textContent()).toMatch(/ExecutionSucceeded/);
    await page.close();
  });

  it('shows an execution of more than 5,000 events, with only the rows in view in the page', async () => {
    // Prepare
    const engine = new Engine({ clock: 'virtual' });
    const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:many';
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          Items: '{% [1..1300] %}',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Step',
            States: { Step: { Type: 'Pass', End: true } },
          },
          End: true,
        },
      },
    } as StateMachineDefinition;
    const result = await engine.start(definition, {}, { name: 'big', stateMachineArn: machine }).done;
    server = await serveConsole(engineConsoleSource(engine, { definitions: { [machine]: definition } }));
    const page = await browser.context.newPage();

    // Act
    await page.goto(`${server.url}/executions/${result.executionArn}`);
    await page.locator('[data-state="Step"][data-status="succeeded"]').waitFor();
    const step = await page.locator('[data-state="Step"]').getAttribute('aria-label');
    await page.getByRole('tab', { name: /Events/ }).click();
    await page.getByText(`${result.history.length} events`).waitFor();
    const rendered = await page.locator('.grid-row').count();
    await page.locator('.grid-body').focus();
    await page.keyboard.press('End');
    await page.locator('.grid-row.active', { hasText: 'ExecutionSucceeded' }).waitFor();

    // Assess
    expect(result.history.length).toBeGreaterThan(5000);
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(100);
    expect(step).toContain('1300/1300');
    await page.close();
  });

  it('fits a narrow window: no sideways scrolling of the page, the state details below the graph', async () => {
    // Prepare
    const world = new ConsoleWorld();
    await world.start('push-main-narrow').done;
    server = await serveConsole(world.source);
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });

    // Act
    await page.goto(server.url);
    await page.getByRole('link', { name: 'push-main-narrow' }).waitFor();
    const listOverflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    await page.getByRole('link', { name: 'push-main-narrow' }).click();
    await page.getByRole('tab', { name: /Graph/ }).click();
    await page.locator('[data-state="RunSuite"]').click();
    await page.locator('.state-panel h2').waitFor();
    const pageOverflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    const graph = await page.locator('.graph').boundingBox();
    const panel = await page.locator('.state-panel').boundingBox();

    // Assess
    expect(listOverflow).toBeLessThanOrEqual(0);
    expect(pageOverflow).toBeLessThanOrEqual(0);
    expect(graph && panel && panel.y >= graph.y + graph.height).toBe(true);
    expect(await page.locator('.state-panel h2').textContent()).toBe('RunSuite');
    await page.close();
  });
});
