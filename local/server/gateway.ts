import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LambdaService } from '../services/lambda';
import { gatewayHeaders, HttpError, type RouteContext, readBody } from './http';

/**
 * API Gateway HTTP API (payload format 2.0) in front of an in-process function: the request becomes the event
 * API Gateway would send (body as the exact bytes received, base64), the function's result becomes the response,
 * and a function error is API Gateway's `500 {"message":"Internal Server Error"}`.
 */

export interface GatewayRoute {
  /** `POST /webhooks/{provider}`, as the HTTP API's route key. */
  readonly routeKey: string;
  readonly functionName: string;
  /** Largest body read; longer bodies are passed truncated to limit + 1 bytes (the function refuses them). */
  readonly maxBodyBytes: number;
  /**
   * A body longer than `maxBodyBytes`: `pass` it truncated to the function, which refuses it in its own words (the
   * webhook's 413 `body_too_large`), or `refuse` it here with 413, as API Gateway refuses a payload over its limit.
   * Default `pass`.
   */
  readonly oversize?: 'pass' | 'refuse';
}

export function gatewayEvent(
  ctx: RouteContext,
  route: GatewayRoute,
  body: Buffer,
  sourceIp: string = ctx.req.socket?.remoteAddress ?? '127.0.0.1',
): APIGatewayProxyEventV2 {
  const { req, url, params } = ctx;
  const headers = gatewayHeaders(req);
  const now = Date.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers['host'] ?? '127.0.0.1',
      domainPrefix: (headers['host'] ?? '127').split('.')[0] ?? 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: body.length > 0,
    ...(Object.keys(params).length ? { pathParameters: { ...params } } : {}),
    ...(url.searchParams.size ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    ...(body.length ? { body: body.toString('base64') } : {}),
  };
  if (headers['cookie']) event.cookies = headers['cookie'].split(';').map((c) => c.trim());
  return event;
}

export function writeGatewayResult(
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2 | string | unknown,
): void {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
    return;
  }
  const r = result as APIGatewayProxyStructuredResultV2;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(r.statusCode ?? 200, headers);
  res.end(body);
}

/** A route handler that serves requests through a function registered with the in-process Lambda service. */
export function gatewayHandler(lambda: LambdaService, route: GatewayRoute): (ctx: RouteContext) => Promise<void> {
  return async function serveThroughGateway(ctx) {
    // Read before the body: a connection can be gone by the time the body is.
    const sourceIp = ctx.req.socket?.remoteAddress ?? '127.0.0.1';
    const { body, truncated } = await readBody(ctx.req, route.maxBodyBytes);
    if (truncated && route.oversize === 'refuse') {
      throw new HttpError(413, 'body_too_large', `the body is larger than ${route.maxBodyBytes} bytes`);
    }
    const outcome = await lambda.invoke(route.functionName, gatewayEvent(ctx, route, body, sourceIp));
    if (!outcome.ok) {
      const text = JSON.stringify({ message: 'Internal Server Error' });
      ctx.res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      ctx.res.end(text);
      return;
    }
    writeGatewayResult(ctx.res, outcome.payload);
  };
}
