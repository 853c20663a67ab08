import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayEvent, writeGatewayResult } from '../../../local/server/gateway';
import { wildcard } from './iam';
import type { BundleFunction } from './lambda-host';
import type { StackValues } from './template';

/**
 * API Gateway HTTP API for the suite, made from the template: its routes (`AWS::ApiGatewayV2::Route` route keys,
 * with path parameters and greedy `{proxy+}`), their Lambda proxy integrations (payload format 2.0), their
 * authorization (a route with a JWT authorizer refuses a request without a valid bearer token with 401, as API
 * Gateway does; the suite has no identity provider, so none is valid), and the `AWS::Lambda::Permission` that lets
 * API Gateway invoke the function (without one, API Gateway answers 500). A request no route matches is 404.
 */

interface Route {
  readonly method: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly routeKey: string;
  readonly functionId: string;
  readonly authorization: string;
}

export interface GatewayCall {
  readonly routeKey: string;
  readonly status: number;
  /** Why API Gateway answered 5xx: the function's error, or the missing permission. */
  readonly error?: string;
}

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const parts = path.split('/').map((segment) => {
    const greedy = /^\{(\w+)\+\}$/.exec(segment);
    if (greedy) {
      names.push(greedy[1]!);
      return '(.+)';
    }
    const param = /^\{(\w+)\}$/.exec(segment);
    if (param) {
      names.push(param[1]!);
      return '([^/]+)';
    }
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { regex: new RegExp(`^${parts.join('/')}$`), names };
}

export class HttpApiStandIn {
  public readonly calls: GatewayCall[] = [];
  private readonly routes: Route[] = [];
  private server: Server | null = null;
  private port = 0;
  private readonly apiId: string;

  public constructor(
    private readonly values: StackValues,
    apiLogicalId: string,
    private readonly functionOf: (logicalId: string) => BundleFunction,
  ) {
    this.apiId = values.ref(apiLogicalId);
    const integrations = new Map<string, string>();
    for (const id of values.resourcesOf('AWS::ApiGatewayV2::Integration')) {
      const props = values.properties(id);
      const fn = /(?:^|\.)(\w+)\.Arn$/.exec(JSON.stringify(props['IntegrationUri']))?.[1];
      const target = (props['IntegrationUri'] as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? fn;
      if (!target) throw new Error(`integration ${id} does not name a function the suite can find`);
      integrations.set(id, target);
    }
    for (const id of values.resourcesOf('AWS::ApiGatewayV2::Route')) {
      const props = values.properties(id);
      const routeKey = String(props['RouteKey']);
      const [method, path] = routeKey.split(' ') as [string, string];
      const integration = values.string(props['Target']).replace(/^integrations\//, '');
      const integrationId = [...integrations.keys()].find((i) => values.ref(i) === integration);
      if (!integrationId) throw new Error(`route ${routeKey} targets an integration the template does not have`);
      const { regex, names } = compile(path);
      this.routes.push({
        method,
        regex,
        names,
        routeKey,
        functionId: integrations.get(integrationId)!,
        authorization: String(props['AuthorizationType'] ?? 'NONE'),
      });
    }
  }

  public get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  public async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `the stand-in failed: ${String(error)}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  public async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Whether an `AWS::Lambda::Permission` lets API Gateway invoke the function for the route: the source ARN API
   * Gateway presents names the stage, the method and the route's path as declared (`/webhooks/{provider}`).
   */
  private permitted(functionId: string, method: string, path: string): boolean {
    const arn = `arn:${this.values.partition}:execute-api:${this.values.region}:${this.values.accountId}:${this.apiId}/$default/${method}${path}`;
    return this.values.resourcesOf('AWS::Lambda::Permission').some((id) => {
      const props = this.values.properties(id);
      const fn = JSON.stringify(props['FunctionName']);
      return (
        fn.includes(`"${functionId}"`) &&
        props['Principal'] === 'apigateway.amazonaws.com' &&
        this.values.string(props['Action']) === 'lambda:InvokeFunction' &&
        (props['SourceArn'] === undefined || wildcard(this.values.string(props['SourceArn']), arn))
      );
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const send = (status: number, message: string, routeKey = '', error?: string): void => {
      this.calls.push({ routeKey, status, ...(error ? { error } : {}) });
      const text = JSON.stringify({ message });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const route = this.routes.find((r) => (r.method === method || r.method === 'ANY') && r.regex.test(url.pathname));
    if (!route) return send(404, 'Not Found');
    const match = route.regex.exec(url.pathname)!;
    const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
    if (route.authorization === 'JWT') return send(401, 'Unauthorized', route.routeKey);
    if (!this.permitted(route.functionId, method, route.routeKey.split(' ')[1]!)) {
      return send(
        500,
        'Internal Server Error',
        route.routeKey,
        'no AWS::Lambda::Permission for apigateway.amazonaws.com',
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const event = gatewayEvent(
      { req, res, url, params },
      { routeKey: route.routeKey, functionName: '', maxBodyBytes: 0 },
      Buffer.concat(chunks),
    );
    const context = event.requestContext as { accountId: string; apiId: string };
    context.accountId = this.values.accountId;
    context.apiId = this.apiId;
    let result: unknown;
    try {
      result = await this.functionOf(route.functionId).invoke(event);
    } catch (error) {
      return send(
        500,
        'Internal Server Error',
        route.routeKey,
        `${(error as Error).name}: ${(error as Error).message}`,
      );
    }
    const status =
      typeof result === 'object' && result !== null && 'statusCode' in result
        ? Number((result as { statusCode: unknown }).statusCode)
        : 200;
    this.calls.push({ routeKey: route.routeKey, status });
    writeGatewayResult(res, result);
  }
}
