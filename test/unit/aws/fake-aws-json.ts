import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake AWS JSON-protocol endpoint over real HTTP on 127.0.0.1: it records every request (target, headers, body)
 * and answers each with what the test says. Tests point the JSON-protocol client (or the SDK) at `url`.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** `X-Amz-Target`, such as `AWSStepFunctions.StartExecution`. */
  readonly target: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: Record<string, unknown>;
}

export interface FakeAnswer {
  readonly status: number;
  readonly body?: unknown;
  /** Sent as it is, instead of `body` as JSON. */
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Waits this long before answering (a slow service). */
  readonly delayMs?: number;
  /** Never answers; the connection stays open until the client gives up. */
  readonly hang?: boolean;
  /** Drops the connection without an answer. */
  readonly drop?: boolean;
}

export type Responder = (request: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>;

export interface FakeAwsJsonServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answers the next requests, in order, with these; after them, with the responder. */
  enqueue(...answers: FakeAnswer[]): void;
  /** Answers every request that no queued answer takes. */
  respond(responder: Responder): void;
  /** The requests made to one operation. */
  calls(operation: string): RecordedRequest[];
  reset(): void;
  close(): Promise<void>;
}

/** An AWS error answer as the JSON protocols give it. */
export function awsError(status: number, type: string, message: string, headers?: Record<string, string>): FakeAnswer {
  return { status, body: { __type: type, message }, ...(headers ? { headers } : {}) };
}

const NO_ANSWER: Responder = () => awsError(500, 'InternalFailure', 'the fake endpoint has no answer for this request');

export async function startFakeAwsJson(responder: Responder = NO_ANSWER): Promise<FakeAwsJsonServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeAnswer[] = [];
  let fallback = responder;
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, answer: FakeAnswer) => {
    if (answer.drop) {
      res.socket?.destroy();
      return;
    }
    const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    res.writeHead(answer.status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': `req-${requests.length}`,
      ...answer.headers,
    });
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        body = {};
      }
      const target = req.headers['x-amz-target'] as string | undefined;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        target,
        headers: req.headers,
        raw,
        body,
      };
      requests.push(recorded);
      void Promise.resolve(queue.shift() ?? fallback(recorded)).then((answer) => {
        if (answer.hang) return;
        if (answer.delayMs) setTimeout(() => send(res, answer), answer.delayMs);
        else send(res, answer);
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    enqueue: (...answers) => {
      queue.push(...answers);
    },
    respond: (next) => {
      fallback = next;
    },
    calls: (operation) => requests.filter((r) => r.target?.endsWith(`.${operation}`)),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      fallback = responder;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Step Functions' answer to a StartExecution: the execution's ARN (from the state machine's and the name). */
export function startedExecution(request: RecordedRequest): FakeAnswer {
  const arn = String(request.body['stateMachineArn']).replace(':stateMachine:', ':execution:');
  return { status: 200, body: { executionArn: `${arn}:${String(request.body['name'])}`, startDate: 1795662000.123 } };
}
