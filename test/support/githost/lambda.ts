import type { Context } from 'aws-lambda';
import { vi } from 'vitest';

/** A Lambda context for invoking handlers in tests. */
export function lambdaContext(functionName = 'stepline-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2030/01/01/[$LATEST]abc',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Captures what Powertools writes to stdout and stderr (logs and EMF metrics) while `run` runs. */
export async function captureStdout<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const result = await run();
    return { result, lines };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The EMF metric values named `name` in captured lines. */
export function metricValues(lines: readonly string[], name: string): number[] {
  const values: number[] = [];
  for (const line of lines) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed._aws && typeof parsed[name] === 'number') values.push(parsed[name] as number);
    } catch {
      // not JSON
    }
  }
  return values;
}
