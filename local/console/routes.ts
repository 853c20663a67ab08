import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody as readRequestBody } from '../server/http';
import { type ConsoleBundle, consoleBundle } from './bundle';
import { ConsoleActionError, HttpError } from './errors';
import {
  type ConsoleChange,
  type ConsoleDataSource,
  EXECUTION_STATUSES,
  type ExecutionStatus,
  type ExecutionSummary,
} from './source';

/**
 * The console's HTTP side: the page (`GET /`, `GET /executions/<arn>`, `GET /insight`), its bundle (`GET /ui/*`), the JSON API under
 * `apiBase` (default `/api/console`) and the live changes as Server-Sent Events (`<apiBase>/events`).
 *
 * | route | answer |
 * | --- | --- |
 * | `GET <api>` | which sections the source has (builds, statuses, approvals, deployments) |
 * | `GET <api>/executions?status=&repository=&limit=&next=` | `{ executions, next, repositories }` |
 * | `GET <api>/executions/<arn>` | `{ execution }` |
 * | `GET <api>/executions/<arn>/history?after=&limit=` | `{ events, status, more }` |
 * | `GET <api>/executions/<arn>/definition` | `{ definition }` |
 * | `GET <api>/executions/<arn>/builds` · `/statuses` · `/deployments` · `/approvals` | `{ builds }` · ... |
 * | `GET <api>/builds/<id>/log?phase=` | `{ log }` |
 * | `GET <api>/approvals?status=waiting` | `{ approvals }` |
 * | `POST <api>/executions/<arn>/stop` `{ error?, cause? }` · `/redrive` | `{ execution }` |
 * | `POST <api>/approvals/<id>/approve` · `/reject` `{ by?, reason? }` | `{ approval }` (`by`: the name the header showed) |
 * | `GET <api>/identity` · `POST <api>/identity` `{ login }` | `{ login }`: whom the console decides as |
 * | `GET <api>/events` | `text/event-stream`: `event: changes`, `data: [ConsoleChange, ...]` |
 *
 * POSTs must send `content-type: application/json` and `x-stepline-console` (a page of another site cannot make the
 * browser send those without a CORS preflight, which this server never grants), must not come from another origin
 * (`Origin`, `Sec-Fetch-Site`), and, for a console that decides as a person (the runtime's, whose source has an
 * `identity`), must carry the token of the page: its `stepline-token` meta and its SameSite=Strict cookie, which a
 * page of another site can neither read nor make the browser send. The approver is the source's identity; a `by`
 * that names someone else is refused (docs/adr/0087).
 */

export interface ConsoleRouteOptions {
  /** Where the JSON API lives. Default `/api/console`. */
  readonly apiBase?: string;
  /** The page's title. Default `Stepline`. */
  readonly title?: string;
  /** How long changes are gathered before they are sent, in ms (default 150). */
  readonly coalesceMs?: number;
  /** Keep-alive comment period of the event stream, in ms (default 15,000). */
  readonly keepAliveMs?: number;
  /**
   * Whether actions need the page's token. Default: when the source decides as a person (`source.identity`), as the
   * runtime's does; a console over a bare engine (tests, embedding) takes the header alone.
   */
  readonly requireToken?: boolean;
}

export type ConsoleHandler = ((req: IncomingMessage, res: ServerResponse) => boolean) & {
  /** Resolves once the bundle is built (it is built when the console is created). */
  readonly ready: Promise<ConsoleBundle>;
  /** Ends the open event streams (before the server closes). */
  close(): void;
};

const MAX_BODY = 16 * 1024;
/** The cookie that carries the page's token (HttpOnly, SameSite=Strict, on the API's path). */
const TOKEN_COOKIE = 'stepline-console';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function send(res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', { 'cache-control': 'no-store' });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, apiBase: string, version: string, token: string | null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="stepline-api" content="${escapeHtml(apiBase)}">${token ? `\n<meta name="stepline-token" content="${escapeHtml(token)}">` : ''}
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/ui/app.css?v=${version}">
<script type="module" src="/ui/app.js?v=${version}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript>The Stepline console needs JavaScript. The same data is at ${escapeHtml(apiBase)}/executions.</noscript>
</body>
</html>
`;
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const { body, truncated } = await readRequestBody(req, MAX_BODY);
  if (truncated) throw new HttpError(413, 'body_too_large', `the body is larger than ${MAX_BODY} bytes`);
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed_body', 'the body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'malformed_body', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function optionalText(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'invalid_body', `${name} must be a string`);
  if (value.length > max) throw new HttpError(400, 'invalid_body', `${name} must be at most ${max} characters`);
  return value;
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function sameSecret(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/** An action's request: JSON, the console's header, this origin, and the page's token where one is required. */
function checkAction(req: IncomingMessage, token: string | null): void {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'send the action as application/json');
  }
  const header = req.headers['x-stepline-console'];
  if (typeof header !== 'string' || header === '') {
    throw new HttpError(403, 'missing_header', 'console actions must send the header x-stepline-console');
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'cross_origin', `actions are accepted from this console only, not from a ${site} page`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !(origin === 'null' && site === 'same-origin')) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host === null || host !== req.headers.host) {
      throw new HttpError(403, 'cross_origin', `actions are accepted from this console only, not from ${origin}`);
    }
  }
  if (token && !sameSecret(header, token) && !sameSecret(cookie(req, TOKEN_COOKIE), token)) {
    throw new HttpError(
      403,
      'missing_token',
      "the action does not carry this console's token: reload the page (the runtime may have restarted since)",
    );
  }
}

/** A change's key: later changes of the same key replace earlier ones within one batch. */
function changeKey(change: ConsoleChange): string {
  switch (change.kind) {
    case 'execution':
    case 'history':
      return `${change.kind}|${change.executionArn}`;
    case 'build':
      return `build|${change.buildId}`;
    case 'approval':
      return `approval|${change.approvalId}`;
    case 'status':
      return `status|${change.executionArn ?? ''}`;
  }
}

/**
 * The console's request handler. Mount it ahead of the other routes: it answers `true` for what it served and
 * `false` for everything else, which the caller then serves.
 */
// size-exception(function): the console's handler: one closure over its source, bundle and streams, its routes inner
// functions; left to the console's owners (issue 13)
export function createConsoleRoutes(source: ConsoleDataSource, options: ConsoleRouteOptions = {}): ConsoleHandler {
  const apiBase = (options.apiBase ?? '/api/console').replace(/\/+$/, '');
  const title = options.title ?? 'Stepline';
  const coalesceMs = options.coalesceMs ?? 150;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const ready = consoleBundle();
  ready.catch(() => {});
  const token =
    (options.requireToken ?? typeof source.identity === 'function') ? randomBytes(24).toString('base64url') : null;
  const streams = new Set<ServerResponse>();

  const sections = {
    builds: typeof source.listBuilds === 'function',
    logs: typeof source.getBuildLog === 'function',
    statuses: typeof source.listStatuses === 'function',
    approvals: typeof source.listApprovals === 'function',
    decisions: typeof source.decideApproval === 'function',
    deployments: typeof source.listDeployments === 'function',
  };

  async function execution(arn: string): Promise<NonNullable<Awaited<ReturnType<typeof source.describeExecution>>>> {
    const found = await source.describeExecution(arn);
    if (!found) throw new HttpError(404, 'not_found', `no execution ${arn}`);
    return found;
  }

  async function serveAsset(res: ServerResponse, name: string): Promise<void> {
    let bundle: ConsoleBundle;
    try {
      bundle = await ready;
    } catch (error) {
      send(res, 500, `/* ${(error as Error).message.replace(/\*\//g, '* /')} */`, 'text/plain; charset=utf-8');
      return;
    }
    const immutable = { 'cache-control': 'public, max-age=31536000, immutable' };
    if (name === 'app.js') send(res, 200, bundle.js, 'text/javascript; charset=utf-8', immutable);
    else if (name === 'app.css') send(res, 200, bundle.css, 'text/css; charset=utf-8', immutable);
    else json(res, 404, { error: 'not_found', message: `no console asset ${name}` });
  }

  async function servePage(res: ServerResponse): Promise<void> {
    let version = 'dev';
    try {
      const bundle = await ready;
      version = String(bundle.size.js + bundle.size.css);
    } catch {
      // The asset request will say what failed.
    }
    send(res, 200, page(title, apiBase, version, token), 'text/html; charset=utf-8', {
      'cache-control': 'no-store',
      ...(token ? { 'set-cookie': `${TOKEN_COOKIE}=${token}; Path=${apiBase}; HttpOnly; SameSite=Strict` } : {}),
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    });
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...SECURITY_HEADERS,
    });
    res.write('retry: 2000\n: stepline console\n\n');
    streams.add(res);
    let pending = new Map<string, ConsoleChange>();
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      if (pending.size === 0) return;
      const batch = [...pending.values()];
      pending = new Map();
      res.write(`event: changes\ndata: ${JSON.stringify(batch)}\n\n`);
    };
    const off = source.subscribe((change) => {
      pending.set(changeKey(change), change);
      timer ??= setTimeout(flush, coalesceMs);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    keepAlive.unref();
    const close = (): void => {
      off();
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      streams.delete(res);
    };
    req.on('close', close);
    res.on('close', close);
  }

  // size-exception(function): every /api/console route in one dispatch over method and path; splitting it is left to
  // the console's owners (issue 13)
  async function api(req: IncomingMessage, res: ServerResponse, url: URL, rest: string[]): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const get = method === 'GET' || method === 'HEAD';
    const [first, id, sub, extra] = rest;
    if (extra !== undefined) throw new HttpError(404, 'not_found', `nothing is served at ${url.pathname}`);

    if (first === undefined && get) return json(res, 200, { apiBase, sections });
    if (first === 'identity' && id === undefined) {
      if (get) return json(res, 200, { login: source.identity?.() ?? null });
      if (method === 'POST') {
        checkAction(req, token);
        if (!source.setIdentity) throw new HttpError(404, 'not_found', 'this runtime has no identity to change');
        const login = optionalText(await readBody(req), 'login', 100);
        if (!login) throw new HttpError(400, 'invalid_body', 'give {"login": "…"}');
        return json(res, 200, { login: source.setIdentity(login) });
      }
    }
    if (first === 'events' && id === undefined && get) return stream(req, res);

    if (first === 'executions' && id === undefined && get) {
      const status = url.searchParams.get('status') || undefined;
      if (status && !EXECUTION_STATUSES.includes(status as ExecutionStatus)) {
        throw new HttpError(400, 'invalid_parameter', `status must be one of ${EXECUTION_STATUSES.join(', ')}`);
      }
      const repository = url.searchParams.get('repository') || undefined;
      const next = url.searchParams.get('next') || undefined;
      const page = await source.listExecutions({
        limit: intParam(url, 'limit', 50, 1, 1000),
        ...(status ? { status: status as ExecutionStatus } : {}),
        ...(repository ? { repository } : {}),
        ...(next ? { next } : {}),
      });
      return json(res, 200, page);
    }

    if (first === 'executions' && id !== undefined) {
      const arn = id;
      if (sub === undefined && get) return json(res, 200, { execution: await execution(arn) });
      if (sub === 'history' && get) {
        const page = await source.getHistory(arn, {
          after: intParam(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER),
          limit: intParam(url, 'limit', 1000, 1, 5000),
        });
        if (!page) throw new HttpError(404, 'not_found', `no execution ${arn}`);
        return json(res, 200, page);
      }
      if (sub === 'definition' && get) {
        await execution(arn);
        const definition = await source.getDefinition(arn);
        if (definition === undefined) throw new HttpError(404, 'not_found', `no definition for ${arn}`);
        return json(res, 200, { definition });
      }
      if (sub === 'builds' && get) return json(res, 200, { builds: (await source.listBuilds?.(arn)) ?? [] });
      if (sub === 'statuses' && get) return json(res, 200, { statuses: (await source.listStatuses?.(arn)) ?? [] });
      if (sub === 'deployments' && get)
        return json(res, 200, { deployments: (await source.listDeployments?.(arn)) ?? [] });
      if (sub === 'approvals' && get)
        return json(res, 200, { approvals: (await source.listApprovals?.({ executionArn: arn })) ?? [] });
      if (sub === 'stop' && method === 'POST') {
        checkAction(req, token);
        const body = await readBody(req);
        const error = optionalText(body, 'error', 256);
        const cause = optionalText(body, 'cause', 32_768);
        await source.stopExecution(arn, {
          error: error ?? 'Stepline.Stopped',
          cause: cause ?? 'Stopped from the local console',
        });
        return json(res, 200, { execution: await execution(arn) });
      }
      if (sub === 'redrive' && method === 'POST') {
        checkAction(req, token);
        await readBody(req);
        await source.redriveExecution(arn);
        return json(res, 200, { execution: await execution(arn) });
      }
    }

    if (first === 'builds' && id !== undefined && sub === 'log' && get) {
      if (!source.getBuildLog) throw new HttpError(404, 'not_found', 'this runtime keeps no build logs');
      const log = await source.getBuildLog(id, url.searchParams.get('phase') || null);
      if (!log) throw new HttpError(404, 'not_found', `no build ${id}`);
      return json(res, 200, { log });
    }

    if (first === 'approvals' && id === undefined && get) {
      const status = url.searchParams.get('status') || undefined;
      const executionArn = url.searchParams.get('execution') || undefined;
      const approvals =
        (await source.listApprovals?.({ ...(status ? { status } : {}), ...(executionArn ? { executionArn } : {}) })) ??
        [];
      return json(res, 200, { approvals });
    }

    if (first === 'approvals' && id !== undefined && (sub === 'approve' || sub === 'reject') && method === 'POST') {
      checkAction(req, token);
      if (!source.decideApproval) throw new HttpError(404, 'not_found', 'this runtime takes no approval decisions');
      const body = await readBody(req);
      const by = optionalText(body, 'by', 200)?.trim();
      const reason = optionalText(body, 'reason', 2000);
      // A console that decides as a person decides as that identity, never as a name the request gives.
      const identity = source.identity?.() ?? null;
      if (identity !== null && by && by !== identity) {
        throw new HttpError(
          409,
          'identity_changed',
          `this console decides as ${identity} now, not ${by}: the identity was changed elsewhere; check the header and decide again`,
        );
      }
      const approval = await source.decideApproval(id, {
        decision: sub,
        by: identity ?? (by || null),
        ...(reason ? { reason } : {}),
      });
      return json(res, 200, { approval });
    }

    const known = ['executions', 'builds', 'approvals', 'events', undefined].includes(first);
    throw new HttpError(
      known ? 405 : 404,
      known ? 'method_not_allowed' : 'not_found',
      `${method} ${url.pathname} is not served`,
    );
  }

  const handler = ((req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://console.local');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const get = method === 'GET' || method === 'HEAD';
    let work: Promise<void> | undefined;
    const page = path === '/' || path === '/executions' || path.startsWith('/executions/') || path === '/insight';
    if (get && page) work = servePage(res);
    else if (path.startsWith('/ui/')) {
      work = get
        ? serveAsset(res, path.slice(4))
        : Promise.reject(new HttpError(405, 'method_not_allowed', 'GET only'));
    } else if (path === apiBase || path.startsWith(`${apiBase}/`)) {
      let rest: string[];
      try {
        rest = path
          .slice(apiBase.length)
          .split('/')
          .filter((s) => s !== '')
          .map((s) => decodeURIComponent(s));
        work = api(req, res, url, rest);
      } catch {
        work = Promise.reject(new HttpError(400, 'malformed_path', 'the path is not valid URL encoding'));
      }
    } else return false;
    work.catch((error: unknown) => {
      try {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (error instanceof HttpError) json(res, error.status, { error: error.code, message: error.message });
        else if (error instanceof ConsoleActionError)
          json(res, error.status, { error: error.code, message: error.message });
        else json(res, 500, { error: 'internal', message: 'the console failed to answer: see the runtime log' });
      } catch {
        res.destroy();
      }
    });
    return true;
  }) as ConsoleHandler;
  Object.defineProperty(handler, 'ready', { value: ready });
  Object.defineProperty(handler, 'close', {
    value: () => {
      for (const res of streams) res.end();
      streams.clear();
    },
  });
  return handler;
}

/** Re-exported for sources that build summaries themselves. */
export type { ExecutionSummary };

/** The routes the console answers, for a router that matches by method and pattern (`*rest`: the rest of the path). */
export const CONSOLE_ROUTES: readonly { readonly method: 'GET' | '*'; readonly pattern: string }[] = [
  { method: 'GET', pattern: '/' },
  { method: 'GET', pattern: '/executions' },
  { method: 'GET', pattern: '/executions/*rest' },
  { method: 'GET', pattern: '/insight' },
  { method: 'GET', pattern: '/ui/*rest' },
  { method: '*', pattern: '/api/console' },
  { method: '*', pattern: '/api/console/*rest' },
];

/** A router that can put routes ahead of its own (the local server's `Router` is one). */
export interface PrependingRouter {
  prepend(
    method: string,
    pattern: string,
    handler: (ctx: { req: IncomingMessage; res: ServerResponse }) => void | Promise<void>,
  ): unknown;
}

/**
 * Puts the console's routes ahead of the router's own: `GET /` and `GET /executions/*` (the page), `GET /ui/*`
 * (its bundle) and `/api/console/*` (its API and event stream). POST `/` stays the router's (the AWS APIs).
 * Only for the default `apiBase`.
 */
export function mountConsole(router: PrependingRouter, handler: ConsoleHandler): void {
  const serve = ({ req, res }: { req: IncomingMessage; res: ServerResponse }): void => {
    if (!handler(req, res)) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'not_found', message: `nothing is served at ${req.url}` }));
    }
  };
  for (const route of [...CONSOLE_ROUTES].reverse()) router.prepend(route.method, route.pattern, serve);
}
