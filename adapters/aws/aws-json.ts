import { createHmac, hash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { awsEnvironmentCredentials } from '../settings';
import {
  AwsCallError,
  AwsClientConfigError,
  AwsCredentialsError,
  AwsNetworkError,
  AwsServiceError,
  AwsTimeoutError,
  CLOCK_SKEW_ERROR_CODES,
  retryKindOf,
} from './errors';

/**
 * A small client for AWS's JSON protocols (awsJson1_0, awsJson1_1): one signed POST per call, the operation in
 * `X-Amz-Target`, the input and output as JSON. The webhook function calls two operations, StartExecution and
 * GetSecretValue; loading the SDK clients for them costs more than 100 ms of every cold start, this module a few
 * (docs/adr/0046).
 *
 * What it does as the SDK does (@aws-sdk/* 3.11xx, standard retry mode), so that the two behave alike:
 * - Signature Version 4 (node:crypto): canonical request, string to sign, signing key derived per day, region and
 *   service; `X-Amz-Security-Token` when the credentials carry a session token; `X-Amz-Content-Sha256`.
 * - Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (what Lambda sets);
 *   only when those are absent, the SDK's default provider chain, loaded then.
 * - Up to 3 attempts; backoff with full jitter, `random * min(base * 2^retry, 20 s)`, base 50 ms (1 s after
 *   throttling), at least what a `Retry-After` header asks (up to 5 s more); retried: throttling error codes and
 *   429, 500/502/503/504, timeouts, refused/reset/unreachable connections, clock-skew errors once the clock has been
 *   corrected; never any other 4xx. A retry quota (500 tokens, 14 per transient retry, 5 per throttling retry,
 *   refunded on success) stops retry storms when a service is down.
 * - Errors named by their error code (`__type`, sanitized as the SDK does), see errors.ts.
 */

/** What distinguishes one AWS JSON service from another. */
export interface AwsJsonService {
  /** Endpoint prefix: `https://<prefix>.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /** SigV4 signing name (the credential scope's service). */
  readonly signingName: string;
  /** `X-Amz-Target: <targetPrefix>.<Operation>`. */
  readonly targetPrefix: string;
  /** awsJson1_0 or awsJson1_1: `Content-Type: application/x-amz-json-<version>`. */
  readonly jsonVersion: '1.0' | '1.1';
}

export const STEP_FUNCTIONS: AwsJsonService = {
  endpointPrefix: 'states',
  signingName: 'states',
  targetPrefix: 'AWSStepFunctions',
  jsonVersion: '1.0',
};

export const SECRETS_MANAGER: AwsJsonService = {
  endpointPrefix: 'secretsmanager',
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
};

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | null;
  /** When temporary credentials expire; the SDK's provider chain refreshes them before that. */
  readonly expiration?: Date;
}

export type CredentialProvider = () => Promise<AwsCredentials>;

/** One HTTP exchange, as the transport sees it. */
export interface AwsHttpRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The whole exchange must end within this. */
  readonly timeoutMs: number;
  /** A new connection must be made within this. */
  readonly connectionTimeoutMs: number;
}

export interface AwsHttpResponse {
  readonly statusCode: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/**
 * Sends one request. The default sends it over node:http(s) with keep-alive; tests and benchmarks may answer in
 * process. A transport throws `AwsTimeoutError` or `AwsNetworkError` when no answer came.
 */
export type AwsTransport = (
  request: AwsHttpRequest,
  call: { service: string; operation: string },
) => Promise<AwsHttpResponse>;

export interface AwsJsonClientOptions {
  readonly service: AwsJsonService;
  /** The region to call and sign for. Required unless `endpoint` is given (then default `us-east-1`). */
  readonly region?: string | null;
  /** Another endpoint than the region's (the local runtime's API): `http://127.0.0.1:8080`. */
  readonly endpoint?: string | null;
  /** Default: the environment's credentials, else the SDK's default provider chain (loaded on first use). */
  readonly credentials?: AwsCredentials | CredentialProvider;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Per-attempt timeout in milliseconds. Default 2,000. */
  readonly requestTimeoutMs?: number;
  /** Timeout of a new connection in milliseconds. Default 1,000. */
  readonly connectionTimeoutMs?: number;
  readonly transport?: AwsTransport;
  /** For tests: the clock, the jitter and the wait between attempts. */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

// The SDK's standard retry mode (@smithy/core retry, 2026): its constants, so that both clients back off alike.
const BASE_DELAY_MS = 50;
const THROTTLING_BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
const RETRY_AFTER_EXTRA_MS = 5_000;
const RETRY_CAPACITY = 500;
const TRANSIENT_RETRY_COST = 14;
const THROTTLING_RETRY_COST = 5;
const NO_RETRY_INCREMENT = 1;
const CLOCK_SKEW_TOLERANCE_MS = 5 * 60 * 1000;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The endpoint of a service in a region (the `aws`, `aws-cn` and `aws-us-gov` partitions). */
export function regionalEndpoint(service: AwsJsonService, region: string): URL {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://${service.endpointPrefix}.${region}.${suffix}/`);
}

// ---------------------------------------------------------------------------------------------------------------
// Signature Version 4
// ---------------------------------------------------------------------------------------------------------------

/** Headers that SigV4 never signs (they may change on the way), as @smithy/signature-v4 leaves them out. */
const UNSIGNABLE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

export interface SignableRequest {
  readonly method: string;
  /** The path, `/` for the JSON protocols. */
  readonly path: string;
  /** The canonical query string (names and values escaped, sorted): none for the JSON protocols. */
  readonly query?: string;
  /** Header names in any case; `host` must be among them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SigningParameters {
  readonly credentials: AwsCredentials;
  readonly region: string;
  readonly service: string;
  readonly date: Date;
  /** Whether to send (and sign) `x-amz-content-sha256`, as the SDK does by default. Default true. */
  readonly applyChecksum?: boolean;
}

/** One-shot SHA-256 (Node 20.12+): about half the cost of createHash() for the small texts signed here. */
function sha256Hex(data: string): string {
  return hash('sha256', data, 'hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

let lastDate: { readonly second: number; readonly value: { readonly long: string; readonly short: string } } | null =
  null;

/** `20261126T030000Z` and `20261126`; the last one is kept, since every call within a second asks for the same. */
export function amzDate(date: Date): { readonly long: string; readonly short: string } {
  const second = Math.floor(date.getTime() / 1000);
  if (lastDate?.second === second) return lastDate.value;
  const long = `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
  lastDate = { second, value: { long, short: long.slice(0, 8) } };
  return lastDate.value;
}

/** A header value as SigV4 canonicalizes it: line breaks as spaces, runs of spaces and tabs as one, ends trimmed. */
function canonicalHeaderValue(value: string): string {
  if (!/[\r\n\t]| {2}|^ | $/.test(value)) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves `!'()*` alone). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical URI: the path normalized (`.` and `..` resolved, empty segments dropped) and each segment escaped. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const joined = segments.map((segment) => escapeUri(segment)).join('/');
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${joined}${trailing}`;
}

/** One signing key per day, region, service and secret: derived once, then reused (four HMACs saved per call). */
export class SigningKeyCache {
  private key: { readonly secret: string; readonly scope: string; readonly value: Buffer } | null = null;

  public get(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
    const scope = `${shortDate}/${region}/${service}`;
    if (this.key !== null && this.key.secret === secretAccessKey && this.key.scope === scope) return this.key.value;
    const value = deriveSigningKey(secretAccessKey, shortDate, region, service);
    this.key = { secret: secretAccessKey, scope, value };
    return value;
  }
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, shortDate);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/**
 * Signs a request with SigV4 and returns its headers with `x-amz-date`, `x-amz-content-sha256`,
 * `x-amz-security-token` (when there is a session token) and `authorization` added; names in lower case. Every
 * header given is signed except those SigV4 never signs (`user-agent`, ...).
 */
export function signRequest(
  request: SignableRequest,
  parameters: SigningParameters,
  keys: SigningKeyCache = new SigningKeyCache(),
): Record<string, string> {
  const { credentials, region, service } = parameters;
  const { long, short } = amzDate(parameters.date);
  const headers: Record<string, string> = {};
  for (const name in request.headers) headers[name.toLowerCase()] = request.headers[name]!;
  delete headers['authorization'];
  headers['x-amz-date'] = long;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  let payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash === undefined) {
    payloadHash = request.body === '' ? EMPTY_SHA256 : sha256Hex(request.body);
    if (parameters.applyChecksum !== false) headers['x-amz-content-sha256'] = payloadHash;
  }

  const signed = Object.keys(headers)
    .filter((name) => !UNSIGNABLE_HEADERS.has(name) && !/^(proxy|sec)-/.test(name))
    .sort();
  let canonicalHeaders = '';
  for (const name of signed) canonicalHeaders += `${name}:${canonicalHeaderValue(headers[name]!)}\n`;
  const signedHeaders = signed.join(';');
  const canonicalRequest = `${request.method}\n${canonicalPath(request.path)}\n${request.query ?? ''}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${short}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${long}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', keys.get(credentials.secretAccessKey, short, region, service))
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers['authorization'] =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------------------------

/**
 * The environment's credentials when it has them (read once, now: Lambda sets them for the life of the sandbox);
 * else the SDK's default provider chain (shared config files, SSO, web identity, container and instance metadata),
 * required on first use only, since a Lambda function never needs it. The chain caches and refreshes what it finds.
 */
export function defaultCredentialProvider(): CredentialProvider {
  const fromEnvironment = awsEnvironmentCredentials();
  if (fromEnvironment !== null) {
    const credentials: AwsCredentials = fromEnvironment;
    return async () => credentials;
  }
  let chain: CredentialProvider | null = null;
  return async () => {
    chain ??= (
      require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node')
    ).defaultProvider();
    return chain();
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------------------------

/** The default transport: node:http(s) with keep-alive agents (as the SDK's node-http-handler keeps sockets). */
export function nodeHttpTransport(): AwsTransport & { destroy(): void } {
  const agents = {
    'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
    'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  };
  const send: AwsTransport = (request, call) =>
    new Promise<AwsHttpResponse>((resolve, reject) => {
      const { url } = request;
      const secure = url.protocol === 'https:';
      const details = { service: call.service, operation: call.operation };
      let settled = false;
      const finish = (error: Error | null, response?: AwsHttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(requestTimer);
        if (connectionTimer !== undefined) clearTimeout(connectionTimer);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: url.pathname,
        method: 'POST',
        headers: request.headers,
        agent: secure ? agents['https:'] : agents['http:'],
      });
      let connectionTimer: NodeJS.Timeout | undefined;
      const requestTimer = setTimeout(() => {
        const error = new AwsTimeoutError(
          `${call.operation}: no answer from ${url.host} within ${request.timeoutMs} ms`,
          { ...details, timeoutMs: request.timeoutMs },
        );
        req.destroy(error);
        finish(error);
      }, request.timeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectionTimer = setTimeout(() => {
          const error = new AwsTimeoutError(
            `${call.operation}: could not connect to ${url.host} within ${request.connectionTimeoutMs} ms`,
            { ...details, timeoutMs: request.connectionTimeoutMs },
          );
          req.destroy(error);
          finish(error);
        }, request.connectionTimeoutMs);
        socket.once('connect', () => clearTimeout(connectionTimer));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof AwsCallError) return finish(error);
        const code = error.code ?? 'UNKNOWN';
        finish(
          new AwsNetworkError(`${call.operation}: request to ${url.host} failed: ${code} ${error.message}`, {
            ...details,
            code,
          }),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            const error = new AwsNetworkError(`${call.operation}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, {
              ...details,
              code: 'ERESPONSETOOLARGE',
            });
            req.destroy(error);
            finish(error);
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          finish(
            new AwsNetworkError(`${call.operation}: answer from ${url.host} cut short: ${error.message}`, {
              ...details,
              code: error.code ?? 'ECONNRESET',
            }),
          );
        });
        res.on('close', () => {
          if (!res.complete) {
            finish(
              new AwsNetworkError(`${call.operation}: answer from ${url.host} cut short`, {
                ...details,
                code: 'ECONNRESET',
              }),
            );
          }
        });
        res.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          finish(null, {
            statusCode: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(request.body);
    });
  return Object.assign(send, {
    destroy() {
      agents['https:'].destroy();
      agents['http:'].destroy();
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------------------------

/** An error code as the SDK reads it: `aws.protocoltests#FooError:http://...` → `FooError`. */
export function sanitizeErrorCode(raw: string): string {
  let code = raw;
  if (code.includes(',')) code = code.split(',')[0]!;
  if (code.includes(':')) code = code.split(':')[0]!;
  if (code.includes('#')) code = code.split('#')[1]!;
  return code;
}

function parseJson(text: string): unknown {
  if (text.length === 0 || /^\s*$/.test(text)) return {};
  return JSON.parse(text);
}

/** The delay a `Retry-After` header asks for, in ms from `now`: seconds, or an HTTP date. */
function retryAfterMs(header: string | undefined, now: number): number | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

export class AwsJsonClient {
  public readonly service: AwsJsonService;
  public readonly region: string;
  public readonly endpoint: URL;
  private readonly credentials: CredentialProvider;
  private readonly maxAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly connectionTimeoutMs: number;
  private readonly transport: AwsTransport;
  private readonly destroyTransport: (() => void) | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly keys = new SigningKeyCache();
  /** The delay that an error's `Retry-After` header asked for. */
  private readonly retryAfter = new WeakMap<AwsServiceError, number>();
  private retryCapacity = RETRY_CAPACITY;
  /** Server time minus local time, learnt from a clock-skew error's `Date` header. */
  private clockSkewMs = 0;

  public constructor(options: AwsJsonClientOptions) {
    this.service = options.service;
    if (!options.region && !options.endpoint) {
      throw new AwsClientConfigError(
        `the ${options.service.signingName} client needs a region (AWS_REGION) or an endpoint, and has neither`,
      );
    }
    this.region = options.region || 'us-east-1';
    if (options.endpoint) {
      try {
        this.endpoint = new URL(options.endpoint);
      } catch (cause) {
        throw new AwsClientConfigError(`the endpoint ${JSON.stringify(options.endpoint)} is not a URL`, { cause });
      }
    } else {
      this.endpoint = regionalEndpoint(options.service, this.region);
    }
    const credentials = options.credentials ?? defaultCredentialProvider();
    this.credentials = typeof credentials === 'function' ? credentials : async () => credentials;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 1_000;
    if (options.transport) {
      this.transport = options.transport;
      this.destroyTransport = null;
    } else {
      const transport = nodeHttpTransport();
      this.transport = transport;
      this.destroyTransport = () => transport.destroy();
    }
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Calls `operation` with `input` and returns its output, retrying as the SDK's standard mode does. Throws an
   * `AwsServiceError` named by the service's error code, an `AwsTimeoutError`, an `AwsNetworkError` or an
   * `AwsCredentialsError`, with `attempts` set.
   */
  public async call<Output = Record<string, unknown>>(operation: string, input: object): Promise<Output> {
    const body = JSON.stringify(input);
    let retryCost: number | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        const output = (await this.attempt(operation, body)) as Output;
        this.retryCapacity = Math.min(RETRY_CAPACITY, this.retryCapacity + (retryCost ?? NO_RETRY_INCREMENT));
        return output;
      } catch (error) {
        if (error instanceof AwsCallError) error.attempts = attempt;
        const kind = retryKindOf(error);
        if (kind === null || attempt >= this.maxAttempts) throw error;
        const cost = kind === 'throttling' ? THROTTLING_RETRY_COST : TRANSIENT_RETRY_COST;
        if (this.retryCapacity < cost) throw error;
        this.retryCapacity -= cost;
        retryCost = cost;
        await this.sleep(this.backoff(kind, attempt - 1, error));
      }
    }
  }

  /** Closes the kept-alive connections. */
  public destroy(): void {
    this.destroyTransport?.();
  }

  private backoff(kind: 'throttling' | 'transient', retry: number, error: unknown): number {
    const base = kind === 'throttling' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    const delay = Math.floor(this.random() * Math.min(base * 2 ** retry, MAX_DELAY_MS));
    const hinted = error instanceof AwsServiceError ? this.retryAfter.get(error) : undefined;
    if (hinted === undefined) return delay;
    return Math.max(delay, Math.min(hinted, delay + RETRY_AFTER_EXTRA_MS));
  }

  private async attempt(operation: string, body: string): Promise<unknown> {
    const call = { service: this.service.signingName, operation };
    let credentials: AwsCredentials;
    try {
      credentials = await this.credentials();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new AwsCredentialsError(`${operation}: no AWS credentials: ${reason}`, call, { cause });
    }
    const headers = signRequest(
      {
        method: 'POST',
        path: this.endpoint.pathname,
        headers: {
          host: this.endpoint.host,
          'content-type': `application/x-amz-json-${this.service.jsonVersion}`,
          'content-length': String(Buffer.byteLength(body)),
          'x-amz-target': `${this.service.targetPrefix}.${operation}`,
        },
        body,
      },
      {
        credentials,
        region: this.region,
        service: this.service.signingName,
        date: new Date(this.now() + this.clockSkewMs),
      },
      this.keys,
    );
    headers['user-agent'] = 'stepline-aws-json/1';
    const response = await this.transport(
      {
        url: this.endpoint,
        headers,
        body,
        timeoutMs: this.requestTimeoutMs,
        connectionTimeoutMs: this.connectionTimeoutMs,
      },
      call,
    );
    if (response.statusCode >= 200 && response.statusCode < 300) {
      try {
        return parseJson(response.body);
      } catch (cause) {
        throw new AwsServiceError(
          'DeserializationError',
          `${operation}: the answer (HTTP ${response.statusCode}) is not JSON`,
          { ...call, statusCode: response.statusCode, requestId: response.headers['x-amzn-requestid'] ?? null },
          { cause },
        );
      }
    }
    throw this.serviceError(operation, response);
  }

  private serviceError(operation: string, response: AwsHttpResponse): AwsServiceError {
    let data: Record<string, unknown> = {};
    try {
      const parsed = parseJson(response.body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        data = parsed as Record<string, unknown>;
      }
    } catch {
      // not JSON (a proxy's HTML page, say): the status code and the header still tell what happened
    }
    const rawCode =
      typeof data['__type'] === 'string'
        ? data['__type']
        : typeof data['code'] === 'string'
          ? data['code']
          : response.headers['x-amzn-errortype'];
    const code = (rawCode ? sanitizeErrorCode(rawCode) : '') || 'Unknown';
    const text = data['message'] ?? data['Message'];
    const message =
      typeof text === 'string' && text !== '' ? text : `${operation} failed with HTTP ${response.statusCode}`;
    const clockSkewCorrected = CLOCK_SKEW_ERROR_CODES.has(code) && this.correctClockSkew(response.headers['date']);
    const error = new AwsServiceError(code, message, {
      service: this.service.signingName,
      operation,
      statusCode: response.statusCode,
      requestId: response.headers['x-amzn-requestid'] ?? null,
      clockSkewCorrected,
    });
    const hint = retryAfterMs(response.headers['retry-after'], this.now());
    if (hint !== null) this.retryAfter.set(error, hint);
    return error;
  }

  /** Learns the server's time from its `Date` header; true when the clock was off by more than 5 minutes. */
  private correctClockSkew(dateHeader: string | undefined): boolean {
    if (dateHeader === undefined) return false;
    const serverTime = Date.parse(dateHeader);
    if (Number.isNaN(serverTime)) return false;
    const skew = serverTime - this.now();
    if (Math.abs(skew - this.clockSkewMs) <= CLOCK_SKEW_TOLERANCE_MS) return false;
    this.clockSkewMs = skew;
    return true;
  }
}
