import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApprovalHttpHandler } from '../../../../functions/approval/http';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';

/**
 * A small browser for the approval pages' tests: it keeps cookies as a browser does (by name, honouring Max-Age=0),
 * sends requests under `base` to the approval function as API Gateway (payload v2) would, and everything else
 * (the stand-in host's authorize endpoint) over HTTP, and follows redirects on request.
 */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Set-Cookie lines of the answer. */
  readonly cookies: string[];
  readonly url: string;
}

export class Agent {
  public readonly jar = new Map<string, string>();
  public readonly seen: Answer[] = [];

  public constructor(
    private readonly handler: ApprovalHttpHandler,
    private readonly base: string,
    /** Headers sent with every request to the pages (an authenticating proxy's `x-forwarded-user`). */
    public headers: Record<string, string> = {},
  ) {}

  public cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  #take(cookies: readonly string[]): void {
    for (const line of cookies) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      if (/Max-Age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(at + 1));
    }
  }

  public event(method: string, url: string, form?: Record<string, string>): APIGatewayProxyEventV2 {
    const parsed = new URL(url);
    const path = parsed.pathname;
    const isCallback = path.endsWith('/approvals/oauth/callback');
    const routeKey = isCallback ? 'GET /approvals/oauth/callback' : `${method} /approvals/{id}`;
    return {
      version: '2.0',
      routeKey,
      rawPath: path,
      rawQueryString: parsed.search.slice(1),
      headers: {
        ...this.headers,
        host: parsed.host,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(this.jar.size ? { cookies: [...this.jar].map(([k, v]) => `${k}=${v}`) } : {}),
      ...(parsed.searchParams.size ? { queryStringParameters: Object.fromEntries(parsed.searchParams) } : {}),
      ...(isCallback ? {} : { pathParameters: { id: path.split('/').at(-1)! } }),
      isBase64Encoded: false,
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: parsed.host,
        domainPrefix: 'approve',
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'agent' },
        requestId: 'r1',
        routeKey,
        stage: '$default',
        time: '01/Jan/2030:00:00:00 +0000',
        timeEpoch: 1_893_456_000_000,
      },
    } as APIGatewayProxyEventV2;
  }

  public async send(method: string, url: string, form?: Record<string, string>): Promise<Answer> {
    let answer: Answer;
    if (url.startsWith(this.base)) {
      const event = this.event(method, url, form);
      const { result } = await captureStdout(() => this.handler(event, lambdaContext()));
      const r = result as APIGatewayProxyStructuredResultV2;
      answer = {
        status: r.statusCode ?? 200,
        headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
        body: r.body ?? '',
        cookies: r.cookies ?? [],
        url,
      };
    } else {
      const response = await fetch(url, { method, redirect: 'manual' });
      answer = {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.text(),
        cookies: [],
        url,
      };
    }
    this.#take(answer.cookies);
    this.seen.push(answer);
    return answer;
  }

  /** A GET that follows redirects, as a browser does; answers the last page. */
  public async open(url: string, limit = 10): Promise<Answer> {
    let answer = await this.send('GET', url);
    for (let hops = 0; answer.status >= 300 && answer.status < 400 && hops < limit; hops++) {
      answer = await this.send('GET', new URL(answer.headers['location']!, answer.url).toString());
    }
    return answer;
  }

  /** The page's form fields (hidden inputs), by name. */
  public static fields(html: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[match[1]!] = match[2]!;
    }
    return fields;
  }
}
