import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';

/**
 * An HTTP exchange stubbed under a real AWS SDK client, for what no stand-in produces: throttling, a service's
 * 5xx, a request that times out. It is given as the client's `requestHandler`, so the SDK still serializes, signs,
 * retries and parses as it does against AWS; only the socket is replaced. Everything a stand-in can answer
 * (moto_server, the local runtime's Step Functions API) is answered by the stand-in instead.
 */

export interface StubbedRequest {
  /** `X-Amz-Target`, such as `AWSStepFunctions.StartExecution`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

export type StubAnswer =
  | {
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** No answer: the error the SDK's node-http-handler throws (a timeout, a refused connection). */
  | { readonly throws: Error };

export type StubResponder = (request: StubbedRequest) => StubAnswer;

export interface StubbedHttp {
  /** The SDK client's `requestHandler`. */
  readonly requestHandler: {
    readonly metadata: { readonly handlerProtocol: string };
    handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }>;
    updateHttpClientConfig(): void;
    httpHandlerConfigs(): Record<string, never>;
    destroy(): void;
  };
  readonly requests: StubbedRequest[];
  /** Answers the next requests, in order, with these; after them, the responder answers. */
  enqueue(...answers: StubAnswer[]): void;
  /** The requests made to one operation. */
  calls(operation: string): StubbedRequest[];
}

/** An AWS error as the JSON protocols answer it. */
export function awsError(status: number, type: string, message: string): StubAnswer {
  return { status, body: { __type: type, message } };
}

/** What the SDK's node-http-handler throws when an attempt runs out of its `requestTimeout`. */
export function requestTimeout(timeoutMs = 2000): StubAnswer {
  const error = new Error(`a request has exceeded the configured ${timeoutMs} ms requestTimeout.`);
  error.name = 'TimeoutError';
  return { throws: error };
}

/** Step Functions' answer to a StartExecution: the ARN its state machine and name give. */
export function startedExecution(request: StubbedRequest): StubAnswer {
  const arn = String(request.body['stateMachineArn']).replace(':stateMachine:', ':execution:');
  // A new execution starts as the call is answered.
  return {
    status: 200,
    body: { executionArn: `${arn}:${String(request.body['name'])}`, startDate: Date.now() / 1000 },
  };
}

function bodyText(request: HttpRequest): string {
  const body: unknown = request.body;
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // The SDK's JSON body is a Uint8Array subclass whose string methods warn: read its bytes, not the object.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new TypeError('the stubbed HTTP takes a string or bytes as a request body (the JSON protocols)');
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

export function stubHttp(responder: StubResponder): StubbedHttp {
  const requests: StubbedRequest[] = [];
  const queue: StubAnswer[] = [];
  return {
    requests,
    enqueue: (...answers) => {
      queue.push(...answers);
    },
    calls: (operation) => requests.filter((r) => r.target.endsWith(`.${operation}`)),
    requestHandler: {
      metadata: { handlerProtocol: 'http/1.1' },
      async handle(request) {
        const headers = lowerCased(request.headers);
        const text = bodyText(request);
        const recorded: StubbedRequest = {
          target: headers['x-amz-target'] ?? '',
          headers,
          body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        };
        requests.push(recorded);
        const answer = queue.shift() ?? responder(recorded);
        if ('throws' in answer) throw answer.throws;
        const json = answer.body === undefined ? '' : JSON.stringify(answer.body);
        return {
          response: {
            statusCode: answer.status,
            headers: { 'content-type': 'application/x-amz-json-1.0', ...answer.headers },
            body: Buffer.from(json, 'utf8'),
          } as HttpResponse,
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
      destroy() {},
    },
  };
}
