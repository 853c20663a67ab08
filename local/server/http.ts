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

export class Router {
  private readonly routes: Route[] = [];

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

  public async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.regex.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== '*' && route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1] ?? '');
      });
      try {
        await route.handler({ req, res, url, params });
      } catch (error) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (error instanceof HttpError) sendJson(res, error.status, { error: error.code, message: error.message });
        else sendJson(res, 500, { error: 'internal', message: 'internal error' });
      }
      return;
    }
    if (pathMatched)
      sendJson(res, 405, { error: 'method_not_allowed', message: `${method} is not allowed on ${url.pathname}` });
    else sendJson(res, 404, { error: 'not_found', message: `nothing is served at ${url.pathname}` });
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
 * Reads a request body up to `limit` bytes. Past the limit it stops reading and answers the first `limit + 1`
 * bytes with `truncated: true`, so the caller can refuse it without holding the rest in memory.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > limit) {
      req.resume();
      return { body: Buffer.concat(chunks).subarray(0, limit + 1), truncated: true };
    }
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

/** Reads a JSON body (at most `limit` bytes); throws HttpError 400/413 with what is wrong. */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const { body, truncated } = await readBody(req, limit);
  if (truncated) throw new HttpError(413, 'body_too_large', `the body is larger than ${limit} bytes`);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'malformed_body', 'the body is not JSON');
  }
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
