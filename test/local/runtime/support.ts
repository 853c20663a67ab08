import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../../local/runtime';

/**
 * Test support for the local runtime: a runtime on a free port in a temporary state folder, real git repositories
 * in temporary folders, signed GitHub push deliveries, and a patient `waitFor`.
 */

export const SECRET = 'a-webhook-secret-for-tests-only-0123456789';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `stepline-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a runtime for a test: free port, fast simulated cluster, quiet functions, no periodic replay. */
export async function startTestRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return startRuntime({
    port: 0,
    stateDir: tempDir('state'),
    webhookSecret: SECRET,
    logLevel: 'SILENT',
    replayEveryMs: 0,
    kubernetes: 'simulated',
    simulatedCluster: { tickMs: 20, timeScale: 0.02 },
    env: { PATH: process.env['PATH'] },
    ...options,
  });
}

export function sfnClient(runtime: { url: string }): SFNClient {
  return new SFNClient({
    endpoint: runtime.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.test',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.test',
    },
  }).trim();
}

/** A git repository with `files` committed on `main`; answers its folder and a `commit` to add more. */
export function gitRepository(files: Record<string, string>): {
  dir: string;
  sha: string;
  commit(more: Record<string, string>, message?: string): string;
} {
  const dir = tempDir('repo');
  git(dir, 'init', '--quiet', '--initial-branch=main');
  const write = (entries: Record<string, string>): void => {
    for (const [path, text] of Object.entries(entries)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  };
  const commit = (entries: Record<string, string>, message = 'change'): string => {
    write(entries);
    git(dir, 'add', '-A');
    git(dir, 'commit', '--quiet', '-m', message);
    return git(dir, 'rev-parse', 'HEAD');
  };
  const sha = commit(files, 'first');
  return { dir, sha, commit };
}

/** A signed GitHub `push` delivery of `sha` to `refs/heads/<branch>` of `repository` (clone URL: `cloneUrl`). */
export function githubPush(options: {
  repository: string;
  cloneUrl: string;
  sha: string;
  before?: string;
  branch?: string;
  deliveryId?: string;
  secret?: string;
  files?: string[];
}): { headers: Record<string, string>; body: string; deliveryId: string } {
  const branch = options.branch ?? 'main';
  const [owner, name] = options.repository.split('/') as [string, string];
  const deliveryId = options.deliveryId ?? randomUUID();
  const payload = {
    ref: `refs/heads/${branch}`,
    before: options.before ?? '0'.repeat(40),
    after: options.sha,
    created: false,
    deleted: false,
    forced: false,
    compare: `https://github.example/${options.repository}/compare`,
    commits: [
      {
        id: options.sha,
        message: 'Change the service',
        timestamp: new Date().toISOString(),
        url: `https://github.example/${options.repository}/commit/${options.sha}`,
        author: { name: 'Test', email: 'test@example.test', username: 'tester' },
        committer: { name: 'Test', email: 'test@example.test', username: 'tester' },
        added: options.files ?? ['service.txt'],
        removed: [],
        modified: [],
      },
    ],
    head_commit: {
      id: options.sha,
      message: 'Change the service',
      timestamp: new Date().toISOString(),
      url: `https://github.example/${options.repository}/commit/${options.sha}`,
      author: { name: 'Test', email: 'test@example.test', username: 'tester' },
      committer: { name: 'Test', email: 'test@example.test', username: 'tester' },
      added: options.files ?? ['service.txt'],
      removed: [],
      modified: [],
    },
    repository: {
      id: 1,
      name,
      full_name: options.repository,
      owner: { login: owner, name: owner },
      private: false,
      html_url: `https://github.example/${options.repository}`,
      clone_url: options.cloneUrl,
      default_branch: 'main',
      master_branch: 'main',
    },
    pusher: { name: 'tester', email: 'test@example.test' },
    sender: { login: 'tester', id: 2, type: 'User' },
  };
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', options.secret ?? SECRET)
    .update(body)
    .digest('hex')}`;
  return {
    body,
    deliveryId,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signature,
      'user-agent': 'GitHub-Hookshot/test',
    },
  };
}

/** Sends a delivery to the runtime's webhook route. */
export async function deliver(
  runtime: { url: string },
  delivery: { headers: Record<string, string>; body: string },
  provider = 'github',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${runtime.url}/webhooks/${provider}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls `probe` until it answers something other than undefined, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pipeline configuration of a one-repository test setup. */
export function pipelineConfig(options: {
  repository: string;
  environments?: Record<string, unknown>;
  branchEnvironments?: string[];
  tests?: { name: string; buildspec: string }[];
}): Record<string, unknown> {
  return {
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: options.repository,
        branches: [
          { pattern: 'main', environments: options.branchEnvironments ?? Object.keys(options.environments ?? {}) },
        ],
        build: { buildspec: 'buildspec.yml', imageRepository: options.repository, timeoutMinutes: 5 },
        tests: options.tests ?? [],
        environments: options.environments ?? {},
      },
    ],
  };
}
