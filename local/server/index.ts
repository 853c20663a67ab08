import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GitHostSink, SINK_BODY_LIMIT, sinkRequest } from '../services/githost';
import type { LambdaService } from '../services/lambda';
import { type ApiDependencies, registerApi } from './api';
import { type AwsApiAnswer, type AwsApiDependencies, awsApiAnswer, isAwsRequest, MAX_AWS_REQUEST_BYTES } from './aws';
import { gatewayHandler } from './gateway';
import { requestGuard } from './guard';
import {
  HttpError,
  nestedDeeperThan,
  type RouteContext,
  type RouteHandler,
  Router,
  readBody,
  sendJson,
  sendText,
} from './http';
import type { MetricsRegistry } from './metrics';
import { type AwsKeyPair, SignatureError, verifySignature } from './sigv4';

export { type ApiDependencies, buildSummary, eventJson, executionSummary } from './api';
export {
  type AwsAnswer,
  type AwsApiAnswer,
  type AwsApiDependencies,
  awsApiAnswer,
  MAX_AWS_REQUEST_BYTES,
} from './aws';
export { gatewayEvent } from './gateway';
export { allowedHosts, isLoopback, requestGuard } from './guard';
export {
  HttpError,
  nestedDeeperThan,
  type RouteContext,
  type RouteHandler,
  Router,
  type RouterOptions,
  readBody,
  readJson,
  sendJson,
  sendText,
} from './http';
export { type InProcessAwsHandler, inProcessAwsHandler } from './in-process';
export { DURATION_BUCKETS, MetricsRegistry } from './metrics';
export { type AwsKeyPair, generateKeyPair, SignatureError, verifySignature } from './sigv4';

/**
 * The local runtime's one HTTP server. Routes, first match wins:
 *
 * | route | what |
 * | --- | --- |
 * | (console routes, prepended by `extend`) | `GET /`, `/ui/*`, `/executions/*`: the web console (issue 8) |
 * | `POST /` with `X-Amz-Target` | the Step Functions and CodeBuild APIs (aws.ts) |
 * | `POST /webhooks/{provider}` | the webhook function, through an API Gateway v2 event |
 * | `GET, POST /approvals/{id}` | the approval pages (the approval http function) |
 * | `GET /approvals/oauth/callback` | the approval pages' sign-in callback (the same function) |
 * | `* /githost/*` | the local Git host status sink (GitHub, GitLab, Bitbucket status APIs) |
 * | `GET /metrics` | Prometheus text format |
 * | `GET /healthz` | liveness |
 * | `/api/*` | the JSON API for the console and the CLI (api.ts) |
 * | `GET /` | a plain index of the above, when no console is registered |
 *
 * Every request passes the guard first (guard.ts: its Host, and for what changes something, its origin); no
 * request's failure escapes the router (http.ts); the limits answer 413 and keep the connection (docs/adr/0087).
 */

/** How the server holds against hostile requests (docs/adr/0087). */
export interface ServerSecurity {
  /** The Host values the server answers (guard.ts `allowedHosts`); any, where absent (tests without a browser). */
  readonly allowedHosts?: ReadonlySet<string>;
  /** The key pair the AWS APIs require SigV4 with: where the runtime listens beyond loopback. */
  readonly awsKeys?: AwsKeyPair;
  /** One line per failed request (no body, header or path). */
  readonly log?: (line: string) => void;
}

export interface ServerDependencies {
  /** The AWS APIs' services, or their answer function when the runtime shares it with its in-process clients. */
  readonly aws: AwsApiDependencies | AwsApiAnswer;
  readonly lambda: LambdaService;
  readonly sink: GitHostSink;
  readonly metrics: MetricsRegistry;
  readonly api: ApiDependencies;
  readonly webhook: { readonly functionName: string; readonly maxBodyBytes: number };
  readonly approvalPages: { readonly functionName: string };
  /** Adds routes ahead of the built-in ones (the console). */
  readonly extend?: (router: Router) => void;
  readonly security?: ServerSecurity;
}

export function buildRouter(deps: ServerDependencies): Router {
  const security = deps.security ?? {};
  const router = new Router({
    guard: requestGuard(security.allowedHosts ?? null),
    ...(security.log ? { log: security.log } : {}),
  });
  router.add('POST', '/', awsRoute(typeof deps.aws === 'function' ? deps.aws : awsApiAnswer(deps.aws), security));
  router.add(
    'POST',
    '/webhooks/:provider',
    gatewayHandler(deps.lambda, {
      routeKey: 'POST /webhooks/{provider}',
      functionName: deps.webhook.functionName,
      maxBodyBytes: deps.webhook.maxBodyBytes,
    }),
  );
  const approvals = gatewayHandler(deps.lambda, {
    routeKey: 'ANY /approvals/{id}',
    functionName: deps.approvalPages.functionName,
    maxBodyBytes: 16 * 1024,
  });
  router.add('GET', '/approvals/:id', approvals);
  router.add(
    'POST',
    '/approvals/:id',
    gatewayHandler(deps.lambda, {
      routeKey: 'ANY /approvals/{id}',
      functionName: deps.approvalPages.functionName,
      maxBodyBytes: 16 * 1024,
      oversize: 'refuse',
    }),
  );
  // Where a Git host sends the person back after the approval pages' sign-in (docs/adr/0037).
  router.add(
    'GET',
    '/approvals/oauth/callback',
    gatewayHandler(deps.lambda, {
      routeKey: 'GET /approvals/oauth/callback',
      functionName: deps.approvalPages.functionName,
      maxBodyBytes: 16 * 1024,
    }),
  );
  router.add('*', '/githost/*rest', sinkRoute(deps.sink));
  router.add('GET', '/metrics', ({ res }) =>
    sendText(res, 200, deps.metrics.expose(), 'text/plain; version=0.0.4; charset=utf-8'),
  );
  router.add('GET', '/healthz', ({ res }) => sendJson(res, 200, { status: 'ok' }));
  registerApi(router, deps.api);
  router.add('GET', '/', (ctx: RouteContext) => index(ctx, router));
  deps.extend?.(router);
  return router;
}

/**
 * The local Git host sink's route (`* /githost/*rest`). The runtime's own status functions reach the sink in
 * process with the same request (services/githost/in-process.ts); this is the route for everyone else. A body must
 * be JSON, as the hosts' APIs take it (415 otherwise: a form or `text/plain` is what another site's page can send).
 */
export function sinkRoute(sink: GitHostSink): RouteHandler {
  return async function serveSink({ req, res, url, params }) {
    const method = (req.method ?? 'GET').toUpperCase();
    const read = method === 'GET' || method === 'HEAD' ? null : await readBody(req, SINK_BODY_LIMIT);
    if (read?.truncated) throw new HttpError(413, 'body_too_large', `the body is larger than ${SINK_BODY_LIMIT} bytes`);
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    if (read && read.body.length > 0 && type !== 'application/json')
      throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const text = read ? read.body.toString('utf8') : null;
    const answer = sink.handle(sinkRequest(method, params['rest'] ?? '', url.search, text));
    sendJson(res, answer.status, answer.body);
  };
}

function index({ res }: RouteContext, router: Router): void {
  const lines = [
    'Stepline local runtime',
    '',
    'Routes:',
    ...router.list().map((r) => `  ${r.method.padEnd(5)} ${r.pattern}`),
    '',
    'The AWS CLI and SDKs work against this endpoint: aws --endpoint-url <this URL> stepfunctions list-executions ...',
  ];
  sendText(res, 200, `${lines.join('\n')}\n`);
}

/** The deepest nesting an AWS API request body may have (theirs nest a few levels). */
const MAX_AWS_DEPTH = 32;

interface AwsRefusal {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

function awsError(target: string, status: number, code: string, message: string): AwsRefusal {
  const sfn = target.startsWith('AWSStepFunctions.');
  const body = JSON.stringify({ __type: code, message });
  return {
    status,
    body,
    headers: {
      'content-type': sfn ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amzn-errortype': code,
      'content-length': String(Buffer.byteLength(body)),
    },
  };
}

/**
 * `POST /` with `X-Amz-Target`: the AWS APIs (aws.ts). Before the operation: a body over the limit is 413 (and the
 * connection stays usable), one nested deeper than 32 is a SerializationException (400), and where the runtime
 * listens beyond loopback the request must carry a SigV4 signature of its key pair (sigv4.ts).
 */
function awsRoute(answerOf: AwsApiAnswer, security: ServerSecurity): RouteHandler {
  return async function serveAwsApi({ req, res }) {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!isAwsRequest(target)) {
      req.resume();
      sendJson(res, 400, {
        error: 'missing_target',
        message: 'POST / serves the AWS APIs: send X-Amz-Target (AWSStepFunctions.* or CodeBuild_20161006.*)',
      });
      return;
    }
    const { body, truncated } = await readBody(req, MAX_AWS_REQUEST_BYTES);
    let refusal: AwsRefusal | null = null;
    if (truncated) {
      refusal = awsError(
        target,
        413,
        'RequestEntityTooLargeException',
        `the request is larger than ${MAX_AWS_REQUEST_BYTES} bytes`,
      );
    } else if (security.awsKeys) {
      try {
        await verifySignature(req, body, security.awsKeys);
      } catch (error) {
        if (!(error instanceof SignatureError)) throw error;
        refusal = awsError(target, error.status, error.code, error.message);
      }
    }
    if (!refusal && body.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (nestedDeeperThan(parsed, MAX_AWS_DEPTH)) {
        refusal = awsError(
          target,
          400,
          'SerializationException',
          `the request body nests deeper than ${MAX_AWS_DEPTH}`,
        );
      }
    }
    if (refusal) {
      res.writeHead(refusal.status, refusal.headers);
      res.end(refusal.body);
      return;
    }
    const out = await answerOf(target, body);
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  };
}

/** Listens on `host:port` (port 0: a free one); resolves with the server and its port. */
export async function listen(router: Router, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    router.handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
