import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import type { Provider } from '../../../../core/config/schema';
import { ConsoleLinks } from '../../../../core/status/links';
import { createStatusHandler } from '../../../../functions/status/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext, metricValues } from '../../../support/githost/lambda';

const TOKEN = 'ghp_TOPSECRETtopsecret000000000000000';
let host: FakeGitHost;

function handler() {
  return createStatusHandler({
    transportFor: async (provider: Provider) =>
      new HttpHostTransport({
        provider,
        baseUrl: host.baseUrl(provider),
        credential: { scheme: 'bearer', token: TOKEN },
        backoff: () => 0,
        sleep: async () => {},
      }),
    links: new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' }),
    contextPrefix: 'stepline',
  });
}

beforeAll(async () => {
  host = await startFakeGitHost({ expectAuth: { github: { header: 'authorization', value: `Bearer ${TOKEN}` } } });
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe('functions/status', () => {
  it("posts the step's status and answers with what was delivered", async () => {
    // Act
    const { result, lines } = await captureStdout(() =>
      handler()(
        {
          request: pipelineRequest('github'),
          route: route(),
          executionArn: EXECUTION_ARN,
          step: 'build',
          state: 'failure',
          detail: { phase: 'BUILD', exitCode: 2 },
        },
        lambdaContext(),
      ),
    );

    // Assess
    expect(result).toMatchObject({ provider: 'github', delivered: 1, failed: 0 });
    expect(host.latest('github', 'acme/shop', SHA).get('stepline/build')).toMatchObject({
      state: 'failure',
      description: 'build failed in phase BUILD: exit 2',
    });
    expect(metricValues(lines, 'StatusDelivered')).toEqual([1]);
  });

  it('succeeds, logs and counts when the host cannot take the status, never logging the token', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) host.enqueue({ status: 502 });

    // Act
    const { result, lines } = await captureStdout(() =>
      handler()(
        {
          request: pipelineRequest('github'),
          route: route(),
          executionArn: EXECUTION_ARN,
          step: 'pipeline',
          state: 'running',
        },
        lambdaContext(),
      ),
    );

    // Assess
    expect(result).toMatchObject({ failed: 1, delivered: 0 });
    expect(metricValues(lines, 'StatusDeliveryFailed')).toEqual([1]);
    const warning = lines.find((line) => line.includes('status not delivered'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 'WARN', context: 'stepline', httpStatus: 502 });
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('answers an event it cannot read with the reason, without throwing', async () => {
    // Act
    const { result } = await captureStdout(() =>
      handler()(
        {
          request: pipelineRequest('github'),
          route: route(),
          executionArn: EXECUTION_ARN,
          step: 'test',
          state: 'running',
        },
        lambdaContext(),
      ),
    );

    // Assess
    expect(result).toEqual({ ignored: 'invalid status event: suite: is required for step "test"' });
    expect(host.requests).toHaveLength(0);
  });
});
