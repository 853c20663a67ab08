import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHandler, createConsoleRoutes, mountConsole, runtimeConsoleSource } from '../../../local/console';
import type { Runtime } from '../../../local/runtime';
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
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM, SKIP_REASON } from '../console/browser';

/**
 * The local runtime against hostile web pages, in Debian's Chromium (issue 15, findings 3, 4 and 8; ADR 0087): a
 * page of another site that the signed-in user opens tries to approve a waiting gate (a `no-cors` text/plain POST
 * naming an approver, an auto-submitted form to the approval link), to forge a commit status and to replay parked
 * deliveries; a page whose name is pointed at 127.0.0.1 (DNS rebinding) reads the approvals and decides; payloads
 * carry `javascript:` URLs that the console would render as links.
 */

const GATED = 'acme/gated';
const PLAIN = 'acme/plain';

describe.skipIf(!HAS_CHROMIUM)(
  `the local runtime against hostile pages${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`,
  () => {
    let runtime: Runtime;
    let handler: ConsoleHandler | undefined;
    let context: BrowserContext;
    let profile: string;
    let attacker: Server;
    let attackerUrl: string;
    let attackPage = '';
    let executionArn: string;
    let approvalId: string;
    let approvalUrl: string;
    const repositories: string[] = [];

    beforeAll(async () => {
      const config = pipelineConfig({
        repository: GATED,
        environments: {
          production: { ...environments('gated')['staging'], approval: { approvers: ['alice'], timeoutMinutes: 30 } },
        },
      });
      (config['repositories'] as unknown[]).push(
        ...(pipelineConfig({ repository: PLAIN })['repositories'] as unknown[]),
      );
      runtime = await startTestRuntime({
        config: config as never,
        identity: 'mallory',
        extend: (router, rt) => {
          handler = createConsoleRoutes(runtimeConsoleSource(rt));
          mountConsole(router, handler);
        },
      });
      await handler?.ready;
      // The attacker's site: another host name (localhost, not 127.0.0.1), so another site for the browser.
      attacker = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(attackPage);
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
      profile = mkdtempSync(join(tmpdir(), 'stepline-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        // rebind.test resolves to the runtime's address: a DNS rebinding, without a DNS server.
        args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
        timeout: 30_000,
      });
      context.setDefaultTimeout(10_000);
      const repo = gitRepository(sampleFiles({ name: 'gated' }));
      repositories.push(repo.dir);
      const answer = await deliver(runtime, githubPush({ repository: GATED, cloneUrl: repo.dir, sha: repo.sha }));
      executionArn = answer.body['executionArn'] as string;
      const [waiting] = await waitFor(
        'the approval request',
        async () => {
          const list = await runtime.approvals.list({ status: 'waiting', executionArn });
          return list.length ? list : undefined;
        },
        60_000,
      );
      approvalId = waiting?.id as string;
      approvalUrl = waiting?.url as string;
    }, 90_000);

    afterAll(async () => {
      await context?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
      await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
      handler?.close();
      await runtime?.stop();
      if (runtime) removeDir(runtime.stateDir);
      for (const dir of repositories) removeDir(dir);
    });

    const gate = async () => (await runtime.approvals.get(approvalId))?.status;

    it('lets no page of another site approve, forge a status or replay deliveries', async () => {
      // Prepare: the user has the console open (its cookie is in the browser), then opens the attacker's page.
      const consolePage = await context.newPage();
      await consolePage.goto(runtime.url);
      await consolePage.getByRole('heading', { name: 'Executions' }).waitFor();
      const sha = 'c'.repeat(40);
      attackPage = `<!doctype html><html><body>
      <form id="f" method="POST" action="${approvalUrl}">
        <input name="decision" value="approve"><input name="user" value="alice"><input name="by" value="alice">
      </form>
      <script>
        const target = ${JSON.stringify(runtime.url)};
        const post = (path, body, type) => fetch(target + path, { method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: { 'content-type': type }, body }).catch(() => null);
        window.attack = Promise.all([
          post('/api/approvals/${approvalId}/decision', JSON.stringify({ decision: 'approve', by: 'alice' }), 'text/plain'),
          post('/api/console/approvals/${approvalId}/approve', JSON.stringify({ by: 'alice' }), 'text/plain'),
          post('/githost/github/repos/${GATED}/statuses/${sha}', JSON.stringify({ state: 'success', context: 'forged' }), 'text/plain'),
          post('/api/parked/replay', '{}', 'text/plain'),
        ]);
      </script></body></html>`;
      const page = await context.newPage();

      // Act
      await page.goto(`${attackerUrl}/`);
      await page.evaluate(() => (globalThis as unknown as { attack: Promise<unknown> }).attack);
      await Promise.all([
        page.waitForEvent('load'),
        page.locator('#f').evaluate((form) => (form as unknown as { submit(): void }).submit()),
      ]);
      const landed = await page.textContent('body');

      // Assess
      expect(await gate()).toBe('waiting');
      expect(runtime.stores.statuses.list({ sha, limit: 10 })).toEqual([]);
      expect(landed).not.toMatch(/approved/i);
      await page.close();
      await consolePage.close();
    }, 60_000);

    it('answers a page whose name is pointed at it (DNS rebinding) nothing it can read or act on', async () => {
      // Prepare: the attacker's name resolves to 127.0.0.1 now, so its script runs in an origin (rebind.test:<port>)
      // whose requests reach the runtime as same-origin ones: the browser's own checks see nothing wrong.
      const origin = `http://rebind.test:${runtime.port}`;
      const page = await context.newPage();
      const first = await page.goto(`${origin}/`);

      // Act
      const outcome = await page.evaluate(async (id) => {
        const list = await fetch('/api/approvals?status=waiting');
        const decided = await fetch(`/api/approvals/${id}/decision`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'approve', by: 'alice' }),
        });
        return { list: list.status, listed: await list.text(), decided: decided.status };
      }, approvalId);

      // Assess
      expect(first?.status()).toBe(403);
      expect(outcome.list).toBe(403);
      expect(outcome.listed).not.toContain(approvalId);
      expect(outcome.decided).toBe(403);
      expect(await gate()).toBe('waiting');
      await page.close();
    }, 60_000);

    it('renders no link of a payload that is not http(s)', async () => {
      // Prepare: a push whose repository and commit URLs are javascript:, and a status whose target_url is.
      const repo = gitRepository(sampleFiles({ name: 'plain' }));
      repositories.push(repo.dir);
      const delivery = githubPush({ repository: PLAIN, cloneUrl: repo.dir, sha: repo.sha });
      const payload = JSON.parse(delivery.body) as Record<string, Record<string, unknown>>;
      (payload['repository'] as Record<string, unknown>)['html_url'] = 'javascript:alert(document.domain)';
      (payload['head_commit'] as Record<string, unknown>)['url'] = 'JavaScript:alert(1)';
      const signed = githubPush({ repository: PLAIN, cloneUrl: repo.dir, sha: repo.sha });
      const body = JSON.stringify(payload);
      const { createHmac } = await import('node:crypto');
      const { SECRET } = await import('../../local/runtime/support');
      const headers = {
        ...signed.headers,
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      };
      const answer = await deliver(runtime, { headers, body });
      const arn = answer.body['executionArn'] as string;
      await fetch(`${runtime.url}/githost/github/repos/${PLAIN}/statuses/${repo.sha}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'pending', context: 'evil', target_url: 'javascript:alert(2)' }),
      });
      const page = await context.newPage();

      // Act
      await page.goto(runtime.url);
      await page.getByRole('link', { name: arn.split(':').pop() as string }).waitFor();
      const inList = await page.$$eval('a[href]', (links) => links.map((a) => a.getAttribute('href') ?? ''));
      await page.goto(`${runtime.url}/executions/${arn}`);
      await page.getByRole('tab', { name: /Statuses/ }).click();
      await page.locator('table.statuses').getByText('evil').waitFor();
      const onPage = await page.$$eval('a[href]', (links) => links.map((a) => a.getAttribute('href') ?? ''));

      // Assess
      expect(answer.status).toBe(202);
      const unsafe = [...inList, ...onPage].filter((href) => !/^(https?:|\/|#)/i.test(href));
      expect(unsafe).toEqual([]);
      expect(await page.locator('table.statuses').textContent()).toContain('evil');
      await page.close();
    }, 60_000);
  },
);
