import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/parse';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { bitbucketDelivery, fixture, gitlabDelivery, type Loose } from '../../unit/intake/support';
import { sampleFiles } from './sample';
import { deliver, gitRepository, removeDir, SECRET, startTestRuntime, waitFor } from './support';

/**
 * A Bitbucket pull request and a GitLab merge request from a fork, end to end on the local runtime (issue 21): the
 * delivery, the run, its builds, and the statuses the real status functions post to the local Git host sink.
 *
 * - Bitbucket gives the pull request's commit abbreviated: the runtime's webhook route resolves it before the run
 *   starts, with the local resolver (git, in the repository the builds clone).
 * - GitLab's merge request from a fork goes through the runtime's webhook route; its statuses go to the fork, a
 *   project in a group, through the sink's URL-encoded project paths.
 */

const BITBUCKET = 'acme/payments';
const GITLAB = 'acme/platform/billing';
const FORK = 'contributor/billing';

let runtime: Runtime;
const folders: string[] = [];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

async function ended(executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    60_000,
  );
}

function latest(provider: 'bitbucket' | 'gitlab', repository: string, sha: string): Record<string, string> {
  return Object.fromEntries(runtime.stores.statuses.latest(provider, repository, sha).map((s) => [s.context, s.state]));
}

const CONFIG = validateConfig(
  {
    version: 1,
    repositories: [BITBUCKET, GITLAB].map((name) => ({
      provider: name === BITBUCKET ? 'bitbucket' : 'gitlab',
      name,
      branches: [{ pattern: 'main' }],
      pullRequests: {},
      build: { buildspec: 'buildspec.yml', imageRepository: name.split('/').at(-1), timeoutMinutes: 5 },
      tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
    })),
  },
  'the pull request test configuration',
);

interface Run {
  readonly sha: string;
  readonly execution: ExecutionRecord;
}

/** Only the headers a delivery carries, as fetch takes them. */
function headersOf(signed: { headers: Readonly<Record<string, string | undefined>> }): Record<string, string> {
  return Object.fromEntries(
    Object.entries(signed.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** The Bitbucket pull request, through the runtime's webhook route; its run. */
async function bitbucketPullRequest(): Promise<Run> {
  // A repository with the pull request's branch; Bitbucket's clone URL is the repository's page and ".git".
  const repo = gitRepository(sampleFiles());
  folders.push(repo.dir, `${repo.dir}.git`);
  symlinkSync(repo.dir, `${repo.dir}.git`);
  git(repo.dir, 'checkout', '--quiet', '-b', 'feature/partial-refunds');
  const sha = repo.commit({ 'refunds.txt': 'partial\n' }, 'Partial refunds');
  const payload = fixture('bitbucket/pullrequest-created.json') as Loose;
  payload.repository.links.html.href = pathToFileURL(repo.dir).href;
  payload.pullrequest.source.commit.hash = sha.slice(0, 12);
  const signed = bitbucketDelivery('pullrequest:created', payload, { secret: SECRET });
  const answer = await deliver(
    runtime,
    { headers: headersOf(signed), body: signed.body.toString('utf8') },
    'bitbucket',
  );
  expect(answer).toMatchObject({ status: 202, body: { status: 'started' } });
  return { sha, execution: await ended(answer.body['executionArn'] as string) };
}

/** The GitLab merge request from a fork, through the runtime's webhook route; its run. */
async function gitlabForkMergeRequest(): Promise<Run> {
  // The merge request's commit, as GitLab keeps it in the target project (refs/merge-requests/<iid>/head).
  const repo = gitRepository(sampleFiles());
  folders.push(repo.dir);
  const sha = repo.commit({ 'search.txt': 'faster\n' }, 'Use the new search index');
  const payload = fixture('gitlab/merge-request-open.json') as Loose;
  payload.project.path_with_namespace = GITLAB;
  payload.project.git_http_url = repo.dir;
  const attributes = payload.object_attributes;
  attributes.source_project_id = 99;
  attributes.source = { ...attributes.source, path_with_namespace: FORK, git_http_url: repo.dir };
  attributes.last_commit.id = sha;
  const signed = gitlabDelivery('Merge Request Hook', payload, { secret: SECRET });
  const answer = await deliver(runtime, { headers: headersOf(signed), body: signed.body.toString('utf8') }, 'gitlab');
  expect(answer).toMatchObject({ status: 202, body: { status: 'started' } });
  return { sha, execution: await ended(answer.body['executionArn'] as string) };
}

let bitbucket: Run;
let gitlab: Run;

beforeAll(async () => {
  runtime = await startTestRuntime({ config: CONFIG });
  // The two runs go side by side: each waits mostly on its builds.
  [bitbucket, gitlab] = await Promise.all([bitbucketPullRequest(), gitlabForkMergeRequest()]);
}, 120_000);

afterAll(async () => {
  await runtime.stop();
  removeDir(runtime.stateDir);
  for (const dir of folders) removeDir(dir);
});

describe('a Bitbucket pull request', () => {
  it('runs at the full commit SHA to SUCCEEDED', () => {
    const { execution } = bitbucket;
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
    expect(JSON.parse(execution.input).request.commit.sha).toBe(bitbucket.sha);
  });

  it('posts its statuses to the full commit, each one passed, with the source branch', () => {
    expect(latest('bitbucket', BITBUCKET, bitbucket.sha)).toEqual({
      stepline: 'SUCCESSFUL',
      'stepline/build': 'SUCCESSFUL',
      'stepline/test/unit': 'SUCCESSFUL',
    });
    const refnames = runtime.stores.statuses.latest('bitbucket', BITBUCKET, bitbucket.sha).map((s) => s.ref);
    expect(new Set(refnames)).toEqual(new Set(['feature/partial-refunds']));
  });
});

describe('a GitLab merge request from a fork', () => {
  it('runs to SUCCEEDED', () => {
    const { execution } = gitlab;
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  });

  it("posts its statuses to the fork, the merge request's source project, with the source branch", () => {
    expect(latest('gitlab', FORK, gitlab.sha)).toEqual({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/test/unit': 'success',
    });
    const refs = runtime.stores.statuses.latest('gitlab', FORK, gitlab.sha).map((s) => s.ref);
    expect(new Set(refs)).toEqual(new Set(['feature/faster-search']));
    expect(runtime.stores.statuses.latest('gitlab', GITLAB, gitlab.sha)).toEqual([]);
  });
});
