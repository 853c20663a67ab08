import { lookup } from 'node:dns';
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SFNClient } from '@aws-sdk/client-sfn';

/**
 * What the AWS client tests share: SDK clients against a runtime's URL, and the error a call ends with.
 */

export const ROLE = 'arn:aws:iam::000000000000:role/clients';
export const ACCOUNT_PREFIX = 'arn:aws:states:us-east-1:000000000000';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * A Step Functions client as a user configures one for the local runtime. `disableHostPrefix` is the SDK's
 * setting for StartSyncExecution and TestState, which the SDK otherwise sends to `sync-<host>`.
 */
export function sfnClient(url: string, options: { disableHostPrefix?: boolean } = {}): SFNClient {
  return new SFNClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...(options.disableHostPrefix ? { disableHostPrefix: true } : {}),
  });
}

/**
 * A client with the SDK's default host prefix, on a machine where `sync-localhost` resolves to 127.0.0.1 (what a
 * `127.0.0.1 sync-localhost` line in /etc/hosts does): the agent's lookup stands in for the hosts file and records
 * the names it was asked for.
 */
export function sfnClientWithSyncHost(url: string): { client: SFNClient; asked: string[] } {
  const asked: string[] = [];
  const resolve: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname);
    lookup(hostname === 'sync-localhost' ? '127.0.0.1' : hostname, options, callback);
  };
  const client = new SFNClient({
    endpoint: url.replace('127.0.0.1', 'localhost'),
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ lookup: resolve }) },
  });
  return { client, asked };
}

export function codeBuildClient(url: string): CodeBuildClient {
  return new CodeBuildClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
}

export interface Failure {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly error: Record<string, unknown>;
}

/** The error a call ends with (the test fails when it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return {
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      error: e as unknown as Record<string, unknown>,
    };
  }
  throw new Error('expected the call to fail');
}
