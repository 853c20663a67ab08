import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';
import { type AwsApiAnswer, MAX_AWS_REQUEST_BYTES } from './aws';

/**
 * The runtime's own AWS SDK clients, answered in process.
 *
 * The functions that the runtime runs call its Step Functions API: the webhook starts executions, the status
 * functions read an execution's input, the approval pages send task tokens back, the coordination function stops
 * superseded runs. Over loopback each call took a connection to the runtime's own server, an HTTP exchange on both
 * sides of the one event loop, and under a burst of deliveries those connections to itself piled up in the
 * server's accept queue until the kernel dropped new ones, some for seconds (docs/adr/0086).
 *
 * The request handler below takes the place of the SDK's node-http-handler: the SDK still builds, signs and
 * retries the request and parses the answer (the same middleware stack a call to AWS goes through). The request
 * is answered by the same function that answers the HTTP route (aws.ts), in a turn of the event loop of its own, as
 * a network answer would come. Only the socket is gone.
 */

/** Not ready yet (the runtime is starting): answered as the HTTP server answers then, 503 with `Retry-After`. */
const STARTING = {
  status: 503,
  headers: { 'content-type': 'application/json', 'retry-after': '1' },
  body: JSON.stringify({ error: 'starting', message: 'the runtime is starting' }),
};

/** A turn of the event loop, as a network answer takes: the caller never runs the service inside its own stack. */
function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function header(request: HttpRequest, name: string): string {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return '';
}

function bodyOf(request: HttpRequest): Buffer {
  const body: unknown = request.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('the in-process AWS handler takes a string or bytes as a request body (the JSON protocols)');
}

function abortError(signal: object): Error {
  const reason = (signal as { reason?: unknown }).reason;
  if (reason instanceof Error) return reason;
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}

export interface InProcessAwsHandler {
  readonly metadata: { readonly handlerProtocol: string };
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

/**
 * An SDK request handler (`requestHandler` of a client's configuration) that answers through `answer()`, which
 * gives the AWS APIs' answer function once the runtime has built it, or null while it starts.
 */
export function inProcessAwsHandler(answer: () => AwsApiAnswer | null): InProcessAwsHandler {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request, options) {
      const signal = options?.abortSignal;
      if (signal?.aborted) throw abortError(signal);
      await nextTurn();
      if (signal?.aborted) throw abortError(signal);
      const api = answer();
      const body = bodyOf(request);
      const out = api
        ? await api(header(request, 'x-amz-target'), body.length > MAX_AWS_REQUEST_BYTES ? null : body)
        : STARTING;
      return {
        response: { statusCode: out.status, headers: { ...out.headers }, body: Buffer.from(out.body, 'utf8') },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
}
