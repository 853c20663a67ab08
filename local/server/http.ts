import type { IncomingMessage, ServerResponse } from 'node:http';
import { SteplineError } from '../../core/errors';

/**
 * The local server's routing: a route is a method and a path pattern (`/api/builds/:id`, `/githost/*rest`);
 * the first route that matches serves the request. Routes added with `prepend` (the console's) come before the
 * built-in ones, so `GET /` and `/ui/*` belong to whoever registers them.
 */

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly handler: RouteHandler;
}

/** An error with an HTTP status, answered as JSON `{ error, message }`. */
export class HttpError extends SteplineError {
  public constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

function compile(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const parts = pattern.split('/').map((segment) => {
    if (segment.startsWith(':')) {
      names.push(segment.slice(1));
      return '([^/]+)';
    }
    if (segment.startsWith('*')) {
      names.push(segment.slice(1) || 'rest');
      return '(.*)';
    }
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { regex: new RegExp(`^${parts.join('/')}/?$`), names };
}

export interface RouterOptions {
  /**
   * Told one line per request that failed: its method, the route's pattern (never the path itself, which can carry
   * an approval link), the status and the error's name or code. Never a body, a header or a message.
   */
  readonly log?: (line: string) => void;
  /** Checks every request before it is routed (guard.ts); throws an HttpError to refuse it. */
  readonly guard?: (req: IncomingMessage) => void;
}

/** A status and a code of an error that carries them (HttpError, the console's ConsoleActionError). */
function statusOf(error: unknown): { status: number; code: string } | null {
  if (error instanceof HttpError) return { status: error.status, code: error.code };
  const e = error as { status?: unknown; code?: unknown } | null;
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 600 && typeof e.code === 'string')
    return { status: e.status, code: e.code };
  return null;
}

/** A path parameter, %-decoded; a bad escape (`%ZZ`, `%E0%A4`) is the client's error. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'malformed_path', 'the path is not valid URL encoding');
  }
}

export class Router {
  private readonly routes: Route[] = [];

  public constructor(private readonly options: RouterOptions = {}) {}

  /** Adds a route after the existing ones. `method` `*` matches any method. */
  public add(method: string, pattern: string, handler: RouteHandler): this {
    const { regex, names } = compile(pattern);
    this.routes.push({ method: method.toUpperCase(), pattern, regex, names, handler });
    return this;
  }

  /** Adds a route before every existing one (the console's routes take precedence). */
  public prepend(method: string, pattern: string, handler: RouteHandler): this {
    const { regex, names } = compile(pattern);
    this.routes.unshift({ method: method.toUpperCase(), pattern, regex, names, handler });
    return this;
  }

  /** The route patterns, for the runtime's description of itself. */
  public list(): { method: string; pattern: string }[] {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  /**
   * Serves one request. It never rejects: whatever a handler throws or rejects with becomes an answer (its
   * HttpError's status, else 500) and a log line, or, once the answer has begun, the end of the connection. One
   * request's failure never reaches the process (docs/adr/0087).
   */
  public async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let pattern = '(unrouted)';
    try {
      this.options.guard?.(req);
      const url = new URL(req.url ?? '/', 'http://local');
      let pathMatched = false;
      for (const route of this.routes) {
        const match = route.regex.exec(url.pathname);
        if (!match) continue;
        pathMatched = true;
        if (route.method !== '*' && route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
        pattern = route.pattern;
        const params: Record<string, string> = {};
        route.names.forEach((name, i) => {
          params[name] = decodeParam(match[i + 1] ?? '');
        });
        await route.handler({ req, res, url, params });
        return;
      }
      if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);
      throw new HttpError(404, 'not_found', `nothing is served at ${url.pathname}`);
    } catch (error) {
      this.fail(res, method, pattern, error);
    }
  }

  private fail(res: ServerResponse, method: string, pattern: string, error: unknown): void {
    const known = statusOf(error);
    const status = known?.status ?? 500;
    if (status >= 500 || (known && known.code !== 'not_found' && known.code !== 'method_not_allowed')) {
      const what = known ? known.code : ((error as Error | null)?.name ?? typeof error);
      try {
        this.options.log?.(`request failed: ${method} ${pattern}: ${status} ${what}`);
      } catch {
        // A log that fails does not fail the answer.
      }
    }
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (known) sendJson(res, known.status, { error: known.code, message: (error as Error).message });
      else sendJson(res, 500, { error: 'internal', message: 'internal error' });
    } catch {
      res.destroy();
    }
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Reads a request body up to `limit` bytes. Past the limit it keeps the first `limit + 1` bytes, answers them with
 * `truncated: true` at once, and lets the rest of the body be read and dropped: the caller refuses the request
 * (413) without holding the rest in memory, and the connection stays usable for the next request (the socket is
 * never destroyed here).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.on('error', () => {});
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        done();
        req.resume();
        resolve({ body: Buffer.concat(chunks).subarray(0, limit + 1), truncated: true });
      }
    };
    const onEnd = (): void => {
      done();
      resolve({ body: Buffer.concat(chunks), truncated: false });
    };
    const onError = (): void => {
      done();
      reject(new HttpError(400, 'aborted', 'the request ended before its body'));
    };
    if (req.readableEnded) {
      resolve({ body: Buffer.alloc(0), truncated: false });
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Whether a parsed JSON value nests deeper than `max` arrays and objects (checked without recursion). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop() as { value: unknown; depth: number };
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/** The deepest nesting a JSON body of the local server may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads a JSON body (at most `limit` bytes) of a request that changes something: it must say
 * `content-type: application/json` (415 otherwise: a form or a `text/plain` body is what another site's page can
 * send without asking), be at most `limit` bytes (413) and be JSON nested at most 64 deep (400).
 */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  const { body, truncated } = await readBody(req, limit);
  if (truncated) throw new HttpError(413, 'body_too_large', `the body is larger than ${limit} bytes`);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'malformed_body', 'the body is not JSON');
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH))
    throw new HttpError(400, 'malformed_body', `the body nests deeper than ${MAX_JSON_DEPTH}`);
  return value;
}

/** Headers as API Gateway gives them to a function: lower-case names, repeated ones joined with commas. */
export function gatewayHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}
