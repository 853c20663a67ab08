import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import { gitHostSettings, transportFor } from '../../../adapters/githost/settings';
import { StaticTokenSource } from '../../../adapters/githost/tokens';
import type { Provider } from '../../../core/config/schema';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { reportStatus } from '../../../core/status/report';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../support/githost/fixtures';

const links = new ConsoleLinks({ kind: 'local', baseUrl: 'http://127.0.0.1:8080' });
const RUN_URL = `http://127.0.0.1:8080/executions/${EXECUTION_ARN}`;
let host: FakeGitHost;

function transport(provider: Provider) {
  return new HttpHostTransport({
    provider,
    baseUrl: host.baseUrl(provider),
    credential: { scheme: 'bearer', token: 't0ken' },
    backoff: () => 0,
    sleep: async () => {},
  });
}

function event(provider: Provider, overrides: Partial<StatusEvent>): StatusEvent {
  return {
    request: pipelineRequest(provider),
    route: route(),
    executionArn: EXECUTION_ARN,
    step: 'pipeline',
    state: 'pending',
    ...overrides,
  };
}

const REPO: Record<Provider, string> = { github: 'acme/shop', gitlab: 'acme/platform/shop', bitbucket: 'acme/shop' };

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe("posting a step's status", () => {
  it.each<[Provider, string, string, Record<string, unknown>]>([
    [
      'github',
      'POST',
      `/repos/acme/shop/statuses/${SHA}`,
      { state: 'pending', context: 'stepline/build', description: 'building: INSTALL', target_url: RUN_URL },
    ],
    [
      'gitlab',
      'POST',
      `/projects/acme%2Fplatform%2Fshop/statuses/${SHA}`,
      { state: 'running', ref: 'main', name: 'stepline/build', description: 'building: INSTALL', target_url: RUN_URL },
    ],
    [
      'bitbucket',
      'POST',
      `/repositories/acme/shop/commit/${SHA}/statuses/build`,
      {
        key: 'stepline-build',
        state: 'INPROGRESS',
        name: 'stepline/build',
        description: 'building: INSTALL',
        url: RUN_URL,
      },
    ],
  ])('posts a running build to %s as %s %s', async (provider, method, path, body) => {
    // Act
    const result = await reportStatus(
      event(provider, { step: 'build', state: 'running', detail: { phase: 'INSTALL' } }),
      {
        transport: transport(provider),
        links,
      },
    );

    // Assess
    expect(host.requests.map((r) => [r.method, r.path])).toEqual([[method, path]]);
    expect(host.requests[0]?.body).toEqual(body);
    expect(result).toMatchObject({ provider, delivered: 1, failed: 0 });
  });

  it('posts every declared context as passed for a skipped run, on each host', async () => {
    for (const provider of ['github', 'gitlab', 'bitbucket'] as const) {
      // Act
      await reportStatus(
        event(provider, { executionArn: null, state: 'skipped', detail: { reason: 'no changes under api/**' } }),
        { transport: transport(provider), links },
      );

      // Assess
      const latest = host.latest(provider, REPO[provider], SHA);
      expect([...latest.keys()]).toEqual([
        'stepline',
        'stepline/build',
        'stepline/test/unit',
        'stepline/test/e2e',
        'stepline/deploy/staging',
        'stepline/deploy/production',
      ]);
      const expected = { github: 'success', gitlab: 'success', bitbucket: 'SUCCESSFUL' }[provider];
      expect([...latest.values()].every((s) => s.state === expected)).toBe(true);
      expect([...latest.values()].every((s) => s.description === 'skipped: no changes under api/**')).toBe(true);
    }
  });

  it("counts GitLab's refusal of pending → pending as already there, not as a failure", async () => {
    // Prepare
    const deps = { transport: transport('gitlab'), links };
    await reportStatus(event('gitlab', { step: 'build', state: 'pending' }), deps);

    // Act
    const again = await reportStatus(event('gitlab', { step: 'build', state: 'pending' }), deps);

    // Assess
    expect(host.requests.at(-1)?.path).toContain('/statuses/');
    expect(again.outcomes).toEqual([
      { context: 'stepline/build', state: 'pending', outcome: 'unchanged', httpStatus: 400 },
    ]);
    expect(again.failed).toBe(0);
  });

  it('reports a host that keeps failing in the result instead of throwing', async () => {
    // Prepare
    for (let i = 0; i < 4; i++) host.enqueue({ status: 503 });

    // Act
    const result = await reportStatus(event('github', { step: 'build', state: 'success' }), {
      transport: transport('github'),
      links,
    });

    // Assess
    expect(result.failed).toBe(1);
    expect(result.outcomes[0]).toMatchObject({ context: 'stepline/build', outcome: 'failed', httpStatus: 503 });
  });

  it('skips a provider without credentials and says why', async () => {
    const result = await reportStatus(event('bitbucket', {}), { transport: null, links });
    expect(result).toMatchObject({ delivered: 0, failed: 0, skippedReason: 'no credentials for bitbucket' });
    expect(host.requests).toHaveLength(0);
  });
});

describe('GitHub deployments', () => {
  it('creates one deployment per run and environment, then adds its statuses', async () => {
    // Prepare
    const deps = { transport: transport('github'), links };

    // Act
    const running = await reportStatus(
      event('github', { step: 'deploy', environment: 'staging', state: 'running' }),
      deps,
    );
    const done = await reportStatus(
      event('github', { step: 'deploy', environment: 'staging', state: 'success' }),
      deps,
    );

    // Assess
    const deployments = host.deployments('acme/shop');
    expect(deployments).toHaveLength(1);
    expect(deployments[0]?.body).toEqual({
      ref: SHA,
      environment: 'staging',
      description: 'deploying to staging',
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      payload: { stepline: { executionArn: EXECUTION_ARN } },
    });
    expect(deployments[0]?.statuses).toEqual([
      {
        state: 'in_progress',
        description: 'deploying to staging',
        environment: 'staging',
        log_url: RUN_URL,
        environment_url: 'https://staging.shop.example.test',
      },
      {
        state: 'success',
        description: 'deployed to staging',
        environment: 'staging',
        log_url: RUN_URL,
        environment_url: 'https://staging.shop.example.test',
      },
    ]);
    expect(running.deploymentId).toBe(deployments[0]?.id);
    expect(done.deploymentId).toBe(deployments[0]?.id);
    expect(host.latest('github', 'acme/shop', SHA).get('stepline/deploy/staging')?.state).toBe('success');
  });

  it("does not reuse another run's deployment of the same commit", async () => {
    // Prepare
    await reportStatus(event('github', { step: 'deploy', environment: 'staging', state: 'running' }), {
      transport: transport('github'),
      links,
    });

    // Act
    await reportStatus(
      event('github', {
        executionArn: `${EXECUTION_ARN}-rerun`,
        step: 'deploy',
        environment: 'staging',
        state: 'running',
      }),
      { transport: transport('github'), links },
    );

    // Assess
    expect(host.deployments('acme/shop')).toHaveLength(2);
  });
});

describe('no commit left pending', () => {
  it.each<Provider>(['github', 'gitlab', 'bitbucket'])(
    'closes the contexts a failed run left open on %s, and leaves finished and foreign ones alone',
    async (provider) => {
      // Prepare
      const deps = { transport: transport(provider), links };
      await reportStatus(event(provider, { step: 'pipeline', state: 'running' }), deps);
      await reportStatus(event(provider, { step: 'build', state: 'success' }), deps);
      await reportStatus(event(provider, { step: 'test', suite: 'unit', state: 'running' }), deps);
      await reportStatus(event(provider, { step: 'test', suite: 'e2e', state: 'running' }), deps);
      await reportStatus(
        event(provider, { step: 'test', suite: 'e2e', state: 'failure', detail: { exitCode: 1 } }),
        deps,
      );
      // Another CI's status on the same commit.
      await deps.transport.send(
        provider === 'github'
          ? {
              method: 'POST',
              path: `/repos/acme/shop/statuses/${SHA}`,
              body: { state: 'pending', context: 'other-ci' },
            }
          : provider === 'gitlab'
            ? {
                method: 'POST',
                path: `/projects/acme%2Fplatform%2Fshop/statuses/${SHA}`,
                body: { state: 'running', name: 'other-ci', ref: 'main' },
              }
            : {
                method: 'POST',
                path: `/repositories/acme/shop/commit/${SHA}/statuses/build`,
                body: { state: 'INPROGRESS', key: 'other-ci', name: 'other-ci', url: 'https://ci.test' },
              },
      );

      // Act
      const result = await reportStatus(
        event(provider, {
          step: 'pipeline',
          state: 'failure',
          detail: { failedStep: { step: 'test', suite: 'e2e' }, exitCode: 1 },
        }),
        deps,
      );

      // Assess
      const latest = host.latest(provider, REPO[provider], SHA);
      const closed = { github: 'error', gitlab: 'canceled', bitbucket: 'STOPPED' }[provider];
      const failed = { github: 'failure', gitlab: 'failed', bitbucket: 'FAILED' }[provider];
      const passed = { github: 'success', gitlab: 'success', bitbucket: 'SUCCESSFUL' }[provider];
      expect(latest.get('stepline')?.state).toBe(failed);
      expect(latest.get('stepline')?.description).toBe('failed at test suite e2e: exit 1');
      expect(latest.get('stepline/build')?.state).toBe(passed);
      expect(latest.get('stepline/test/e2e')?.state).toBe(failed);
      expect(latest.get('stepline/test/unit')?.state).toBe(closed);
      expect(latest.get('stepline/test/unit')?.description).toBe('stopped: run failed at test suite e2e: exit 1');
      expect(latest.get('other-ci')?.state).not.toBe(closed);
      expect(result.failed).toBe(0);
    },
  );

  it.each<Provider>(['github', 'gitlab', 'bitbucket'])(
    "settles on %s the results the final report knows, when the build's own events came late or not at all",
    async (provider) => {
      // Prepare: the run opened every context; the unit suite's success event reached the host, e2e's did not.
      const deps = { transport: transport(provider), links };
      await reportStatus(event(provider, { step: 'pipeline', state: 'pending' }), deps);
      await reportStatus(event(provider, { step: 'build', state: 'running' }), deps);
      await reportStatus(event(provider, { step: 'test', suite: 'unit', state: 'success' }), deps);

      // Act
      const result = await reportStatus(
        event(provider, {
          step: 'pipeline',
          state: 'failure',
          detail: {
            failedStep: { step: 'test', suite: 'e2e' },
            exitCode: 2,
            finished: [
              { step: 'build', state: 'success', logUrl: 'https://logs.test/build' },
              { step: 'test', suite: 'unit', state: 'failure' },
              { step: 'test', suite: 'e2e', state: 'failure', phase: 'BUILD', exitCode: 2 },
            ],
          },
        }),
        deps,
      );

      // Assess
      const latest = host.latest(provider, REPO[provider], SHA);
      const failed = { github: 'failure', gitlab: 'failed', bitbucket: 'FAILED' }[provider];
      const passed = { github: 'success', gitlab: 'success', bitbucket: 'SUCCESSFUL' }[provider];
      const closed = { github: 'error', gitlab: 'canceled', bitbucket: 'STOPPED' }[provider];
      expect(latest.get('stepline/build')?.state).toBe(passed);
      // A result already final on the host stays as it is: the settle only fills what is open.
      expect(latest.get('stepline/test/unit')?.state).toBe(passed);
      expect(latest.get('stepline/test/e2e')?.state).toBe(failed);
      expect(latest.get('stepline/test/e2e')?.description).toBe('suite e2e failed in phase BUILD: exit 2');
      expect(latest.get('stepline/deploy/staging')?.state).toBe(closed);
      expect(result.failed).toBe(0);
    },
  );

  it("closes this run's GitHub deployment that still waits for approval when the run is cancelled", async () => {
    // Prepare
    const deps = { transport: transport('github'), links };
    await reportStatus(
      event('github', {
        step: 'approval',
        environment: 'production',
        state: 'pending',
        detail: { approval: { outcome: 'waiting', url: 'https://approve.test/approvals/x' } },
      }),
      deps,
    );

    // Act
    await reportStatus(
      event('github', { step: 'pipeline', state: 'cancelled', detail: { reason: 'superseded by 89abcde' } }),
      deps,
    );

    // Assess
    const [deployment] = host.deployments('acme/shop');
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['queued', 'error']);
    expect(host.latest('github', 'acme/shop', SHA).get('stepline/deploy/production')).toMatchObject({
      state: 'error',
      description: 'stopped: run cancelled: superseded by 89abcde',
    });
  });
});

describe('settings and credentials', () => {
  it('points each provider at its configured base URL, such as GitHub Enterprise or the local status sink', async () => {
    // Prepare
    const settings = gitHostSettings({
      console: { kind: 'local', baseUrl: 'http://127.0.0.1:8080' },
      baseUrls: { github: host.baseUrl('github') },
    });
    const t = await transportFor('github', settings, new StaticTokenSource({ github: 'ghp_env' }));

    // Act
    await reportStatus(event('github', {}), {
      transport: t,
      links: settings.links,
      contextPrefix: settings.contextPrefix,
    });

    // Assess
    expect(host.requests[0]?.headers.authorization).toBe('Bearer ghp_env');
    expect(host.latest('github', 'acme/shop', SHA).get('stepline')?.targetUrl).toBe(RUN_URL);
  });

  it('has no transport for a provider without a token', async () => {
    const settings = gitHostSettings({ console: { kind: 'aws', region: 'eu-west-1' } });
    expect(await transportFor('gitlab', settings, new StaticTokenSource({}))).toBeNull();
    expect(settings.baseUrls).toEqual({
      github: 'https://api.github.com',
      gitlab: 'https://gitlab.com/api/v4',
      bitbucket: 'https://api.bitbucket.org/2.0',
    });
  });
});
