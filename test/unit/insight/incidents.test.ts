import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { commitsOf, hostCommitLog, rangeRequest } from '../../../adapters/githost/commit-log';
import { incidentFromIssue, linkIncidents, namedIn } from '../../../core/insight/incidents';
import type { HostRequest, HostResponse, HostTransport } from '../../../core/status/hosts';
import { commit, deploy, incident } from './fixtures';

/** Incidents from Git host issues, what they are attributed to, and the Git hosts' commit answers. */

function githubIssue(action: string): Record<string, unknown> {
  const found = (examples as { name: string; examples: Record<string, unknown>[] }[])
    .find((e) => e.name === 'issues')
    ?.examples.find((e) => e['action'] === action);
  return structuredClone(found as Record<string, unknown>);
}

describe('incidents from issues', () => {
  it('a GitHub issue labelled incident names its root cause, its deploy and its environment', () => {
    // Prepare: GitHub's own example of an `issues` event, labelled and written as an incident report
    const payload = githubIssue('labeled');
    const issue = payload['issue'] as Record<string, unknown>;
    issue['labels'] = [{ name: 'Incident' }];
    issue['title'] = 'Checkout answers 500';
    issue['body'] =
      'environment: production\nroot cause: 1A2B3C4D\ndeploy: acme-shop-1a2b3c4-d1\n' +
      'see arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:acme-shop-9f9f9f9-d2';
    issue['closed_at'] = '2019-05-15T18:20:18Z';

    // Act
    const found = incidentFromIssue('github', payload, 'acme/shop');

    // Assess
    expect(found).toEqual({
      id: 'github:acme/shop#1',
      source: 'issue',
      provider: 'github',
      repository: 'acme/shop',
      environment: 'production',
      title: 'Checkout answers 500',
      openedAt: '2019-05-15T15:20:18.000Z',
      resolvedAt: '2019-05-15T18:20:18.000Z',
      commits: ['1a2b3c4d'],
      executions: ['acme-shop-9f9f9f9-d2', 'acme-shop-1a2b3c4-d1'],
    });
  });

  it('an issue without the label is not an incident', () => {
    expect(incidentFromIssue('github', githubIssue('labeled'), 'acme/shop')).toBeNull();
  });

  it('a GitLab issue hook, with its dates as GitLab writes them', () => {
    // Prepare
    const payload = {
      object_kind: 'issue',
      object_attributes: {
        iid: 23,
        title: 'Payments down',
        description: 'root cause: abcdef1',
        created_at: '2030-01-02 10:00:00 UTC',
        closed_at: null,
      },
      labels: [{ title: 'incident' }],
    };
    // Act
    const found = incidentFromIssue('gitlab', payload, 'acme/platform/shop');
    // Assess
    expect(found).toMatchObject({
      id: 'gitlab:acme/platform/shop#23',
      openedAt: '2030-01-02T10:00:00.000Z',
      resolvedAt: null,
    });
    expect(found?.commits).toEqual(['abcdef1']);
  });

  it('reads commit links and "commit <sha>" too, and nothing from a bare word', () => {
    expect(namedIn('see https://github.com/acme/shop/commit/abcdef1234 and commit 1234567; facade')).toMatchObject({
      commits: ['abcdef1234', '1234567'],
    });
  });
});

describe('what incidents are attributed to', () => {
  it('the latest successful deploy before it opened that carried the commit it names', () => {
    // Prepare: abc1 reached staging, then production; the incident opened after both
    const staging = deploy('staging', '2030-01-01T10:00:00Z', 'abc1', {
      commits: [commit('abc1', '2030-01-01T09:00:00Z')],
    });
    const production = deploy('production', '2030-01-01T12:00:00Z', 'abc2', {
      commits: [commit('abc2', '2030-01-01T11:00:00Z'), commit('abc1', '2030-01-01T09:00:00Z')],
    });
    const later = deploy('production', '2030-01-03T12:00:00Z', 'abc3');
    const opened = incident('i1', '2030-01-02T00:00:00Z', null, { commits: ['abc1000'] });

    // Act
    const linked = linkIncidents([staging, production, later], [opened]);

    // Assess
    expect([...linked.keys()]).toEqual([production]);
  });

  it('by its execution, or else to its environment’s latest deploy; never to a failed one', () => {
    const good = deploy('production', '2030-01-01T10:00:00Z', 'a1', { execution: 'run-7' });
    const bad = deploy('production', '2030-01-01T11:00:00Z', 'a2', { failed: 'rolled-back' });
    const byRun = incident('i1', '2030-01-02T00:00:00Z', null, { executions: ['run-7'] });
    const byEnvironment = incident('i2', '2030-01-02T00:00:00Z', null, { environment: 'production' });
    const byNothing = incident('i3', '2030-01-02T00:00:00Z', null);

    const linked = linkIncidents([good, bad], [byRun, byEnvironment, byNothing]);

    expect(linked.get(good)?.map((i) => i.id)).toEqual(['i1', 'i2']);
    expect(linked.has(bad)).toBe(false);
  });
});

/** A Git host answering as its documentation shows, for the commit log's requests. */
function host(
  provider: 'github' | 'gitlab' | 'bitbucket',
  answer: (request: HostRequest) => HostResponse,
): HostTransport {
  return { provider, send: async (request) => answer(request) };
}

describe('the Git hosts’ commit answers', () => {
  const H = 'b'.repeat(40);
  const B = 'a'.repeat(40);

  it('asks each host for the range, or the head alone', () => {
    expect(rangeRequest('github', { repository: 'acme/shop', base: B, head: H }).path).toBe(
      `/repos/acme/shop/compare/${B}...${H}`,
    );
    expect(rangeRequest('gitlab', { repository: 'acme/platform/shop', base: B, head: H })).toEqual({
      method: 'GET',
      path: '/projects/acme%2Fplatform%2Fshop/repository/compare',
      query: { from: B, to: H },
    });
    expect(rangeRequest('bitbucket', { repository: 'acme/shop', base: B, head: H })).toMatchObject({
      path: `/repositories/acme/shop/commits/${H}`,
      query: { exclude: B },
    });
    expect(rangeRequest('bitbucket', { repository: 'acme/shop', base: null, head: H }).path).toBe(
      `/repositories/acme/shop/commit/${H}`,
    );
  });

  it('reads the commits newest first, with their committer dates', () => {
    const github = {
      commits: [
        { sha: 'C1', commit: { committer: { date: '2030-01-01T00:00:00Z' } } },
        { sha: H, commit: { committer: { date: '2030-01-02T00:00:00+02:00' } } },
      ],
    };
    expect(commitsOf('github', github, true)).toEqual([
      { sha: H, time: '2030-01-01T22:00:00.000Z' },
      { sha: 'c1', time: '2030-01-01T00:00:00.000Z' },
    ]);
    expect(commitsOf('gitlab', { id: H, committed_date: '2030-01-01T00:00:00.000Z' }, false)).toEqual([
      { sha: H, time: '2030-01-01T00:00:00.000Z' },
    ]);
    expect(commitsOf('bitbucket', { values: [{ hash: H, date: '2030-01-01T00:00:00+00:00' }] }, true)).toHaveLength(1);
  });

  it('cannot tell when the host refuses, or answers without the deployed commit', async () => {
    const refused = hostCommitLog(async () => host('github', () => ({ status: 404, body: { message: 'Not Found' } })));
    const other = hostCommitLog(async () =>
      host('gitlab', () => ({ status: 200, body: { commits: [{ id: B, committed_date: '2030-01-01T00:00:00Z' }] } })),
    );
    const range = { repository: 'acme/shop', cloneUrl: 'https://example.test/x.git', base: B, head: H };
    expect(await refused.between({ provider: 'github', ...range })).toBeNull();
    expect(await other.between({ provider: 'gitlab', ...range })).toBeNull();
  });
});
