import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hostCommitResolver } from '../../../adapters/githost/commits';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { Intake } from '../../../core/intake/intake';
import type { StartRequest } from '../../../core/intake/ports';
import { receive } from '../../../core/intake/receive';
import type { StatusEvent } from '../../../core/status/contracts';
import { reportStatus } from '../../../core/status/report';
import { parseStatusEvent } from '../../../core/status/validate';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { bitbucketDelivery, CONFIG, fixture, SECRETS } from './support';

/**
 * Bitbucket's pull request events carry the source commit abbreviated (`pullrequest.source.commit.hash`, 12 hex
 * digits), and the status step takes only full SHAs: every status of a Bitbucket pull request run was dropped
 * (issue 21, item 1). The intake resolves the commit at the host before the run starts.
 */

const FULL = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
let host: FakeGitHost;
let started: StartRequest[];

function ports(resolve = true) {
  const transport = new HttpHostTransport({
    provider: 'bitbucket',
    baseUrl: host.baseUrl('bitbucket'),
    credential: { scheme: 'none' },
    retries: 1,
    backoff: () => 0,
    sleep: async () => {},
  });
  return {
    secrets: { get: async () => SECRETS },
    workflow: {
      start: async (request: StartRequest) => {
        started.push(request);
        return { outcome: 'started' as const, executionArn: `arn:aws:states:eu-west-1:1:execution:p:${request.name}` };
      },
    },
    parking: { park: async () => {} },
    ...(resolve ? { commits: hostCommitResolver(async () => transport) } : {}),
  };
}

const delivery = () => bitbucketDelivery('pullrequest:created', fixture('bitbucket/pullrequest-created.json'));

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  started = [];
});

describe('a Bitbucket pull request with an abbreviated commit', () => {
  it('starts its run at the full SHA that the commit API gives', async () => {
    // Prepare
    host.addCommit('bitbucket', 'acme/payments', FULL);

    // Act
    const receipt = await receive(new Intake(CONFIG), delivery(), ports());

    // Assess
    expect(receipt.status).toBe(202);
    expect(host.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/repositories/acme/payments/commit/1a2b3c4d5e6f'],
    ]);
    const input = started[0]!.input;
    expect(input.request.commit.sha).toBe(FULL);
    expect(input.request.pullRequest?.head.sha).toBe(FULL);
    expect(JSON.parse(started[0]!.inputJson!).request.commit.sha).toBe(FULL);
  });

  it("gets its statuses: the run's status event is valid and posts to the full commit", async () => {
    // Prepare
    host.addCommit('bitbucket', 'acme/payments', FULL);
    await receive(new Intake(CONFIG), delivery(), ports());
    const { request, route } = started[0]!.input;
    const event: StatusEvent = {
      request,
      route,
      executionArn: 'arn:aws:states:eu-west-1:1:execution:p:x',
      step: 'pipeline',
      state: 'pending',
    };

    // Act
    const result = await reportStatus(parseStatusEvent(event), {
      transport: new HttpHostTransport({
        provider: 'bitbucket',
        baseUrl: host.baseUrl('bitbucket'),
        credential: { scheme: 'basic', username: 'ci', password: 'app-password' },
      }),
      links: null,
    });

    // Assess
    expect(result).toMatchObject({ sha: FULL, failed: 0 });
    expect(result.delivered).toBeGreaterThan(0);
    expect([...host.latest('bitbucket', 'acme/payments', FULL).keys()]).toContain('stepline');
  });

  it('answers 503 when the host cannot be asked, so that the delivery is sent again', async () => {
    // Prepare
    host.enqueue({ status: 502 }, { provider: 'bitbucket', method: 'GET' });
    host.enqueue({ status: 502 }, { provider: 'bitbucket', method: 'GET' });

    // Act
    const receipt = await receive(new Intake(CONFIG), delivery(), ports());

    // Assess
    expect(receipt.status).toBe(503);
    expect(receipt.outcomes[0]).toMatchObject({ kind: 'failed' });
    expect(started).toEqual([]);
  });

  it('starts nothing, and says why, when the host does not know the commit', async () => {
    // Act
    const receipt = await receive(new Intake(CONFIG), delivery(), ports());

    // Assess
    expect(receipt).toMatchObject({ status: 202, body: { status: 'ignored', code: 'event_not_handled' } });
    expect(String((receipt.body as { reason: string }).reason)).toMatch(/1a2b3c4d5e6f is not in acme\/payments/);
    expect(started).toEqual([]);
  });

  it('asks nothing for a commit that is whole already (a push)', async () => {
    // Act
    const receipt = await receive(
      new Intake(CONFIG),
      bitbucketDelivery('repo:push', fixture('bitbucket/repo-push.json')),
      ports(),
    );

    // Assess
    expect(receipt.status).toBe(202);
    expect(host.requests).toEqual([]);
  });
});
