import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import type { Provider } from '../../../core/config/schema';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks, executionNameOf } from '../../../core/status/links';
import { reportStatus } from '../../../core/status/report';
import { createRunLinkHandler } from '../../../functions/status/run-link/handler';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { pipelineRequest, route } from '../../support/githost/fixtures';

/**
 * GitLab refuses a `target_url` over 255 characters ("Must be 255 characters or fewer", GitLab's Commits API), and
 * an AWS console link passes that with an 80-character execution name, a long stack name or a long region
 * (issue 21, item 3). Such a status links through the platform's redirect route, or goes without a link.
 */

const MACHINE = 'arn:aws:states:ap-southeast-2:123456789012:stateMachine:stepline-production-platform-pipeline';
const NAME = `acme-platform-shop-${'0123456789abcdef'.repeat(4)}-a1b2c3d4e`.slice(0, 80);
const EXECUTION_ARN = `arn:aws:states:ap-southeast-2:123456789012:execution:stepline-production-platform-pipeline:${NAME}`;
const RUN_LINKS = 'https://abcdef1234.execute-api.ap-southeast-2.amazonaws.com';

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

function event(provider: Provider): StatusEvent {
  return {
    request: pipelineRequest(provider),
    route: route(),
    executionArn: EXECUTION_ARN,
    step: 'deploy',
    environment: 'staging',
    state: 'running',
  };
}

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe('links longer than a host takes', () => {
  it('is a console link over 255 characters in the case the issue names', () => {
    const link = new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }).execution(EXECUTION_ARN);
    expect(NAME).toHaveLength(80);
    expect(link.length).toBeGreaterThan(255);
  });

  it('links a GitLab status through the run link when the console link is too long', async () => {
    // Prepare
    const links = new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }, { runLinkBaseUrl: `${RUN_LINKS}/` });

    // Act
    const result = await reportStatus(event('gitlab'), { transport: transport('gitlab'), links });

    // Assess
    expect(result).toMatchObject({ delivered: 1, failed: 0 });
    expect(host.requests[0]?.body).toMatchObject({ target_url: `${RUN_LINKS}/runs/${NAME}` });
  });

  it('posts a GitLab status without a link when there is no run link to fall back on', async () => {
    // Act
    const result = await reportStatus(event('gitlab'), {
      transport: transport('gitlab'),
      links: new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }),
    });

    // Assess
    expect(result).toMatchObject({ delivered: 1, failed: 0 });
    expect(host.requests[0]?.body).not.toHaveProperty('target_url');
  });

  it('keeps the console link where the host has no such limit (GitHub)', async () => {
    // Act
    const links = new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }, { runLinkBaseUrl: RUN_LINKS });
    await reportStatus(event('github'), { transport: transport('github'), links });

    // Assess
    expect(host.requests[0]?.body).toMatchObject({ target_url: links.execution(EXECUTION_ARN) });
  });
});

describe('the run link route', () => {
  const handler = createRunLinkHandler({
    stateMachineArn: MACHINE,
    links: new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }),
  });

  it("redirects a run's name to its execution's page in the console", async () => {
    // Act
    const answer = await handler({ pathParameters: { name: NAME } } as never);

    // Assess
    expect(answer.statusCode).toBe(302);
    expect(answer.headers?.['location']).toBe(
      new ConsoleLinks({ kind: 'aws', region: 'ap-southeast-2' }).execution(EXECUTION_ARN),
    );
    expect(executionNameOf(EXECUTION_ARN)).toBe(NAME);
  });

  it.each(['', 'a/b', 'x'.repeat(81), 'name with spaces'])(
    'answers 404 for a name that is no execution name: %j',
    async (name) => {
      const answer = await handler({ pathParameters: { name } } as never);
      expect(answer.statusCode).toBe(404);
    },
  );
});
