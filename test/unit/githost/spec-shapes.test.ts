import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import type { Provider } from '../../../core/config/schema';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { reportStatus } from '../../../core/status/report';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { pipelineRequest, route, SHA } from '../../support/githost/fixtures';
import { allSpecFindings, specFindings } from '../../support/githost/specs';

/**
 * Every request the status code sends, across a run's events on each host, checked against the host's own
 * description (test/support/githost/specs): GitHub's OpenAPI request bodies, GitLab's and Bitbucket's REST
 * documentation (issue 21). The events include the cases the issue found non-conforming: a GitLab link over 255
 * characters, a GitLab merge request from a fork, a ref GitLab calls ambiguous.
 */

const NAME = `acme-platform-shop-${'0123456789abcdef'.repeat(4)}-a1b2c3d4e`.slice(0, 80);
const ARN = `arn:aws:states:ap-southeast-2:123456789012:execution:stepline-production-platform-pipeline:${NAME}`;
const links = new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' });
let host: FakeGitHost;

function transport(provider: Provider): HttpHostTransport {
  return new HttpHostTransport({
    provider,
    baseUrl: host.baseUrl(provider),
    credential: { scheme: 'bearer', token: 't0ken' },
    backoff: () => 0,
    sleep: async () => {},
  });
}

/** A run's events, start to end, as the workflow and the approval function send them. */
function run(request: StatusEvent['request']): StatusEvent[] {
  const base = { request, route: route(), executionArn: ARN };
  return [
    { ...base, step: 'pipeline', state: 'pending' },
    {
      ...base,
      step: 'build',
      state: 'running',
      detail: { phase: 'BUILD', logUrl: `https://logs.example.test/${'x'.repeat(300)}` },
    },
    { ...base, step: 'build', state: 'success' },
    {
      ...base,
      step: 'test',
      suite: 'unit',
      state: 'failure',
      detail: { phase: 'BUILD', exitCode: 1, reason: 'é'.repeat(400) },
    },
    { ...base, step: 'deploy', environment: 'staging', state: 'running' },
    { ...base, step: 'deploy', environment: 'staging', state: 'success' },
    {
      ...base,
      step: 'approval',
      environment: 'production',
      state: 'pending',
      detail: { approval: { outcome: 'waiting', url: 'https://approvals.example.test/a/1' } },
    },
    {
      ...base,
      step: 'pipeline',
      state: 'failure',
      detail: { failedStep: { step: 'test', suite: 'unit' }, finished: [{ step: 'build', state: 'success' }] },
    },
    { ...base, executionArn: null, step: 'pipeline', state: 'skipped', detail: { reason: 'no changes under api/**' } },
  ];
}

const forkMergeRequest = pipelineRequest('gitlab', {
  pullRequest: {
    number: 7,
    action: 'opened',
    title: 'Fix a typo',
    url: null,
    base: { ref: 'main', sha: null },
    head: { ref: 'fix-typo', sha: SHA, repository: 'contributor/shop' },
    fork: true,
  },
});

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe("the requests' shapes, by each host's description", () => {
  it.each<[string, Provider, StatusEvent['request']]>([
    ['GitHub, a push', 'github', pipelineRequest('github')],
    ['GitLab, a push whose ref is both a branch and a tag', 'gitlab', pipelineRequest('gitlab')],
    ['GitLab, a merge request from a fork', 'gitlab', forkMergeRequest],
    ['Bitbucket, a push', 'bitbucket', pipelineRequest('bitbucket')],
  ])('conform for a whole run: %s', async (_, provider, request) => {
    // Prepare
    host.ambiguousGitLabRef('acme/platform/shop', 'main');

    // Act
    for (const event of run(request)) await reportStatus(event, { transport: transport(provider), links });

    // Assess
    expect(host.requests.filter((r) => r.method !== 'GET').length).toBeGreaterThan(10);
    expect(allSpecFindings(host.requests)).toEqual([]);
  });

  it('finds what a host refuses: a GitLab link over 255 characters, an abbreviated Bitbucket commit', () => {
    const gitlab = specFindings({
      provider: 'gitlab',
      method: 'POST',
      path: `/projects/acme%2Fshop/statuses/${SHA}`,
      query: {},
      headers: {},
      body: { state: 'running', ref: 'main', target_url: `https://x.test/${'y'.repeat(250)}` },
    });
    const bitbucket = specFindings({
      provider: 'bitbucket',
      method: 'POST',
      path: '/repositories/acme/shop/commit/1a2b3c4d5e6f/statuses/build',
      query: {},
      headers: {},
      body: { key: 'stepline', state: 'INPROGRESS', url: 'https://x.test' },
    });
    expect(gitlab.join('\n')).toMatch(/target_url must NOT have more than 255 characters/);
    expect(bitbucket.join('\n')).toMatch(/\{commit\} "1a2b3c4d5e6f"/);
  });
});
