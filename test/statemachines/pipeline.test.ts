import { describe, expect, it } from 'vitest';
import type { ExecutionInput } from '../../core/intake/types';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
import { IMAGE_DIGEST, PipelineWorld } from '../support/workflow/pipeline-world';

/**
 * Path tests of statemachines/pipeline.asl.json on the local engine: each test is one path through the workflow,
 * named after it as the AWS samples do.
 */

const SHA_A = '1111111111111111111111111111111111111111';
const SHA_B = '2222222222222222222222222222222222222222';

function input(overrides: { sha?: string; branch?: string; approvals?: boolean } = {}): ExecutionInput {
  const branch = overrides.branch ?? 'main';
  const request = pipelineRequest('github', {
    ref: { name: branch, fullName: `refs/heads/${branch}`, kind: 'branch' },
    commit: { sha: overrides.sha ?? SHA_A, before: null, message: 'Change', url: null },
  });
  return {
    request,
    route: route({
      concurrencyKey: `github:acme/shop:refs/heads/${branch}`,
      environments: [
        environment('staging', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
        environment('production', {
          rollout: { timeoutSeconds: 300, pollSeconds: 5 },
          approval: overrides.approvals ? { approvers: ['alice'], timeoutSeconds: 3600 } : null,
        }),
      ],
    }),
  };
}

function pullRequest(fork: boolean): NonNullable<ExecutionInput['request']['pullRequest']> {
  return {
    number: 7,
    action: 'opened',
    title: 'Basket',
    url: null,
    base: { ref: 'main', sha: null },
    head: { ref: 'feature/basket', sha: SHA_A, repository: fork ? 'mallory/shop' : 'acme/shop' },
    fork,
  };
}

const entered = (history: readonly { type: string }[]) => history.filter((e) => e.type.endsWith('StateEntered')).length;

describe('pipeline workflow', () => {
  it('HappyPathTest: builds, tests two suites, deploys staging then production and reports success', async () => {
    // Prepare
    const world = new PipelineWorld();

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      outcome: 'succeeded',
      commit: SHA_A,
      image: { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/shop', digest: IMAGE_DIGEST },
      tests: [
        { suite: 'unit', state: 'success' },
        { suite: 'e2e', state: 'success' },
      ],
      environments: [
        { environment: 'staging', revision: 1 },
        { environment: 'production', revision: 2 },
      ],
    });
    expect(world.statusTrail('run-1')).toEqual([
      'pipeline:pending',
      'deploy/staging:running',
      'deploy/staging:success',
      'deploy/production:running',
      'deploy/production:success',
      'pipeline:success',
    ]);
    const [image, ...suites] = world.calls.builds;
    expect(image).toMatchObject({
      project: 'stepline-build',
      sourceVersion: `refs/heads/main^{${SHA_A}}`,
      buildspec: 'buildspec.yml',
      env: {
        STEPLINE_STEP: 'build',
        STEPLINE_COMMIT: SHA_A,
        IMAGE_TAG: SHA_A,
        STEPLINE_REF: 'main',
        STEPLINE_TRUSTED: 'true',
        IMAGE_REPOSITORY: 'acme/shop',
      },
    });
    expect(
      suites.map((b) => [b.project, b.env.STEPLINE_SUITE, b.buildspec, b.env.IMAGE_DIGEST, b.sourceVersion]),
    ).toEqual([
      ['stepline-test', 'unit', 'ci/unit.yml', IMAGE_DIGEST, `refs/heads/main^{${SHA_A}}`],
      ['stepline-test', 'e2e', 'ci/e2e.yml', IMAGE_DIGEST, `refs/heads/main^{${SHA_A}}`],
    ]);
    expect(world.calls.deploys.map((d) => [d.environment.name, d.image.digest, d.manifestsLocation])).toEqual([
      ['staging', IMAGE_DIGEST, 's3://stepline-artifacts/run-1'],
      ['production', IMAGE_DIGEST, 's3://stepline-artifacts/run-1'],
    ]);
    expect(world.calls.coordination.map((c) => `${c.action}${c.environmentKey ? `:${c.environmentKey}` : ''}`)).toEqual(
      [
        'register',
        'enter:github:acme/shop:staging',
        'leave:github:acme/shop:staging',
        'enter:github:acme/shop:production',
        'leave:github:acme/shop:production',
      ],
    );
    // Billed state transitions: build, 2 suites, 2 environments, each rollout in progress at its first check
    // (27 when every rollout is done at the first check; each further check adds 2). ImageGiven, the Choice that
    // lets a re-run skip the build (ADR 0106), is one of them.
    expect(entered(result.history)).toBe(31);
  });

  it('PathsUnchangedTest: a run the path filter skipped marks its contexts skipped and builds nothing', async () => {
    // Prepare
    const world = new PipelineWorld();
    const skipped = { ...input(), skip: { reason: 'skipped: no changes under services/api/**' } };

    // Act
    const result = await world.start(skipped, 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({
      outcome: 'skipped',
      reason: 'skipped: no changes under services/api/**',
      commit: SHA_A,
    });
    expect(world.calls.status).toMatchObject([
      { step: 'pipeline', state: 'skipped', detail: { reason: 'skipped: no changes under services/api/**' } },
    ]);
    expect(world.calls.builds).toHaveLength(0);
    expect(world.calls.coordination).toHaveLength(0);
    expect(entered(result.history)).toBe(2);
  });

  it('ForkPullRequestTest: builds and tests in the projects without secrets, says so to the builds, deploys nothing', async () => {
    // Prepare
    const world = new PipelineWorld();
    const base = input();
    const request = {
      ...base.request,
      ref: { name: 'feature/basket', fullName: 'refs/heads/feature/basket', kind: 'branch' as const },
      pullRequest: {
        number: 7,
        action: 'opened' as const,
        title: 'Basket',
        url: null,
        base: { ref: 'main', sha: null },
        head: { ref: 'feature/basket', sha: SHA_A, repository: 'mallory/shop' },
        fork: true,
      },
    };
    const forkRun: ExecutionInput = {
      request,
      route: { ...base.route, trigger: 'pull_request', environments: [], secrets: false },
    };

    // Act
    const result = await world.start(forkRun, 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.builds.map((b) => [b.project, b.env.STEPLINE_STEP, b.env.STEPLINE_TRUSTED])).toEqual([
      ['stepline-build-untrusted', 'build', 'false'],
      ['stepline-test-untrusted', 'test', 'false'],
      ['stepline-test-untrusted', 'test', 'false'],
    ]);
    expect(world.calls.builds[0]?.env).toMatchObject({ STEPLINE_PULL_REQUEST: '7', IMAGE_REPOSITORY: 'acme/shop' });
    // The fork's head commit is in the base repository only under the pull request's ref.
    expect(new Set(world.calls.builds.map((b) => b.sourceVersion))).toEqual(new Set([`refs/pull/7/head^{${SHA_A}}`]));
    expect(world.calls.deploys).toHaveLength(0);
    expect(result.output).toMatchObject({ outcome: 'succeeded', environments: [] });
  });

  it.each([
    [
      'a GitHub tag',
      'github',
      { ref: { name: 'v1.2.0', fullName: 'refs/tags/v1.2.0', kind: 'tag' } },
      `refs/tags/v1.2.0^{${SHA_A}}`,
    ],
    ['a Bitbucket branch', 'bitbucket', {}, `refs/heads/main^{${SHA_A}}`],
    [
      'a Bitbucket pull request from the same repository',
      'bitbucket',
      { pullRequest: pullRequest(false) },
      `refs/heads/feature/basket^{${SHA_A}}`,
    ],
    [
      'a Bitbucket pull request from a fork, which has no ref in the repository',
      'bitbucket',
      { pullRequest: pullRequest(true) },
      SHA_A,
    ],
    ['a GitLab branch: CodeBuild takes no reference with a commit from GitLab', 'gitlab', {}, SHA_A],
    ['a GitLab merge request', 'gitlab', { pullRequest: pullRequest(true) }, SHA_A],
  ] as const)(
    'SourceVersionTest: builds %s at exactly its commit, with the reference CodeBuild accepts for the host',
    async (_case, provider, overrides, expected) => {
      // Prepare
      const world = new PipelineWorld();
      const base = input();
      const request = pipelineRequest(provider, {
        ...base.request,
        provider,
        ...(overrides as Partial<ExecutionInput['request']>),
      });
      const run: ExecutionInput = {
        request,
        route: { ...base.route, environments: [], secrets: !request.pullRequest?.fork },
      };

      // Act
      const result = await world.start(run, 'run-1').done;

      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(world.calls.builds.map((b) => b.sourceVersion)).toEqual([expected, expected, expected]);
      expect(world.calls.builds.map((b) => b.env.STEPLINE_COMMIT)).toEqual([SHA_A, SHA_A, SHA_A]);
    },
  );

  it("ProjectBuildspecTest: a repository that names no buildspec builds with the project's own, told which manifests the environments read", async () => {
    // Prepare
    const world = new PipelineWorld();
    const base = input();
    const { buildspec: _named, ...build } = base.route.build;
    const environments = [
      ...base.route.environments,
      environment('canary', { manifests: 'deploy/staging', rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
    ];

    // Act
    const result = await world.start({ ...base, route: { ...base.route, build, environments } }, 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const [image, ...suites] = world.calls.builds;
    expect(image).toMatchObject({ project: 'stepline-build', buildspecSent: false });
    expect(image?.env.STEPLINE_MANIFESTS).toBe('deploy/staging\ndeploy/production');
    expect(suites.map((b) => [b.buildspecSent, b.buildspec])).toEqual([
      [true, 'ci/unit.yml'],
      [true, 'ci/e2e.yml'],
    ]);
  });

  it('ProjectBuildspecTest: a run that promotes nowhere tells the build no manifests', async () => {
    // Prepare
    const world = new PipelineWorld();
    const base = input();

    // Act
    await world.start({ ...base, route: { ...base.route, environments: [] } }, 'run-1').done;

    // Assess
    expect(world.calls.builds[0]).toMatchObject({ buildspec: 'buildspec.yml', buildspecSent: true });
    expect(world.calls.builds[0]?.env.STEPLINE_MANIFESTS).toBe('');
  });

  it('BuildFailsTest: reports the failed phase, exit code and log link, and runs nothing after the build', async () => {
    // Prepare
    const world = new PipelineWorld({ failBuild: { phase: 'BUILD', exitCode: 2 } });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.BuildFailed');
    const final = world.calls.status.at(-1);
    expect(final).toMatchObject({
      step: 'pipeline',
      state: 'failure',
      detail: {
        phase: 'BUILD',
        exitCode: 2,
        failedStep: { step: 'build' },
        logUrl: expect.stringContaining('stepline-build'),
      },
    });
    expect(final?.detail?.finished).toEqual([
      {
        step: 'build',
        state: 'failure',
        phase: 'BUILD',
        exitCode: 2,
        logUrl: expect.stringContaining('stepline-build'),
      },
    ]);
    expect(world.calls.builds).toHaveLength(1);
    expect(world.calls.deploys).toHaveLength(0);
  });

  it('SourceFailsTest: a build that cannot fetch its source reports the phase’s message as the reason', async () => {
    // Prepare: CodeBuild's DOWNLOAD_SOURCE fails with its message, and no command ran (no exit status).
    const message = 'CLIENT_ERROR: repository not found for primary source and source version 0123abc';
    const world = new PipelineWorld({ failBuild: { phase: 'DOWNLOAD_SOURCE', message } });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.calls.status.at(-1)?.detail?.finished).toEqual([
      expect.objectContaining({ step: 'build', state: 'failure', phase: 'DOWNLOAD_SOURCE', reason: message }),
    ]);
  });

  it('TestSuiteFailsTest: runs every suite, names the failed one and deploys nothing', async () => {
    // Prepare
    const world = new PipelineWorld({ failingSuites: ['e2e'] });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.TestsFailed');
    expect(world.calls.builds.map((b) => b.env.STEPLINE_SUITE ?? 'image')).toEqual(['image', 'unit', 'e2e']);
    expect(world.calls.status.at(-1)).toMatchObject({
      step: 'pipeline',
      state: 'failure',
      detail: { failedStep: { step: 'test', suite: 'e2e' }, phase: 'BUILD', exitCode: 1 },
    });
    expect(
      world.calls.status.at(-1)?.detail?.finished?.map((f) => `${f.step}${f.suite ? `/${f.suite}` : ''}:${f.state}`),
    ).toEqual(['build:success', 'test/unit:success', 'test/e2e:failure']);
    expect(world.calls.deploys).toHaveLength(0);
    expect(world.calls.coordination.map((c) => c.action)).toEqual(['register']);
  });

  it('ApprovalRejectedTest: deploys staging, stops at the rejected production gate and says who rejected it', async () => {
    // Prepare
    const world = new PipelineWorld({ approval: 'reject' });

    // Act
    const result = await world.start(input({ approvals: true }), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.ApprovalRejected');
    expect(world.calls.deploys.map((d) => d.environment.name)).toEqual(['staging']);
    expect(world.calls.approvals).toMatchObject([
      { environment: 'production', image: { digest: IMAGE_DIGEST }, tests: [{ suite: 'unit' }, { suite: 'e2e' }] },
    ]);
    expect(world.statusTrail('run-1').slice(-2)).toEqual(['approval/production:failure', 'pipeline:failure']);
    expect(world.calls.status.at(-2)?.detail).toEqual({
      reason: 'rejected by alice: not during the sale',
      approval: { outcome: 'rejected', by: 'alice' },
    });
    expect(world.calls.status.at(-1)?.detail?.failedStep).toEqual({ step: 'approval', environment: 'production' });
  });

  it('ApprovalTimesOutTest: a gate nobody answers ends the run "not approved"', async () => {
    // Prepare
    const world = new PipelineWorld({ approval: 'timeout' });

    // Act
    const result = await world.start(input({ approvals: true }), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.ApprovalTimedOut');
    expect(world.calls.status.at(-2)).toMatchObject({
      step: 'approval',
      environment: 'production',
      state: 'failure',
      detail: { reason: 'not approved in time', approval: { outcome: 'timed-out' } },
    });
    expect(result.history.some((e) => e.type === 'TaskTimedOut')).toBe(true);
    // The keeper kept the gate alive the whole hour (a heartbeat every 5 minutes, 900 s allowed between two).
    expect(world.calls.heartbeats).toBeGreaterThanOrEqual(11);
    expect(JSON.stringify(result.history.find((e) => e.type === 'TaskTimedOut'))).toContain('States.Timeout');
  });

  it('ApprovalLostTest: a gate whose keeper stops heartbeating ends "approval lost" at the heartbeat, not the timeout', async () => {
    // Prepare
    const world = new PipelineWorld({ approval: 'lost' });

    // Act
    const result = await world.start(input({ approvals: true }), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.ApprovalLost');
    expect(world.calls.status.at(-2)).toMatchObject({
      step: 'approval',
      environment: 'production',
      state: 'failure',
      detail: {
        reason: 'the approval request was lost: its keeper sent no heartbeat for 900 s',
        approval: { outcome: 'lost' },
      },
    });
    // AWS names a missed heartbeat States.Timeout too: only the Catch on States.HeartbeatTimeout, listed first, tells
    // it from the gate's own timeout.
    const timedOut = result.history.find((e) => e.type === 'TaskTimedOut');
    expect(JSON.stringify(timedOut)).toContain('"error":"States.Timeout","cause":"No heartbeat was received');
    const approve = result.history.find(
      (e) => e.type === 'TaskStateEntered' && JSON.stringify(e).includes('"Approve"'),
    );
    // Ended at the heartbeat (900 s after the request), not at the gate's timeout (3,600 s).
    const elapsed = (timedOut?.timestamp.getTime() ?? 0) - (approve?.timestamp.getTime() ?? 0);
    expect(elapsed).toBeGreaterThanOrEqual(900_000);
    expect(elapsed).toBeLessThan(3600_000);
  });

  it('RolloutFailsRollsBackTest: rolls staging back to its last good revision, releases the lock and fails', async () => {
    // Prepare
    const world = new PipelineWorld({ rolloutFailsIn: ['staging'] });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.DeployFailed');
    expect(world.calls.rollbacks).toMatchObject([
      {
        environment: { name: 'staging' },
        failedRevision: 1,
        reason: expect.stringContaining('ProgressDeadlineExceeded'),
      },
    ]);
    // The rollback's own rollout is watched (its revision), then the lock is released without recording a deploy.
    expect(world.calls.rollouts.at(-1)).toMatchObject({ revision: 1, watch: [{ generation: 3 }] });
    expect(world.calls.coordination.at(-1)).toMatchObject({ action: 'leave', deployed: false });
    expect(world.calls.deploys.map((d) => d.environment.name)).toEqual(['staging']);
    const deployFailure = world.calls.status.find((s) => s.step === 'deploy' && s.state === 'failure');
    expect(deployFailure?.detail?.reason).toBe(
      'RolloutFailed: Deployment shop exceeded its progress deadline (ProgressDeadlineExceeded); rolled back to fedcba9',
    );
    expect(world.calls.status.at(-1)?.detail?.failedStep).toEqual({ step: 'deploy', environment: 'staging' });
  });

  it.each([
    ['Sandbox.Timedout', 'Sandbox.Timedout: RequestId: 8d2a6c1e-6b0e-4f43-9d0c-1f2e3d4c5b6a Error: Task timed out'],
    ['Lambda.Unknown', 'Lambda.Unknown: The cause could not be determined because Lambda did not return an error type'],
  ] as const)(
    'DeployTimesOutRollsBackTest (%s): a deploy function that ran out of time is rolled back, then the lock released, then the failure reported',
    async (kind, reason) => {
      // Prepare: the deploy function applied part of staging's manifests, then ran out of time.
      const world = new PipelineWorld({ deployTimesOutIn: ['staging'], functionTimeout: kind });

      // Act
      const result = await world.start(input(), 'run-1').done;

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('Stepline.DeployFailed');
      expect(world.calls.rollbacks).toMatchObject([
        { environment: { name: 'staging' }, failedRevision: null, reason: expect.stringContaining(reason) },
      ]);
      const t = world.calls.timeline;
      const rollback = t.indexOf('rollback:run-1:staging');
      expect(rollback).toBeGreaterThan(t.indexOf('deploy:run-1:staging'));
      expect(t.indexOf('leave:run-1')).toBeGreaterThan(rollback);
      expect(world.calls.coordination.at(-1)).toMatchObject({ action: 'leave', deployed: false });
      expect(world.statusTrail('run-1').slice(-2)).toEqual(['deploy/staging:failure', 'pipeline:failure']);
      const deployFailure = world.calls.status.find((s) => s.step === 'deploy' && s.state === 'failure');
      expect(deployFailure?.detail?.reason).toContain(reason);
      expect(deployFailure?.detail?.reason).toMatch(/Task timed out after 300\.00 seconds.*; rolled back to fedcba9$/);
      expect(world.calls.deploys.map((d) => d.environment.name)).toEqual(['staging']);
    },
  );

  it('RollbackTimesOutTest: a rollback that runs out of time is tried once more, then the lock is released and the run fails saying it was not rolled back', async () => {
    // Prepare
    const world = new PipelineWorld({ deployTimesOutIn: ['staging'], rollbackTimesOut: 2 });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.DeployFailed');
    expect(world.calls.rollbacks.map((r) => r.environment.name)).toEqual(['staging', 'staging']);
    expect(world.calls.coordination.at(-1)).toMatchObject({ action: 'leave', deployed: false });
    const deployFailure = world.calls.status.find((s) => s.step === 'deploy' && s.state === 'failure');
    expect(deployFailure?.detail?.reason).toMatch(
      /^Sandbox\.Timedout: .*Task timed out after 300\.00 seconds; not rolled back: Sandbox\.Timedout: .*Task timed out after 300\.00 seconds$/,
    );
  });

  it('StatusReportFailsRunStillSucceedsTest: a Git host that refuses every status never fails the run', async () => {
    // Prepare
    const world = new PipelineWorld({ statusFails: true });

    // Act
    const result = await world.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      outcome: 'succeeded',
      environments: [{ environment: 'staging' }, { environment: 'production' }],
    });
    expect(world.calls.status.length).toBeGreaterThanOrEqual(6);
  });

  it('SupersededTest: a newer push to the branch stops the older run that has not started deploying', async () => {
    // Prepare: the older run is held in its build.
    const world = new PipelineWorld();
    world.hold('older');
    const older = world.start(input({ sha: SHA_A }), 'older');
    await world.when((entry) => entry === 'build:older:image');

    // Act
    const newer = await world.start(input({ sha: SHA_B }), 'newer').done;
    const olderResult = await older.done;

    // Assess
    expect(newer.status).toBe('SUCCEEDED');
    expect(olderResult).toMatchObject({
      status: 'ABORTED',
      error: 'Stepline.Superseded',
      cause: 'superseded by newer, a newer run of the same branch',
    });
    expect(world.calls.deploys.map((d) => d.request.commit.sha)).toEqual([SHA_B, SHA_B]);
  });

  it('SupersededAtTheGateTest: an older run the stop missed ends cancelled at its first environment', async () => {
    // Prepare: stopping is not possible (the stop came too late), so the gate must catch it.
    const world = new PipelineWorld({ stopSuperseded: false });
    world.hold('older');
    const older = world.start(input({ sha: SHA_A }), 'older');
    await world.when((entry) => entry === 'build:older:image');
    const newer = world.start(input({ sha: SHA_B }), 'newer');
    await world.when((entry) => entry === 'register:newer');

    // Act
    world.release('older');
    const olderResult = await older.done;
    await newer.done;

    // Assess
    expect(olderResult.status).toBe('SUCCEEDED');
    expect(olderResult.output).toMatchObject({
      outcome: 'cancelled',
      reason: 'superseded by newer, a newer run of the same branch',
    });
    expect(world.statusTrail('older').at(-1)).toBe('pipeline:cancelled');
    expect(world.calls.deploys.filter((d) => d.executionName === 'older')).toHaveLength(0);
  });

  it('DeployLockQueuesTest: a run of another branch waits for the environment and deploys after the first releases it', async () => {
    // Prepare: the first run holds staging's lock, its first rollout check held until the second run has asked for
    // the lock (a held check stands the virtual clock still, so the second run cannot retry meanwhile).
    const world = new PipelineWorld({ checksBeforeDone: 4 });
    world.holdRollout('first');
    const first = world.start(input({ sha: SHA_A, branch: 'main' }), 'first');
    await world.when((entry) => entry === 'rollout:first:staging');

    // Act
    const second = world.start(input({ sha: SHA_B, branch: 'hotfix' }), 'second');
    await world.when((entry) => entry === 'enter:second');
    world.releaseRollout('first');
    const [a, b] = await Promise.all([first.done, second.done]);

    // Assess: three more checks 5 s apart keep the lock 15 s, past the first retry (at most 10 s with full jitter).
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const t = world.calls.timeline;
    expect(t.indexOf('deploy:second:staging')).toBeGreaterThan(t.indexOf('leave:first'));
    const secondEnters = world.calls.coordination.filter(
      (c) => c.action === 'enter' && String(c.executionArn).endsWith(':second'),
    );
    expect(secondEnters.length).toBeGreaterThan(2);
  });
});
