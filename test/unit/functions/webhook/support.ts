import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { RawDelivery } from '../../../../core/intake/delivery';

/** An API Gateway HTTP API (payload v2) event for `POST /webhooks/{provider}`, as the Lambda receives it. */
export function apiEvent(raw: RawDelivery, options: { base64?: boolean } = {}): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(
    Object.entries(raw.headers)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name.toLowerCase(), value as string]),
  );
  const body = Buffer.from(raw.body);
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{provider}',
    rawPath: `/webhooks/${raw.provider ?? ''}`,
    rawQueryString: '',
    headers,
    pathParameters: raw.provider === undefined ? undefined : { provider: raw.provider },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'hooks.example.com',
      domainPrefix: 'hooks',
      http: {
        method: 'POST',
        path: `/webhooks/${raw.provider}`,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'test',
      },
      requestId: 'req',
      routeKey: 'POST /webhooks/{provider}',
      stage: '$default',
      time: '26/Nov/2026:03:00:00 +0000',
      timeEpoch: 1795662000000,
    },
    body: options.base64 ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: options.base64 === true,
  };
}

export const CONTEXT = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'stepline-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:stepline-webhook',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/stepline-webhook',
  logStreamName: '2026/11/26/[$LATEST]abc',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/**
 * Captures what the function writes to stdout and stderr (Powertools logs, warnings and errors, and EMF metrics)
 * while `act` runs.
 */
export async function captureStdout<T>(act: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await act();
    return { result, output: chunks.join('') };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i]!;
    });
  }
}

/** The JSON lines of captured output. */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
