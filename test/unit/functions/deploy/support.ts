import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { ClusterAccess } from '../../../../adapters/kubernetes/access';
import { ClusterConnector } from '../../../../adapters/kubernetes/connect';
import { FileManifestSource } from '../../../../adapters/local/artifacts';
import { systemClock } from '../../../../core/deploy/ports';
import type { DeployDependencies } from '../../../../functions/deploy/handler';

/** The three functions' dependencies as the local runtime builds them: the kubeconfig override, local files. */
export function dependencies(kubeconfig: string): DeployDependencies {
  const access = new ClusterAccess(new ClusterConnector(null), {
    kubeconfigOverride: { path: kubeconfig },
    requestTimeoutMs: 5_000,
  });
  return { open: (cluster) => access.open(cluster), manifests: new FileManifestSource(), clock: systemClock };
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2030/01/01/[$LATEST]abc',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs `act` with Powertools' output captured, returning the JSON lines it wrote. */
export async function captured<T>(
  act: () => Promise<T>,
): Promise<{ result: T | null; error: Error | null; lines: Record<string, unknown>[] }> {
  const text: string[] = [];
  const write = (chunk: string | Uint8Array) => {
    text.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(write);
  try {
    return { result: await act(), error: null, lines: parse(text) };
  } catch (error) {
    return { result: null, error: error as Error, lines: parse(text) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function parse(chunks: string[]): Record<string, unknown>[] {
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
