import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleRoutes, mountConsole, runtimeConsoleSource } from '../../../local/console';
import type { Runtime } from '../../../local/runtime';
import { removeDir, startTestRuntime, tempDir } from '../runtime/support';

/**
 * What the local server answers, and to whom (issue 15, finding 3 and the server side of 4; ADR 0087): only its own
 * Host names; nothing that changes state from a page of another origin, in a content type a form can send, or,
 * for the console, without the page's token; decisions only as the runtime's identity; beyond loopback only with
 * --listen-public, and then the AWS APIs only with SigV4 of the runtime's key pair.
 */

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const { hostname, port, host } = new URL(url);
  // `host: ''` sends no Host header at all.
  const { host: given, ...rest } = headers;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path,
        agent: false,
        setHost: false,
        headers: {
          ...(given === '' ? {} : { host: given ?? host }),
          ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...rest,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const UNKNOWN_APPROVAL = 'AbCdEfGhIjKlMnOpQrStUv';

describe('the local server on loopback', () => {
  let runtime: Runtime;

  beforeAll(async () => {
    runtime = await startTestRuntime({
      identity: 'alice',
      allowedHosts: ['stepline.test'],
      extend: (router, started) => mountConsole(router, createConsoleRoutes(runtimeConsoleSource(started))),
    });
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
  });

  it('answers only the Host names it serves: another name pointed at 127.0.0.1 (DNS rebinding) is refused', async () => {
    // Act
    const rebound = await send(runtime.url, 'GET', '/api/approvals', { host: `evil.test:${runtime.port}` });
    const page = await send(runtime.url, 'GET', '/', { host: `evil.test:${runtime.port}` });
    const localhost = await send(runtime.url, 'GET', '/api/approvals', { host: `localhost:${runtime.port}` });
    const configured = await send(runtime.url, 'GET', '/api/approvals', { host: `stepline.test:${runtime.port}` });
    const none = await send(runtime.url, 'GET', '/healthz', { host: '' });

    // Assess
    expect([rebound.status, JSON.parse(rebound.body).error]).toEqual([403, 'host_not_allowed']);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain('<html');
    expect(localhost.status).toBe(200);
    expect(configured.status).toBe(200);
    expect(none.status).toBe(400); // Node's server refuses an HTTP/1.1 request without Host before the guard.
  });

  it('takes nothing that changes state from another origin, or in a type a form or no-cors fetch can send', async () => {
    // Prepare
    const decision = JSON.stringify({ decision: 'approve' });
    const path = `/api/approvals/${UNKNOWN_APPROVAL}/decision`;

    // Act
    const plain = await send(runtime.url, 'POST', path, { 'content-type': 'text/plain' }, decision);
    const form = await send(runtime.url, 'POST', path, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=b');
    const crossOrigin = await send(runtime.url, 'POST', path, { ...JSON_TYPE, origin: 'https://evil.test' }, decision);
    const nullOrigin = await send(runtime.url, 'POST', path, { ...JSON_TYPE, origin: 'null' }, decision);
    const crossSite = await send(runtime.url, 'POST', path, { ...JSON_TYPE, 'sec-fetch-site': 'cross-site' }, decision);
    const sameSite = await send(runtime.url, 'POST', path, { ...JSON_TYPE, 'sec-fetch-site': 'same-site' }, decision);
    const cli = await send(runtime.url, 'POST', path, JSON_TYPE, decision);
    const sameOrigin = await send(runtime.url, 'POST', path, { ...JSON_TYPE, origin: runtime.url }, decision);
    const replay = await send(runtime.url, 'POST', '/api/parked/replay', { 'content-type': 'text/plain' }, '{}');
    const status = await send(
      runtime.url,
      'POST',
      `/githost/github/repos/acme/shop/statuses/${'a'.repeat(40)}`,
      { 'content-type': 'text/plain' },
      JSON.stringify({ state: 'success', context: 'forged' }),
    );
    const webhook = await send(
      runtime.url,
      'POST',
      '/webhooks/github',
      { ...JSON_TYPE, origin: 'https://evil.test' },
      '{}',
    );

    // Assess
    expect(plain.status).toBe(415);
    expect(form.status).toBe(415);
    expect(crossOrigin.status).toBe(403);
    expect(nullOrigin.status).toBe(403);
    expect(crossSite.status).toBe(403);
    expect(sameSite.status).toBe(403);
    expect(cli.status).toBe(404);
    expect(sameOrigin.status).toBe(404);
    expect(replay.status).toBe(415);
    expect(status.status).toBe(415);
    expect(runtime.stores.statuses.list({ limit: 10 })).toEqual([]);
    expect(webhook.status).toBe(403);
  });

  it("decides as the runtime's identity only: a request that names someone else is refused", async () => {
    // Act
    const asBob = await send(
      runtime.url,
      'POST',
      `/api/approvals/${UNKNOWN_APPROVAL}/decision`,
      JSON_TYPE,
      JSON.stringify({ decision: 'approve', by: 'bob' }),
    );
    const asAlice = await send(
      runtime.url,
      'POST',
      `/api/approvals/${UNKNOWN_APPROVAL}/decision`,
      JSON_TYPE,
      JSON.stringify({ decision: 'approve', by: 'alice' }),
    );

    // Assess
    expect(asBob.status).toBe(403);
    expect(JSON.parse(asBob.body)).toMatchObject({ outcome: 'forbidden' });
    expect(JSON.parse(asBob.body).message).toContain('this runtime decides as alice, not bob');
    expect(asAlice.status).toBe(404);
  });

  it("takes the console's actions only with the token of its page", async () => {
    // Prepare
    const page = await send(runtime.url, 'GET', '/');
    const token = /<meta name="stepline-token" content="([^"]+)">/.exec(page.body)?.[1] ?? '';
    const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0] ?? '';
    const action = (headers: Record<string, string>) =>
      send(
        runtime.url,
        'POST',
        '/api/console/identity',
        { ...JSON_TYPE, 'x-stepline-console': '1', ...headers },
        JSON.stringify({ login: 'alice' }),
      );

    // Act
    const without = await action({});
    const withCookie = await action({ cookie });
    const withHeader = await action({ 'x-stepline-console': token });
    const forged = await action({ 'x-stepline-console': 'x'.repeat(token.length) });

    // Assess
    expect(token.length).toBeGreaterThan(20);
    expect(String(page.headers['set-cookie'])).toContain('HttpOnly');
    expect(String(page.headers['set-cookie'])).toContain('SameSite=Strict');
    expect([without.status, JSON.parse(without.body).error]).toEqual([403, 'missing_token']);
    expect(withCookie.status).toBe(200);
    expect(withHeader.status).toBe(200);
    expect(forged.status).toBe(403);
  });
});

describe('the local runtime beyond loopback', () => {
  it('refuses HOST=0.0.0.0 without --listen-public, saying what it would expose', async () => {
    // Prepare
    const stateDir = tempDir('public-refused');

    // Act
    const started = startTestRuntime({ host: '0.0.0.0', stateDir });

    // Assess
    await expect(started).rejects.toThrow(/--listen-public/);
    removeDir(stateDir);
  });

  it('with --listen-public, takes AWS API calls signed with its key pair only, written once to the state folder', async () => {
    // Prepare
    const lines: string[] = [];
    const runtime = await startTestRuntime({ host: '0.0.0.0', listenPublic: true, log: (l) => lines.push(l) });
    const file = join(runtime.stateDir, 'aws-credentials');
    const text = (await import('node:fs')).readFileSync(file, 'utf8');
    const accessKeyId = /aws_access_key_id = (\S+)/.exec(text)?.[1] ?? '';
    const secretAccessKey = /aws_secret_access_key = (\S+)/.exec(text)?.[1] ?? '';
    const client = (secret: string) =>
      new SFNClient({
        endpoint: runtime.url,
        region: 'us-east-1',
        credentials: { accessKeyId, secretAccessKey: secret },
        maxAttempts: 1,
      });
    const good = client(secretAccessKey);
    const bad = client(`${secretAccessKey.slice(0, -1)}x`);

    try {
      // Act
      const listed = await good.send(new ListStateMachinesCommand({}));
      const refused = await bad.send(new ListStateMachinesCommand({})).catch((e: Error) => e);
      const unsigned = await send(
        runtime.url,
        'POST',
        '/',
        {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AWSStepFunctions.ListStateMachines',
        },
        '{}',
      );

      // Assess
      expect(listed.stateMachines?.map((m) => m.name)).toContain('stepline-pipeline');
      expect((refused as Error).name).toBe('InvalidSignatureException');
      expect([unsigned.status, JSON.parse(unsigned.body).__type]).toEqual([403, 'MissingAuthenticationTokenException']);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(lines.filter((l) => l.includes(secretAccessKey))).toHaveLength(1);
    } finally {
      good.destroy();
      bad.destroy();
      await runtime.stop();
    }

    // Act: a second start reads the same pair and says nothing of it.
    const again = await startTestRuntime({
      host: '0.0.0.0',
      listenPublic: true,
      stateDir: runtime.stateDir,
      log: (l) => lines.push(l),
    });
    await again.stop();

    // Assess
    expect(lines.filter((l) => l.includes(secretAccessKey))).toHaveLength(1);
    removeDir(runtime.stateDir);
  }, 60_000);
});
