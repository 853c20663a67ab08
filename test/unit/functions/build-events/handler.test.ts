import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import type { Provider } from '../../../../core/config/schema';
import type { CodeBuildEvent, CodeBuildEventPhase } from '../../../../core/status/contracts';
import { createBuildEventsHandler } from '../../../../functions/build-events/handler';
import { type FakeGitHost, startFakeGitHost } from '../../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';

let host: FakeGitHost;
let described: string[];
const LOGS = 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/aws/codebuild/shop';

function handler() {
  return createBuildEventsHandler({
    transportFor: async (provider: Provider) =>
      new HttpHostTransport({
        provider,
        baseUrl: host.baseUrl(provider),
        credential: { scheme: 'private-token', token: 'glpat-x' },
        backoff: () => 0,
        sleep: async () => {},
      }),
    links: null,
    contextPrefix: 'stepline',
    readExecutionInput: async (arn) => {
      described.push(arn);
      return { request: pipelineRequest('gitlab'), route: route() };
    },
  });
}

function variables(extra: Record<string, string> = {}) {
  return Object.entries({
    STEPLINE_EXECUTION_ARN: EXECUTION_ARN,
    STEPLINE_STEP: 'build',
    STEPLINE_PROVIDER: 'gitlab',
    STEPLINE_REPOSITORY: 'acme/platform/shop',
    STEPLINE_COMMIT: SHA,
    STEPLINE_REF: 'main',
    ...extra,
  }).map(([name, value]) => ({ name, type: 'PLAINTEXT', value }));
}

function phaseChange(
  completed: string,
  status: string,
  options: { vars?: ReturnType<typeof variables>; phases?: CodeBuildEventPhase[]; context?: string } = {},
): CodeBuildEvent {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'CodeBuild Build Phase Change',
    source: 'aws.codebuild',
    time: '2030-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:codebuild:eu-west-1:123456789012:build/shop:1'],
    detail: {
      'build-status': 'IN_PROGRESS',
      'project-name': 'shop',
      'build-id': 'arn:aws:codebuild:eu-west-1:123456789012:build/shop:1',
      'completed-phase': completed,
      'completed-phase-status': status,
      'completed-phase-context': options.context ?? '[: ]',
      'additional-information': {
        'build-complete': false,
        environment: { 'environment-variables': options.vars ?? variables() },
        logs: { 'deep-link': LOGS },
        phases: options.phases ?? [],
      },
    },
  };
}

function stateChange(status: string, phases: CodeBuildEventPhase[] = []): CodeBuildEvent {
  const event = phaseChange('COMPLETED', 'SUCCEEDED', { phases });
  return {
    ...event,
    'detail-type': 'CodeBuild Build State Change',
    detail: { ...event.detail, 'build-status': status, 'current-phase': 'COMPLETED', 'completed-phase': undefined },
  };
}

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  described = [];
});

const latest = () => host.latest('gitlab', 'acme/platform/shop', SHA);

describe('functions/build-events', () => {
  it('shows the phase the build has entered, linking to its log', async () => {
    // Act
    await captureStdout(() => handler()(phaseChange('DOWNLOAD_SOURCE', 'SUCCEEDED'), lambdaContext()));

    // Assess
    expect(latest().get('stepline/build')).toMatchObject({
      state: 'running',
      description: 'building: INSTALL',
      targetUrl: LOGS,
      ref: 'main',
    });
    expect(described).toEqual([]);
  });

  it("updates a test suite's context from its build", async () => {
    // Act
    await captureStdout(() =>
      handler()(
        phaseChange('INSTALL', 'SUCCEEDED', { vars: variables({ STEPLINE_STEP: 'test', STEPLINE_SUITE: 'unit' }) }),
        lambdaContext(),
      ),
    );

    // Assess
    expect(latest().get('stepline/test/unit')?.description).toBe('testing unit: PRE_BUILD');
  });

  it('reports the failed phase and exit status, and keeps it failed while later phases run', async () => {
    // Prepare
    const failedBuild: CodeBuildEventPhase = {
      'phase-type': 'BUILD',
      'phase-status': 'FAILED',
      'phase-context': ['COMMAND_EXECUTION_ERROR: Error while executing command: make. Reason: exit status 2'],
    };

    // Act
    await captureStdout(() =>
      handler()(phaseChange('BUILD', 'FAILED', { context: failedBuild['phase-context']![0] }), lambdaContext()),
    );
    await captureStdout(() =>
      handler()(phaseChange('POST_BUILD', 'SUCCEEDED', { phases: [failedBuild] }), lambdaContext()),
    );

    // Assess
    expect(latest().get('stepline/build')).toMatchObject({
      state: 'failed',
      description: 'build failed in phase BUILD: exit 2',
    });
  });

  it('does not turn a finished step back to running when a phase event arrives late', async () => {
    // Prepare
    await captureStdout(() => handler()(stateChange('SUCCEEDED'), lambdaContext()));

    // Act
    const { result } = await captureStdout(() => handler()(phaseChange('BUILD', 'SUCCEEDED'), lambdaContext()));

    // Assess
    expect(latest().get('stepline/build')?.state).toBe('success');
    expect(result).toMatchObject({ delivered: 0, failed: 0 });
  });

  it.each([
    ['SUCCEEDED', 'success', 'image built'],
    ['STOPPED', 'canceled', 'cancelled: build stopped'],
  ])('reports a build that ended %s', async (status, state, description) => {
    await captureStdout(() => handler()(stateChange(status), lambdaContext()));
    expect(latest().get('stepline/build')).toMatchObject({ state, description });
  });

  it("reads the commit from the execution when the build's variables do not carry it", async () => {
    // Prepare
    const vars = variables().filter((v) => v.name !== 'STEPLINE_COMMIT');

    // Act
    await captureStdout(() => handler()(phaseChange('PROVISIONING', 'SUCCEEDED', { vars }), lambdaContext()));

    // Assess
    expect(described).toEqual([EXECUTION_ARN]);
    expect(latest().get('stepline/build')?.description).toBe('building: DOWNLOAD_SOURCE');
  });

  it('ignores builds that no Stepline run started', async () => {
    // Act
    const { result } = await captureStdout(() =>
      handler()(
        phaseChange('INSTALL', 'SUCCEEDED', { vars: [{ name: 'OTHER', type: 'PLAINTEXT', value: 'x' }] }),
        lambdaContext(),
      ),
    );

    // Assess
    expect(result).toEqual({ ignored: 'build has no STEPLINE_EXECUTION_ARN: not started by a Stepline run' });
    expect(host.requests).toHaveLength(0);
  });
});
