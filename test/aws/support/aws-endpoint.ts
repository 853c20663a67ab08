import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Authorization, IamModel, Principal } from './iam';
import { type Decoded, decode, UnknownOperationError, type Where } from './iam-actions';

/**
 * The one AWS endpoint of the suite (`AWS_ENDPOINT_URL` of every function and build): it reads who signed each
 * request (the access key of a role, from the SigV4 `Authorization` header or the presigned query), decodes the
 * operation, has IAM authorize it against that role, and only then forwards it: DynamoDB, SQS, S3, Secrets
 * Manager and STS to moto; Step Functions and CodeBuild to the local services; EKS to the suite's stand-in. A
 * request IAM would refuse is answered as AWS answers it (AccessDenied) and recorded.
 */

export interface ServiceAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export type LocalService = (request: {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}) => Promise<ServiceAnswer>;

export interface AwsEndpointOptions {
  readonly iam: IamModel;
  readonly where: Where;
  /** moto's URL: DynamoDB, SQS, S3, Secrets Manager, STS. */
  readonly motoUrl: string;
  /** Services answered here rather than by moto, by signing name. */
  readonly local: Readonly<Record<string, LocalService>>;
  /** Extra authorizations AWS makes for a call (a KMS key behind an encrypted bucket). */
  readonly implied?: (decoded: Decoded) => Authorization[];
}

/** Signing names forwarded to moto; `monitoring` is CloudWatch (its metrics, for a canary's analysis). */
const MOTO_SERVICES = new Set(['dynamodb', 'sqs', 's3', 'secretsmanager', 'sts', 'monitoring']);

/** An unsigned or unknown-key request: what the suite saw, for the test's failure message. */
export interface Refusal {
  readonly reason: string;
  readonly method: string;
  readonly path: string;
}

function credentialOf(req: IncomingMessage, url: URL): { accessKeyId: string; service: string } | null {
  const header = String(req.headers.authorization ?? '');
  const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header);
  if (scope) return { accessKeyId: scope[1]!, service: scope[2]! };
  const presigned = url.searchParams.get('X-Amz-Credential');
  if (presigned) {
    const [accessKeyId, , , service] = presigned.split('/');
    return { accessKeyId: accessKeyId!, service: service! };
  }
  return null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function accessDenied(service: string, message: string): ServiceAnswer {
  if (service === 's3') {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`;
    return { status: 403, headers: { 'content-type': 'application/xml' }, body };
  }
  if (service === 'sts') {
    const body = `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error></ErrorResponse>`;
    return { status: 403, headers: { 'content-type': 'text/xml' }, body };
  }
  const body = JSON.stringify({ __type: 'AccessDeniedException', message, Message: message });
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'AccessDeniedException' },
    body,
  };
}

/** A failure AWS answers instead of serving a call, as a scenario injects it (throttling: no stand-in produces it). */
export interface Fault {
  /** `states:StartExecution`. */
  readonly operation: string;
  /** Only calls signed by this role (its logical id's prefix). Default: any. */
  readonly role?: string;
  /** How many calls it answers before it is spent. */
  times: number;
  readonly answer: ServiceAnswer;
}

export class AwsEndpoint {
  public readonly refusals: Refusal[] = [];
  private readonly faults: Fault[] = [];

  /** Answers the next `times` matching calls with `answer` (after they were authorized). */
  public inject(fault: Fault): void {
    this.faults.push(fault);
  }
  private server: Server | null = null;
  private port = 0;
  private options: AwsEndpointOptions | null = null;

  /** What the endpoint serves; until then it refuses every request (the URL is needed before the rest is made). */
  public serve(options: AwsEndpointOptions): void {
    this.options = options;
  }

  public get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  public async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.refusals.push({
          reason: `the endpoint failed: ${String(error)}`,
          method: req.method ?? '',
          path: req.url ?? '',
        });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    const options = this.options;
    if (!options) {
      this.write(res, accessDenied('unknown', 'the suite is not serving yet'));
      return;
    }
    const credential = credentialOf(req, url);
    const principal: Principal | undefined = credential
      ? options.iam.principalOfKey(credential.accessKeyId)
      : undefined;
    if (!credential || !principal) {
      const reason = credential
        ? `a request signed with the unknown key ${credential.accessKeyId}`
        : 'an unsigned request';
      this.refusals.push({ reason, method: req.method ?? '', path: url.pathname });
      this.write(res, accessDenied(credential?.service ?? 'unknown', reason));
      return;
    }
    const service = credential.service;
    let decoded: Decoded | null;
    try {
      decoded = await decode(
        {
          service,
          method: req.method ?? 'GET',
          path: decodeURIComponent(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body,
        },
        options.where,
      );
    } catch (error) {
      if (!(error instanceof UnknownOperationError)) throw error;
      this.refusals.push({ reason: error.message, method: req.method ?? '', path: url.pathname });
      this.write(res, accessDenied(service, error.message));
      return;
    }
    if (decoded) {
      const all = [...decoded.authorizations, ...(options.implied?.(decoded) ?? [])];
      const allowed = await options.iam.authorize(principal, decoded.operation, all);
      if (!allowed) {
        const denied = `User: ${principal.roleArn} is not authorized to perform: ${decoded.authorizations[0]?.action} on resource: ${decoded.authorizations[0]?.resource}`;
        this.write(res, accessDenied(service, denied));
        return;
      }
    }
    const fault = decoded
      ? this.faults.find(
          (f) => f.times > 0 && f.operation === decoded.operation && principal.roleId.startsWith(f.role ?? ''),
        )
      : undefined;
    if (fault) {
      fault.times -= 1;
      this.write(res, fault.answer);
      return;
    }
    const local = options.local[service];
    if (local) {
      this.write(
        res,
        await local({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body }),
      );
      return;
    }
    if (!MOTO_SERVICES.has(service)) {
      this.write(res, accessDenied(service, `the suite has no stand-in for ${service}`));
      return;
    }
    await this.forward(options.motoUrl, req, url, body, res);
  }

  private async forward(
    motoUrl: string,
    req: IncomingMessage,
    url: URL,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const target = new URL(url.pathname + url.search, motoUrl);
    await new Promise<void>((resolve, reject) => {
      const upstream = httpRequest(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host, 'content-length': String(body.length) } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  private write(res: ServerResponse, answer: ServiceAnswer): void {
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
    res.end(body);
  }
}
