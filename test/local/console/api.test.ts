import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleRoutes, engineConsoleSource, mountConsole } from '../../../local/console';
import { Engine, type StateMachineDefinition } from '../../../local/engine';
import { type ConsoleServer, ConsoleWorld, STATE_MACHINE_ARN, serveConsole } from './support';

/**
 * The console's HTTP side on 127.0.0.1, with a real local Engine running real executions behind the engine
 * adapter: the page and its bundle, the JSON API, the actions and their guards, the live stream.
 */

let server: ConsoleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers loosely and assert on their shape
async function get(path: string): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const res = await fetch(`${server?.url}${path}`);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: res.headers, text };
}

async function post(path: string, body: unknown = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${server?.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-stepline-console': '1', ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers loosely and assert on their shape
  return { status: res.status, body: (await res.json()) as any };
}

const arnOf = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${name}`;
const path = (name: string, rest = '') => `/api/console/executions/${encodeURIComponent(arnOf(name))}${rest}`;

const GATE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** An engine with a machine that waits at a gate (a task token nobody answers) and one with many Map items. */
function gatedEngine() {
  const engine = new Engine({ clock: 'virtual' });
  engine.registerHandler(GATE, () => ({}));
  const gate = {
    QueryLanguage: 'JSONata',
    StartAt: 'Gate',
    States: { Gate: { Type: 'Task', Resource: GATE, Arguments: {}, End: true } },
  } as StateMachineDefinition;
  const many = {
    QueryLanguage: 'JSONata',
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        Items: '{% [1..$states.input.n] %}',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Step',
          States: { Step: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  } as StateMachineDefinition;
  const source = engineConsoleSource(engine, {
    definitions: {
      'arn:aws:states:us-east-1:123456789012:stateMachine:gate': gate,
      'arn:aws:states:us-east-1:123456789012:stateMachine:many': many,
    },
  });
  return { engine, gate, many, source };
}

describe('the page and its bundle', () => {
  it('serves the app at / and at every execution path, with a CSP and the API base in a meta tag', async () => {
    // Prepare
    server = await serveConsole(new ConsoleWorld().source);

    // Act
    const root = await get('/');
    const deep = await get(`/executions/${arnOf('x')}`);
    const js = await get('/ui/app.js');
    const css = await get('/ui/app.css');

    // Assess
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(root.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(root.text).toContain('<meta name="stepline-api" content="/api/console">');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(root.text);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.text.length).toBeGreaterThan(10_000);
    expect(css.text).toContain('.grid-row');
  });

  it('leaves to the server every path that is not the console', async () => {
    // Prepare
    server = await serveConsole(new ConsoleWorld().source);

    // Act
    const metrics = await get('/metrics');
    const webhook = await fetch(`${server.url}/webhooks/github`, { method: 'POST', body: '{}' });
    const missing = await get('/ui/nothing.js');

    // Assess
    expect(metrics.body).toEqual({ error: 'not_found' });
    expect(webhook.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('nothing.js');
  });
});

describe('executions', () => {
  it('lists newest first with what each run builds, filters by status and repository, and pages', async () => {
    // Prepare
    const world = new ConsoleWorld({ failingSuites: ['e2e'] });
    await world.start('run-1', { repository: 'acme/shop', branch: 'main' }).done;
    await new Promise((r) => setTimeout(r, 5));
    await world.start('run-2', { repository: 'acme/cart', branch: 'feature/pay', pullRequest: 7 }).done;
    await new Promise((r) => setTimeout(r, 5));
    await world.start('run-3', { repository: 'acme/shop', sha: 'f'.repeat(40) }).done;
    server = await serveConsole(world.source);

    // Act
    const all = await get('/api/console/executions');
    const shop = await get('/api/console/executions?repository=acme%2Fshop');
    const failed = await get('/api/console/executions?status=FAILED');
    const first = await get('/api/console/executions?limit=2');
    const second = await get(`/api/console/executions?limit=2&next=${first.body.next}`);

    // Assess
    expect(all.body.executions.map((e: { name: string }) => e.name)).toEqual(['run-3', 'run-2', 'run-1']);
    expect(all.body.repositories).toEqual(['acme/cart', 'acme/shop']);
    expect(all.body.executions[1]).toMatchObject({
      repository: 'acme/cart',
      refKind: 'pull_request',
      ref: 'feature/pay',
      pullRequest: { number: 7, title: 'Faster checkout' },
      status: 'FAILED',
      stateMachineArn: STATE_MACHINE_ARN,
    });
    expect(all.body.executions[0].commit).toBe('f'.repeat(40));
    expect(shop.body.executions.map((e: { name: string }) => e.name)).toEqual(['run-3', 'run-1']);
    expect(failed.body.executions).toHaveLength(3);
    expect(first.body.executions.map((e: { name: string }) => e.name)).toEqual(['run-3', 'run-2']);
    expect(second.body.executions.map((e: { name: string }) => e.name)).toEqual(['run-1']);
    expect(second.body.next).toBeNull();
  });

  it.each([
    ['status=DONE', 'status must be one of'],
    ['limit=0', 'limit must be a whole number from 1 to 1000'],
    ['limit=abc', 'limit must be a whole number'],
    ['next=not-a-token', 'next is not a token this console gave'],
  ])('refuses ?%s with 400 and says why', async (query, message) => {
    // Prepare
    server = await serveConsole(new ConsoleWorld().source);

    // Act
    const res = await get(`/api/console/executions?${query}`);

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(message);
  });

  it('describes one execution with its input, error and redrive status, and answers 404 for an unknown one', async () => {
    // Prepare
    const world = new ConsoleWorld({ failBuild: { phase: 'BUILD', exitCode: 2 } });
    await world.start('broken').done;
    server = await serveConsole(world.source);

    // Act
    const found = await get(path('broken'));
    const missing = await get(path('nope'));

    // Assess
    expect(found.body.execution).toMatchObject({
      name: 'broken',
      status: 'FAILED',
      error: 'Stepline.BuildFailed',
      redriveStatus: 'REDRIVABLE',
      repository: 'acme/shop',
    });
    expect(JSON.parse(found.body.execution.input).route.repository).toBe('acme/shop');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('nope');
  });

  it('serves the definition, the builds of the run with their phases, and a phase log', async () => {
    // Prepare
    const world = new ConsoleWorld();
    await world.start('built').done;
    server = await serveConsole(world.source);

    // Act
    const definition = await get(path('built', '/definition'));
    const builds = await get(path('built', '/builds'));
    const id = builds.body.builds[0].id;
    const log = await get(`/api/console/builds/${encodeURIComponent(id)}/log?phase=BUILD`);

    // Assess
    expect(definition.body.definition.States.Promote.Type).toBe('Map');
    expect(builds.body.builds.map((b: { step: string; suite: string | null }) => [b.step, b.suite])).toEqual([
      ['Build', null],
      ['RunSuite', 'unit'],
      ['RunSuite', 'e2e'],
    ]);
    expect(log.body.log.text).toContain('Entering phase BUILD');
    expect(log.body.log.text).not.toContain('Entering phase INSTALL');
  });

  it('reads what a run deployed to each environment from its history', async () => {
    // Prepare
    const world = new ConsoleWorld();
    await world.start('deployed').done;
    server = await serveConsole(world.source);

    // Act
    const res = await get(path('deployed', '/deployments'));

    // Assess
    expect(
      res.body.deployments.map((d: { environment: string; status: string; url: string }) => [
        d.environment,
        d.status,
        d.url,
      ]),
    ).toEqual([
      ['staging', 'deployed', 'https://staging.shop.example.com'],
      ['production', 'deployed', 'https://shop.example.com'],
    ]);
    expect(res.body.deployments[0].objects.length).toBeGreaterThan(0);
    expect(res.body.deployments[0].objects[0].link).toMatch(/^https:\/\/127\.0\.0\.1:6443\/apis\//);
  });
});

describe('history', () => {
  it('pages through an execution of more than 5,000 events in order, with no gap and no repeat', async () => {
    // Prepare
    const { engine, many, source } = gatedEngine();
    const started = engine.start(
      many,
      { n: 1300 },
      { name: 'big', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:many' },
    );
    const result = await started.done;
    server = await serveConsole(source);
    const base = `/api/console/executions/${encodeURIComponent(started.executionArn)}/history`;

    // Act
    const ids: number[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const page = await get(`${base}?after=${after}&limit=1000`);
      pages++;
      ids.push(...page.body.events.map((e: { id: number }) => e.id));
      if (!page.body.more) break;
      after = ids[ids.length - 1] as number;
    }

    // Assess
    expect(result.history.length).toBeGreaterThan(5000);
    expect(ids).toEqual(result.history.map((e) => e.id));
    expect(pages).toBe(Math.ceil(result.history.length / 1000));
  });

  it('returns the events after a given id only, with the status at the time', async () => {
    // Prepare
    const { engine, gate, source } = gatedEngine();
    const started = engine.start(
      gate,
      {},
      { name: 'waiting', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:gate' },
    );
    await new Promise((r) => setTimeout(r, 10));
    server = await serveConsole(source);

    // Act
    const res = await get(`/api/console/executions/${encodeURIComponent(started.executionArn)}/history?after=2`);

    // Assess
    expect(res.body.status).toBe('RUNNING');
    expect(res.body.events[0].id).toBe(3);
    expect(typeof res.body.events[0].timestamp).toBe('string');
    expect(res.body.more).toBe(false);
  });
});

describe('actions', () => {
  it('stops a running execution, then answers 409 to a second stop', async () => {
    // Prepare
    const { engine, gate, source } = gatedEngine();
    const started = engine.start(
      gate,
      {},
      { name: 'to-stop', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:gate' },
    );
    server = await serveConsole(source);
    const base = `/api/console/executions/${encodeURIComponent(started.executionArn)}`;

    // Act
    const stopped = await post(`${base}/stop`, { cause: 'wrong commit' });
    const again = await post(`${base}/stop`);
    const result = await started.done;

    // Assess
    expect(stopped.status).toBe(200);
    expect(stopped.body.execution.status).toBe('ABORTED');
    expect(result.status).toBe('ABORTED');
    expect(result.cause).toBe('wrong commit');
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('ABORTED');
  });

  it.each([
    ['without the console header', { 'x-stepline-console': '' }, 403, 'x-stepline-console'],
    ['as a form post', { 'content-type': 'text/plain' }, 415, 'application/json'],
    ['from another site', { origin: 'https://evil.example' }, 403, 'https://evil.example'],
  ])('refuses an action sent %s', async (_what, headers, status, message) => {
    // Prepare
    const { engine, gate, source } = gatedEngine();
    const started = engine.start(
      gate,
      {},
      { name: 'guarded', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:gate' },
    );
    server = await serveConsole(source);

    // Act
    const res = await post(`/api/console/executions/${encodeURIComponent(started.executionArn)}/stop`, {}, headers);

    // Assess
    expect(res.status).toBe(status);
    expect(res.body.message).toContain(message);
    expect(engine.describe(started.executionArn).status).toBe('RUNNING');
    engine.stop(started.executionArn);
  });

  it('redrives a failed run from where it failed, and refuses to redrive a succeeded one', async () => {
    // Prepare
    const world = new ConsoleWorld({ failingSuites: ['e2e'] });
    await world.start('flaky').done;
    await world.start('fine', { suites: ['unit'] }).done;
    server = await serveConsole(world.source);

    // Act
    const redriven = await post(path('flaky', '/redrive'));
    const refused = await post(path('fine', '/redrive'));

    // Assess
    expect(redriven.status).toBe(200);
    expect(redriven.body.execution.redriveCount).toBe(1);
    expect(refused.status).toBe(409);
  });

  it('approves a waiting gate, after which the run deploys, and refuses a second decision', async () => {
    // Prepare
    const world = new ConsoleWorld();
    const run = world.start('gated', { approval: true }, 'real');
    server = await serveConsole(world.source);
    // biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers loosely and assert on their shape
    let waiting: any[] = [];
    for (let i = 0; i < 100 && waiting.length === 0; i++) {
      waiting = (await get('/api/console/approvals?status=waiting')).body.approvals;
      if (waiting.length === 0) await new Promise((r) => setTimeout(r, 50));
    }

    // Act
    const decided = await post(`/api/console/approvals/${waiting[0].id}/approve`, { by: 'alice' });
    const again = await post(`/api/console/approvals/${waiting[0].id}/reject`);
    const result = await run.done;

    // Assess
    expect(waiting[0]).toMatchObject({ environment: 'production', status: 'waiting', approvers: ['alice'] });
    expect(waiting[0]).not.toHaveProperty('token');
    expect(decided.body.approval).toMatchObject({ status: 'approved', decidedBy: 'alice' });
    expect(again.status).toBe(409);
    expect(result.status).toBe('SUCCEEDED');
  });
});

describe('live changes', () => {
  it('streams the changes of a new run as Server-Sent Events, batched', async () => {
    // Prepare
    const world = new ConsoleWorld();
    server = await serveConsole(world.source);
    const received: { kind: string; executionArn?: string; status?: string }[] = [];
    const req = httpRequest(`${server.url}/api/console/events`);
    const done = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (const block of buffer.split('\n\n').slice(0, -1)) {
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (block.startsWith('event: changes') && data) received.push(...JSON.parse(data.slice(6)));
          }
          buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2);
          if (received.some((c) => c.kind === 'execution' && c.status === 'SUCCEEDED')) resolve();
        });
      });
    });
    req.end();
    await new Promise((r) => setTimeout(r, 50));

    // Act
    await world.start('watched').done;
    await done;
    req.destroy();

    // Assess
    const arn = arnOf('watched');
    expect(received.some((c) => c.kind === 'history' && c.executionArn === arn)).toBe(true);
    expect(received.filter((c) => c.kind === 'history' && c.executionArn === arn).length).toBeLessThan(10);
    expect(received.find((c) => c.kind === 'execution' && c.status === 'SUCCEEDED')?.executionArn).toBe(arn);
  });
});

describe('mountConsole', () => {
  /** A first-match router with `prepend`, as the local server's is. */
  class TinyRouter {
    private readonly routes: {
      method: string;
      regex: RegExp;
      handler: (ctx: { req: IncomingMessage; res: ServerResponse }) => void;
    }[] = [];
    public add(
      method: string,
      pattern: string,
      handler: (ctx: { req: IncomingMessage; res: ServerResponse }) => void,
    ): void {
      this.routes.push({ method, regex: TinyRouter.compile(pattern), handler });
    }
    public prepend(
      method: string,
      pattern: string,
      handler: (ctx: { req: IncomingMessage; res: ServerResponse }) => void,
    ): void {
      this.routes.unshift({ method, regex: TinyRouter.compile(pattern), handler });
    }
    public handle(req: IncomingMessage, res: ServerResponse): void {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const route = this.routes.find((r) => r.regex.test(path) && (r.method === '*' || r.method === req.method));
      if (route) route.handler({ req, res });
      else res.writeHead(404).end('router: not found');
    }
    private static compile(pattern: string): RegExp {
      return new RegExp(`^${pattern.replace('*rest', '.*')}$`);
    }
  }

  it('puts the page, the bundle and the API ahead of the server routes, and leaves POST / and the rest to them', async () => {
    // Prepare
    const router = new TinyRouter();
    router.add('POST', '/', ({ res }) => res.writeHead(200).end('aws api'));
    router.add('GET', '/', ({ res }) => res.writeHead(200).end('plain index'));
    router.add('GET', '/metrics', ({ res }) => res.writeHead(200).end('metrics'));
    const handler = createConsoleRoutes(new ConsoleWorld().source);
    mountConsole(router, handler);
    const http = createServer((req, res) => router.handle(req, res));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    // Act
    const page = await fetch(`${base}/`).then((r) => r.text());
    const deep = await fetch(`${base}/executions/arn:aws:states:eu-west-1:1:execution:m:n`).then((r) => r.text());
    const api = await fetch(`${base}/api/console/executions`).then((r) => r.json());
    const aws = await fetch(`${base}/`, { method: 'POST', body: '{}' }).then((r) => r.text());
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    handler.close();
    http.close();

    // Assess
    expect(page).toContain('stepline-api');
    expect(deep).toContain('stepline-api');
    expect(api).toMatchObject({ executions: [], next: null });
    expect(aws).toBe('aws api');
    expect(metrics).toBe('metrics');
  });
});
