import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { Router, sinkRoute } from '../../../local/server';
import { GitHostSink, inProcessSinkFetch } from '../../../local/services/githost';
import { openStateDb, StatusStore } from '../../../local/store';

/**
 * The local Git host status sink answers the status APIs of GitHub, GitLab and Bitbucket as the hosts do where the
 * status code depends on it, and keeps what it received for the CLI and the console.
 */

const SHA = 'a'.repeat(40);

function sink(): { sink: GitHostSink; store: StatusStore } {
  const store = new StatusStore(openStateDb(':memory:'));
  return { sink: new GitHostSink(store), store };
}

describe('the local Git host sink', () => {
  it('keeps every GitHub status and reads back the latest per context, combined', () => {
    // Prepare
    const { sink: s } = sink();
    const post = (context: string, state: string) =>
      s.handle({
        method: 'POST',
        path: `/github/repos/acme/shop/statuses/${SHA}`,
        body: { state, context, description: 'd' },
      });
    // Act
    post('stepline', 'pending');
    post('stepline/build', 'pending');
    post('stepline/build', 'success');
    const combined = s.handle({
      method: 'GET',
      path: `/github/repos/acme/shop/commits/${SHA}/status?per_page=100`,
      body: null,
    });
    // Assess
    expect(combined.status).toBe(200);
    expect(combined.body).toMatchObject({
      state: 'pending',
      total_count: 2,
      statuses: [
        { context: 'stepline/build', state: 'success' },
        { context: 'stepline', state: 'pending' },
      ],
    });
  });

  it.each([
    [
      'GitHub refuses an unknown state',
      'github',
      `/github/repos/acme/shop/statuses/${SHA}`,
      { state: 'running', context: 'x' },
      422,
    ],
    [
      'GitHub refuses a description over 140 characters',
      'github',
      `/github/repos/acme/shop/statuses/${SHA}`,
      { state: 'pending', context: 'x', description: 'x'.repeat(141) },
      422,
    ],
    [
      'GitLab refuses an unknown state',
      'gitlab',
      `/gitlab/api/v4/projects/acme%2Fshop/statuses/${SHA}`,
      { state: 'done', name: 'x' },
      400,
    ],
    [
      'Bitbucket refuses a status without a url',
      'bitbucket',
      `/bitbucket/2.0/repositories/acme/shop/commit/${SHA}/statuses/build`,
      { state: 'INPROGRESS', key: 'k' },
      400,
    ],
  ])('%s', (_case, _provider, path, body, status) => {
    // Act
    const answer = sink().sink.handle({ method: 'POST', path, body });
    // Assess
    expect(answer.status).toBe(status);
  });

  it('refuses a GitLab transition from pending to pending, as GitLab does', () => {
    // Prepare
    const { sink: s, store } = sink();
    const path = `/gitlab/api/v4/projects/acme%2Fplatform%2Fshop/statuses/${SHA}`;
    // Act
    const first = s.handle({ method: 'POST', path, body: { state: 'pending', name: 'stepline', ref: 'main' } });
    const again = s.handle({ method: 'POST', path, body: { state: 'pending', name: 'stepline', ref: 'main' } });
    const onwards = s.handle({ method: 'POST', path, body: { state: 'running', name: 'stepline', ref: 'main' } });
    // Assess
    expect([first.status, again.status, onwards.status]).toEqual([201, 400, 201]);
    expect((again.body as { message: string }).message).toContain('Cannot transition status');
    expect(store.latest('gitlab', 'acme/platform/shop', SHA).map((x) => [x.context, x.state, x.ref])).toEqual([
      ['stepline', 'running', 'main'],
    ]);
  });

  it('keeps one Bitbucket status per key, overwritten', () => {
    // Prepare
    const { sink: s } = sink();
    const path = `/bitbucket/2.0/repositories/acme/shop/commit/${SHA}/statuses/build`;
    // Act
    s.handle({ method: 'POST', path, body: { key: 'k1', state: 'INPROGRESS', url: 'http://x', name: 'stepline' } });
    s.handle({ method: 'POST', path, body: { key: 'k1', state: 'SUCCESSFUL', url: 'http://x', name: 'stepline' } });
    const list = s.handle({
      method: 'GET',
      path: `/bitbucket/2.0/repositories/acme/shop/commit/${SHA}/statuses`,
      body: null,
    });
    // Assess
    expect((list.body as { values: { key: string; state: string }[] }).values).toEqual([
      expect.objectContaining({ key: 'k1', state: 'SUCCESSFUL' }),
    ]);
  });

  it('records GitHub deployments and their statuses', () => {
    // Prepare
    const { sink: s, store } = sink();
    // Act
    const created = s.handle({
      method: 'POST',
      path: '/github/repos/acme/shop/deployments',
      body: { ref: SHA, environment: 'staging', payload: { run: 'x' } },
    });
    const id = (created.body as { id: number }).id;
    s.handle({
      method: 'POST',
      path: `/github/repos/acme/shop/deployments/${id}/statuses`,
      body: { state: 'success' },
    });
    const listed = s.handle({
      method: 'GET',
      path: `/github/repos/acme/shop/deployments?sha=${SHA}&environment=staging`,
      body: null,
    });
    // Assess
    expect(created.status).toBe(201);
    expect(listed.body).toEqual([expect.objectContaining({ id, environment: 'staging' })]);
    expect(store.deployment(id)?.statuses).toEqual([expect.objectContaining({ state: 'success' })]);
  });

  it('answers 404 for a path no host has', () => {
    // Act
    const answer = sink().sink.handle({ method: 'GET', path: '/gitea/api/v1/repos', body: null });
    // Assess
    expect(answer.status).toBe(404);
  });
});

describe('the local Git host sink in process', () => {
  let server: Server;
  let mount: string;
  let store: StatusStore;
  let inProcess: typeof fetch;

  beforeAll(async () => {
    store = new StatusStore(openStateDb(':memory:'));
    const routed = new GitHostSink(store);
    const router = new Router().add('*', '/githost/*rest', sinkRoute(routed));
    server = createServer((req, res) => void router.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mount = `http://127.0.0.1:${(server.address() as AddressInfo).port}/githost`;
    // Its own store: every case sends each request both ways, and a GitLab status is a transition that a second
    // identical request may not repeat (running → running is refused), so the two sinks keep step, not share.
    inProcess = inProcessSinkFetch(new GitHostSink(new StatusStore(openStateDb(':memory:'))), mount, () => {
      throw new Error('the in-process sink sent a request over the network');
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The answer without what differs between two identical requests (ids, times). */
  const comparable = (body: unknown): unknown =>
    JSON.parse(JSON.stringify(body), (key, value) => (key === 'id' || key === 'created_at' ? undefined : value));

  it.each([
    ['a GitHub status', 'POST', `/github/repos/acme/shop/statuses/${SHA}`, JSON.stringify({ state: 'pending' })],
    ['an invalid state', 'POST', `/github/repos/acme/shop/statuses/${SHA}`, JSON.stringify({ state: 'running' })],
    ['a body that is not JSON', 'POST', `/github/repos/acme/shop/statuses/${SHA}`, '{"state":'],
    ['an empty body', 'POST', `/github/repos/acme%2Fx/shop/statuses/${SHA}`, ''],
    ['a combined status', 'GET', `/github/repos/acme/shop/commits/${SHA}/status?per_page=100`, undefined],
    ['a GitLab status', 'POST', `/gitlab/api/v4/projects/acme%2Fshop/statuses/${SHA}`, '{"state":"running"}'],
    ['a path no host has', 'GET', '/gitea/api/v1/repos', undefined],
  ])('answers %s as the HTTP route does', async (_case, method, path, body) => {
    // Prepare: a body goes as JSON, as the status functions' client sends it (the route refuses other types).
    const init = { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) };

    // Act
    const overHttp = await fetch(`${mount}${path}`, init);
    const direct = await inProcess(`${mount}${path}`, init);

    // Assess
    expect(direct.status).toBe(overHttp.status);
    expect(direct.headers.get('content-type')).toBe(overHttp.headers.get('content-type'));
    expect(comparable(await direct.json())).toEqual(comparable(await overHttp.json()));
  });

  it("records what the status functions' HTTP client posts, and sends other hosts' URLs to the network", async () => {
    // Prepare
    const sent: string[] = [];
    const sinkFetch = inProcessSinkFetch(new GitHostSink(store), mount, async (input) => {
      sent.push(String(input));
      return new Response('{}', { status: 201 });
    });
    const transport = (baseUrl: string) =>
      new HttpHostTransport({
        provider: 'github',
        baseUrl,
        credential: { scheme: 'bearer', token: 'sink' },
        fetch: sinkFetch,
        retries: 0,
      });
    const sha = 'c'.repeat(40);

    // Act
    const local = await transport(`${mount}/github`).send({
      method: 'POST',
      path: `/repos/acme/api/statuses/${sha}`,
      body: { state: 'success', context: 'stepline/build', description: 'built' },
    });
    await transport('https://api.github.com').send({
      method: 'POST',
      path: `/repos/acme/api/statuses/${sha}`,
      body: {},
    });

    // Assess
    expect(local.status).toBe(201);
    expect(store.latest('github', 'acme/api', sha)).toEqual([
      expect.objectContaining({ context: 'stepline/build', state: 'success', description: 'built' }),
    ]);
    expect(sent).toEqual([`https://api.github.com/repos/acme/api/statuses/${sha}`]);
  });
});
