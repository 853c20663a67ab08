import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport, retryAfterMs } from '../../../adapters/githost/http';
import type { HostCredential } from '../../../adapters/githost/tokens';
import type { Provider } from '../../../core/config/schema';
import { StatusDeliveryError } from '../../../core/status/errors';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { SHA } from '../../support/githost/fixtures';

const TOKEN = 'ghp_SECRETsecretSECRET0123456789';
let host: FakeGitHost;

function transport(
  provider: Provider,
  credential: HostCredential,
  extra: Partial<ConstructorParameters<typeof HttpHostTransport>[0]> = {},
) {
  const waits: number[] = [];
  const logs: string[] = [];
  const t = new HttpHostTransport({
    provider,
    baseUrl: host.baseUrl(provider),
    credential,
    backoff: (attempt) => attempt * 10,
    sleep: async (ms) => {
      waits.push(ms);
    },
    log: { warn: (message, attributes) => logs.push(JSON.stringify({ message, ...attributes })) },
    ...extra,
  });
  return { t, waits, logs };
}

const status = { state: 'pending', context: 'stepline', description: 'queued' };

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe('authentication', () => {
  it.each<[Provider, HostCredential, string, string]>([
    ['github', { scheme: 'bearer', token: TOKEN }, 'authorization', `Bearer ${TOKEN}`],
    ['gitlab', { scheme: 'private-token', token: 'glpat-abc' }, 'private-token', 'glpat-abc'],
    ['gitlab', { scheme: 'bearer', token: 'oauth-abc' }, 'authorization', 'Bearer oauth-abc'],
    ['bitbucket', { scheme: 'bearer', token: 'bb-access' }, 'authorization', 'Bearer bb-access'],
    [
      'bitbucket',
      { scheme: 'basic', username: 'ci-bot', password: 'app-pass' },
      'authorization',
      `Basic ${Buffer.from('ci-bot:app-pass').toString('base64')}`,
    ],
  ])('sends %s credentials of scheme %o in the %s header', async (provider, credential, header, value) => {
    // Prepare
    const { t } = transport(provider, credential);

    // Act
    await t.send({ method: 'GET', path: '/anything' });

    // Assess
    expect(host.requests[0]?.headers[header]).toBe(value);
    expect(host.requests[0]?.headers['user-agent']).toBe('stepline-status');
  });

  it('asks GitHub for its versioned JSON media type', async () => {
    const { t } = transport('github', { scheme: 'bearer', token: TOKEN });
    await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });
    expect(host.requests[0]?.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    });
  });
});

describe('retries', () => {
  it('waits as Retry-After says after a 429, then delivers', async () => {
    // Prepare
    host.enqueue({ status: 429, headers: { 'retry-after': '3' } });
    const { t, waits } = transport('gitlab', { scheme: 'private-token', token: 'glpat-x' });

    // Act
    const response = await t.send({
      method: 'POST',
      path: `/projects/acme%2Fshop/statuses/${SHA}`,
      body: { state: 'pending', ref: 'main', name: 'stepline' },
    });

    // Assess
    expect(response.status).toBe(201);
    expect(waits).toEqual([3000]);
    expect(host.requests).toHaveLength(2);
  });

  it('backs off after 502s and gives up after the configured retries', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) host.enqueue({ status: 502 });
    const { t, waits } = transport('bitbucket', { scheme: 'bearer', token: 'x' }, { retries: 3 });

    // Act
    const sending = t.send({ method: 'GET', path: '/repositories/acme/shop' });

    // Assess
    await expect(sending).rejects.toBeInstanceOf(StatusDeliveryError);
    await expect(sending).rejects.toMatchObject({ httpStatus: 502 });
    expect(waits).toEqual([10, 20, 30]);
    expect(host.requests).toHaveLength(4);
  });

  it("retries GitHub's secondary rate limit (403 with Retry-After)", async () => {
    // Prepare
    host.enqueue({
      status: 403,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
    });
    const { t, waits } = transport('github', { scheme: 'bearer', token: TOKEN });

    // Act
    const response = await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    expect(response.status).toBe(201);
    expect(waits).toEqual([1000]);
  });

  it("waits until x-ratelimit-reset when GitHub's primary limit is exhausted", async () => {
    // Prepare
    const now = 1_700_000_000_000;
    host.enqueue({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) },
      body: { message: 'API rate limit exceeded' },
    });
    const { t, waits } = transport('github', { scheme: 'bearer', token: TOKEN }, { now: () => now });

    // Act
    await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    expect(waits).toEqual([6000]);
  });

  it('gives up at once when a secondary limit asks for a minute and only 20 s may be waited', async () => {
    // Prepare
    host.enqueue({ status: 403, body: { message: 'You have exceeded a secondary rate limit.' } });
    const { t, waits } = transport('github', { scheme: 'bearer', token: TOKEN });

    // Act
    const sending = t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    await expect(sending).rejects.toThrow(/asked to wait 60 s, more than the 20 s allowed/);
    expect(waits).toEqual([]);
  });

  it('does not retry a 403 that is a permission problem', async () => {
    // Prepare
    host.enqueue({ status: 403, body: { message: 'Resource not accessible by integration' } });
    const { t } = transport('github', { scheme: 'bearer', token: TOKEN });

    // Act
    const response = await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    expect(response.status).toBe(403);
    expect(host.requests).toHaveLength(1);
  });

  it('times out a host that does not answer, then retries', async () => {
    // Prepare
    let calls = 0;
    const hanging: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) {
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        });
      }
      return fetch(input, init);
    };
    const { t, waits } = transport('github', { scheme: 'bearer', token: TOKEN }, { fetch: hanging, timeoutMs: 50 });

    // Act
    const response = await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    expect(response.status).toBe(201);
    expect(calls).toBe(2);
    expect(waits).toEqual([10]);
  });

  it('never writes the token into its log lines', async () => {
    // Prepare
    host.enqueue({ status: 502 });
    host.enqueue({ status: 429, headers: { 'retry-after': '0' } });
    const { t, logs } = transport('github', { scheme: 'bearer', token: TOKEN });

    // Act
    await t.send({ method: 'POST', path: `/repos/acme/shop/statuses/${SHA}`, body: status });

    // Assess
    expect(logs).toHaveLength(2);
    expect(logs.join('\n')).toContain('/repos/acme/shop/statuses');
    expect(logs.join('\n')).not.toContain(TOKEN);
    expect(logs.join('\n')).not.toMatch(/authorization|bearer/i);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
