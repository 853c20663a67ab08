import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { subjectOf } from '../../../core/status/plan';
import { reportStatus } from '../../../core/status/report';
import { deliver } from '../../../core/status/reporter';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../support/githost/fixtures';

/**
 * Where a GitLab status goes: a merge request from a fork reports to the fork, "the commit in the merge request's
 * source branch" (GitLab's Commits API, "Set the pipeline status of a commit"; issue 21, item 2), and a short ref
 * that names both a branch and a tag is sent again in full (issue 21, item 4).
 */

const links = new ConsoleLinks({ kind: 'local', baseUrl: 'http://127.0.0.1:8080' });
let host: FakeGitHost;

const transport = () =>
  new HttpHostTransport({
    provider: 'gitlab',
    baseUrl: host.baseUrl('gitlab'),
    credential: { scheme: 'private-token', token: 'glpat-test' },
    backoff: () => 0,
    sleep: async () => {},
  });

function mergeRequest(fork: boolean): StatusEvent['request'] {
  return pipelineRequest('gitlab', {
    event: 'Merge Request Hook',
    ref: { name: 'fix-typo', fullName: 'refs/merge-requests/7/head', kind: 'branch' },
    pullRequest: {
      number: 7,
      action: 'opened',
      title: 'Fix a typo',
      url: null,
      base: { ref: 'main', sha: null },
      head: { ref: 'fix-typo', sha: SHA, repository: fork ? 'contributor/shop' : 'acme/platform/shop' },
      fork,
    },
  });
}

function event(request: StatusEvent['request'], overrides: Partial<StatusEvent> = {}): StatusEvent {
  return {
    request,
    route: route({ environments: [], trigger: 'pull_request' }),
    executionArn: EXECUTION_ARN,
    step: 'build',
    state: 'running',
    ...overrides,
  };
}

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe('a GitLab merge request from a fork', () => {
  it("posts to the fork, the merge request's source project, with its source branch", async () => {
    // Act
    const result = await reportStatus(event(mergeRequest(true)), { transport: transport(), links });

    // Assess
    expect(result).toMatchObject({ repository: 'contributor/shop', delivered: 1, failed: 0 });
    expect(host.requests.map((r) => r.path)).toEqual([`/projects/contributor%2Fshop/statuses/${SHA}`]);
    expect(host.requests[0]?.body).toMatchObject({ ref: 'fix-typo', name: 'stepline/build' });
  });

  it('closes what is still open on the fork when the run fails', async () => {
    // Prepare
    await reportStatus(event(mergeRequest(true), { step: 'pipeline', state: 'pending' }), {
      transport: transport(),
      links,
    });

    // Act
    await reportStatus(event(mergeRequest(true), { step: 'pipeline', state: 'failure' }), {
      transport: transport(),
      links,
    });

    // Assess
    const open = [...host.latest('gitlab', 'contributor/shop', SHA).values()].filter(
      (s) => s.state === 'pending' || s.state === 'running',
    );
    expect(open).toEqual([]);
    expect(host.statuses('gitlab', 'acme/platform/shop', SHA)).toEqual([]);
  });

  it('posts to the project itself for a merge request between two of its branches', async () => {
    await reportStatus(event(mergeRequest(false)), { transport: transport(), links });
    expect(host.requests.map((r) => r.path)).toEqual([`/projects/acme%2Fplatform%2Fshop/statuses/${SHA}`]);
  });

  it('posts to the project when the fork is gone', () => {
    const request = mergeRequest(true);
    const gone = {
      ...request,
      pullRequest: { ...request.pullRequest!, head: { ...request.pullRequest!.head, repository: '(deleted fork)' } },
    };
    expect(subjectOf(gone).repository).toBe('acme/platform/shop');
  });
});

describe('a GitLab ref that is both a branch and a tag', () => {
  it('sends the full ref once GitLab calls the short one ambiguous, and keeps it for the rest of the report', async () => {
    // Prepare
    host.ambiguousGitLabRef('acme/platform/shop', 'v1.2');
    const request = pipelineRequest('gitlab', { ref: { name: 'v1.2', fullName: 'refs/tags/v1.2', kind: 'tag' } });

    // Act
    const result = await reportStatus(event(request, { step: 'pipeline', state: 'pending' }), {
      transport: transport(),
      links,
    });

    // Assess
    expect(result.failed).toBe(0);
    const refs = host.requests.filter((r) => r.method === 'POST').map((r) => (r.body as { ref: string }).ref);
    expect(refs).toEqual(['v1.2', 'refs/tags/v1.2', ...Array(refs.length - 2).fill('refs/tags/v1.2')]);
    expect(
      [...host.latest('gitlab', 'acme/platform/shop', SHA).values()].every((s) => s.ref === 'refs/tags/v1.2'),
    ).toBe(true);
  });

  it('reads the full ref when the subject does not carry it (a build event)', async () => {
    // Prepare
    host.ambiguousGitLabRef('acme/platform/shop', 'v1.2');
    const subject = {
      provider: 'gitlab' as const,
      repository: 'acme/platform/shop',
      sha: SHA,
      ref: 'v1.2',
      pullRequest: null,
    };
    const plan = {
      updates: [{ context: 'stepline/build', state: 'running' as const, description: 'building', targetUrl: null }],
      deployment: null,
      closeOpen: null,
      onlyIfOpen: false,
    };

    // Act
    const result = await deliver(subject, plan, transport(), {
      executionArn: EXECUTION_ARN,
      contextPrefix: 'stepline',
      fullRef: async () => 'refs/tags/v1.2',
    });

    // Assess
    expect(result).toMatchObject({ delivered: 1, failed: 0 });
    expect(host.latest('gitlab', 'acme/platform/shop', SHA).get('stepline/build')?.ref).toBe('refs/tags/v1.2');
  });

  it('keeps the short ref where GitLab takes it', async () => {
    const request = pipelineRequest('gitlab', { ref: { name: 'v1.2', fullName: 'refs/tags/v1.2', kind: 'tag' } });
    await reportStatus(event(request), { transport: transport(), links });
    expect(host.requests[0]?.body).toMatchObject({ ref: 'v1.2' });
  });
});
