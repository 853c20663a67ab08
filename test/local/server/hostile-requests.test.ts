import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildRuntime, startChildRuntime } from '../runtime/child-support';
import { removeDir, tempDir } from '../runtime/support';

/**
 * The local server against hostile requests (issue 15, findings 1 and 7), with the runtime in a process of its own
 * so that a request that kills it shows: bad %-escapes in every path parameter, every method, bodies that are not
 * what a route takes, too large, too deep, of every content type. The process must stay up and answer; nothing is
 * answered 5xx; the limits answer 413 on a connection that still serves the next request.
 */

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The client port of the connection the answer came on (the same port: the same connection). */
  readonly localPort: number;
}

let runtime: ChildRuntime;
let host: string;

function send(
  method: string,
  path: string,
  options: { body?: Buffer | string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    let localPort = 0;
    const req = request(
      {
        host: '127.0.0.1',
        port: runtime.port,
        method,
        path,
        agent: options.agent ?? false,
        // A length for every body: Node's client sends DELETE and OPTIONS bodies without one.
        headers: {
          host,
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
            localPort,
          }),
        );
        res.on('error', (error) => resolve({ status: 0, body: error.message, headers: {}, localPort }));
      },
    );
    req.on('socket', (socket) => {
      localPort = socket.localPort ?? 0;
      socket.once('connect', () => {
        localPort = socket.localPort ?? 0;
      });
    });
    // A reset is an answer too (status 0), which the assertions refuse; so is no answer in 10 s.
    req.on('error', (error) => resolve({ status: 0, body: error.message, headers: {}, localPort }));
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

/** Runs `tasks` at most `width` at a time. */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

const BAD_ESCAPES = ['%ZZ', '%ff', '%E0%A4', '%', '%C0%AF'];

/** A path of `pattern` with each parameter replaced by `value`. */
function pathOf(pattern: string, value: string): string {
  return pattern
    .split('/')
    .map((segment) => (segment.startsWith(':') ? value : segment.startsWith('*') ? `${value}/x` : segment))
    .join('/');
}

beforeAll(async () => {
  runtime = await startChildRuntime(
    {
      port: 0,
      stateDir: tempDir('hostile'),
      webhookSecret: 'a-webhook-secret-for-tests-only-0123456789',
      logLevel: 'SILENT',
      replayEveryMs: 0,
      approvalKeeperEveryMs: 0,
      kubernetes: 'simulated',
      simulatedCluster: { tickMs: 200 },
    },
    { console: true },
  );
  host = `127.0.0.1:${runtime.port}`;
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
});

describe('the local server against hostile requests', () => {
  it('answers 400 to a bad %-escape in every path parameter, and lives', async () => {
    // Prepare
    const routes = runtime.routes.filter((r) => /\/[:*]/.test(r.pattern));
    const cases = routes.flatMap((route) =>
      BAD_ESCAPES.map((bad) => ({
        method: route.method === '*' ? 'GET' : route.method,
        path: pathOf(route.pattern, bad),
      })),
    );

    // Act
    const answers = await pool(
      cases.map(
        (c) => () =>
          send(
            c.method,
            c.path,
            c.method === 'GET' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } },
          ),
      ),
      8,
    );
    const health = await send('GET', '/healthz');

    // Assess
    expect(routes.length).toBeGreaterThanOrEqual(8);
    expect(
      answers
        .map((a, i) => `${cases[i]?.method} ${cases[i]?.path} ${a.status}`)
        .filter((line) => !line.endsWith(' 400')),
    ).toEqual([]);
    expect(health.status).toBe(200);
    expect(runtime.alive()).toBe(true);
    expect(runtime.stderr()).toContain('400 malformed_path');
  }, 60_000);

  it('answers every route, method, body and content type with no 5xx, and stays up', async () => {
    // Prepare
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const bodies: { body?: string | Buffer; type?: string }[] = [
      {},
      { body: '{}', type: 'application/json' },
      { body: '{"decision":"approve","by":"alice","name":"x"}', type: 'text/plain' },
      { body: 'decision=approve&user=alice', type: 'application/x-www-form-urlencoded' },
      { body: '{"a":', type: 'application/json' },
      { body: deep, type: 'application/json' },
      { body: randomBytes(64 * 1024), type: 'application/octet-stream' },
      {
        body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
        type: 'multipart/form-data; boundary=x',
      },
    ];
    const targets = [
      undefined,
      'AWSStepFunctions.StartExecution',
      'AWSStepFunctions.DescribeExecution',
      'AWSStepFunctions.SendTaskSuccess',
      'CodeBuild_20161006.StartBuild',
      'CodeBuild_20161006.BatchGetBuilds',
      'AWSStepFunctions.NoSuchThing',
    ];
    const cases: { method: string; path: string; body?: string | Buffer; headers: Record<string, string> }[] = [];
    for (const route of runtime.routes) {
      for (const value of ['x', 'arn%3Aaws%3Astates%3Aus-east-1%3A000000000000%3Aexecution%3Ap%3Ae']) {
        const path = pathOf(route.pattern, value);
        for (const method of methods) {
          // The event streams answer at once and never end, as they should.
          if ((method === 'GET' || method === 'HEAD') && path.endsWith('/events')) continue;
          for (const { body, type } of bodies) {
            if ((method === 'GET' || method === 'HEAD') && body !== undefined) continue;
            cases.push({
              method,
              path,
              ...(body !== undefined ? { body } : {}),
              headers: type ? { 'content-type': type } : {},
            });
          }
        }
      }
    }
    for (const target of targets) {
      for (const { body, type } of bodies) {
        cases.push({
          method: 'POST',
          path: '/',
          ...(body !== undefined ? { body } : {}),
          headers: { ...(type ? { 'content-type': type } : {}), ...(target ? { 'x-amz-target': target } : {}) },
        });
      }
      cases.push({
        method: 'POST',
        path: '/',
        body: JSON.stringify({ stateMachineArn: 'x', name: 'deep', input: deep, output: deep, ids: [deep] }),
        headers: { 'content-type': 'application/x-amz-json-1.0', ...(target ? { 'x-amz-target': target } : {}) },
      });
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });

    // Act
    const started = Date.now();
    const answers = await pool(
      cases.map(
        (c) => () =>
          send(c.method, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), headers: c.headers, agent }),
      ),
      16,
    );
    const took = Date.now() - started;
    const health = await send('GET', '/healthz');
    agent.destroy();

    // Assess
    const failures = answers
      .map((a, i) => ({ a, c: cases[i] }))
      .filter(({ a }) => a.status >= 500 || a.status === 0)
      .map(
        ({ a, c }) =>
          `${c?.method} ${c?.path.slice(0, 80)} ${c?.headers['x-amz-target'] ?? ''} → ${a.status} ${a.body.slice(0, 120)}`,
      );
    expect(cases.length).toBeGreaterThan(2000);
    expect(failures).toEqual([]);
    expect(health.status).toBe(200);
    expect(runtime.alive()).toBe(true);
    expect(took).toBeLessThan(60_000);
  }, 120_000);

  it('refuses a body over each limit with 413 and serves the next request on the same connection', async () => {
    // Prepare
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const json = { 'content-type': 'application/json' };

    // Act
    const webhook = await send('POST', '/webhooks/github', {
      agent,
      body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x20),
      headers: { ...json, 'x-github-event': 'push', 'x-github-delivery': 'd', 'x-hub-signature-256': 'sha256=00' },
    });
    const afterWebhook = await send('GET', '/healthz', { agent });
    const approval = await send('POST', '/approvals/AbCdEfGhIjKlMnOpQrStUv', {
      agent,
      body: `decision=approve&reason=${'x'.repeat(16 * 1024)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const afterApproval = await send('GET', '/healthz', { agent });
    const aws = await send('POST', '/', {
      agent,
      body: Buffer.alloc(30 * 1024 * 1024, 0x20),
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
    });
    const afterAws = await send('POST', '/', {
      agent,
      body: '{}',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
    });
    const nested = await send('POST', '/', {
      agent,
      body: `{"maxResults":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
    });
    agent.destroy();

    // Assess
    expect([webhook.status, JSON.parse(webhook.body).error]).toEqual([413, 'body_too_large']);
    expect(afterWebhook.status).toBe(200);
    expect(afterWebhook.localPort).toBe(webhook.localPort);
    expect(approval.status).toBe(413);
    expect(afterApproval.localPort).toBe(approval.localPort);
    expect(aws.status).toBe(413);
    expect(afterAws.status).toBe(200);
    expect(afterAws.localPort).toBe(aws.localPort);
    expect([nested.status, JSON.parse(nested.body).__type]).toEqual([400, 'SerializationException']);
    expect(runtime.alive()).toBe(true);
  }, 60_000);
});
