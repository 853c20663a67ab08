import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GitHostSink, SINK_BODY_LIMIT, sinkRequest } from '../services/githost';
import type { LambdaService } from '../services/lambda';
import { type ApiDependencies, registerApi } from './api';
import { type AwsApiAnswer, type AwsApiDependencies, awsApi, isAwsRequest } from './aws';
import { gatewayHandler } from './gateway';
import { type RouteContext, type RouteHandler, Router, readBody, sendJson, sendText } from './http';
import type { MetricsRegistry } from './metrics';

export { type ApiDependencies, buildSummary, eventJson, executionSummary } from './api';
export {
  type AwsAnswer,
  type AwsApiAnswer,
  type AwsApiDependencies,
  awsApiAnswer,
  MAX_AWS_REQUEST_BYTES,
} from './aws';
export { gatewayEvent } from './gateway';
export {
  HttpError,
  type RouteContext,
  type RouteHandler,
  Router,
  readBody,
  readJson,
  sendJson,
  sendText,
} from './http';
export { type InProcessAwsHandler, inProcessAwsHandler } from './in-process';
export { DURATION_BUCKETS, MetricsRegistry } from './metrics';

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
 */

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
}

export function buildRouter(deps: ServerDependencies): Router {
  const router = new Router();
  const aws = awsApi(deps.aws);
  router.add('POST', '/', async (ctx) => {
    if (isAwsRequest(ctx.req.headers['x-amz-target'] as string | undefined)) return aws(ctx);
    sendJson(ctx.res, 400, {
      error: 'missing_target',
      message: 'POST / serves the AWS APIs: send X-Amz-Target (AWSStepFunctions.* or CodeBuild_20161006.*)',
    });
  });
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
  router.add('POST', '/approvals/:id', approvals);
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
 * process with the same request (services/githost/in-process.ts); this is the route for everyone else.
 */
export function sinkRoute(sink: GitHostSink): RouteHandler {
  return async function serveSink({ req, res, url, params }) {
    const method = (req.method ?? 'GET').toUpperCase();
    const read = method === 'GET' || method === 'HEAD' ? null : await readBody(req, SINK_BODY_LIMIT).catch(() => null);
    const text = read && !read.truncated ? read.body.toString('utf8') : null;
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

/** Listens on `host:port` (port 0: a free one); resolves with the server and its port. */
export async function listen(router: Router, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void router.handle(req, res);
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
