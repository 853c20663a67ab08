import { describe, expect, it } from 'vitest';
import type { StatusEvent } from '../../../core/status/contracts';
import { bitbucket, bitbucketKey, github, gitlab } from '../../../core/status/hosts';
import { ConsoleLinks } from '../../../core/status/links';
import { declaredContexts, describe as describeEvent, planStatus, subjectOf } from '../../../core/status/plan';
import { truncate } from '../../../core/status/text';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../support/githost/fixtures';

const links = new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' });

function event(overrides: Partial<StatusEvent>): StatusEvent {
  return {
    request: pipelineRequest('github'),
    route: route(),
    executionArn: EXECUTION_ARN,
    step: 'pipeline',
    state: 'pending',
    ...overrides,
  };
}

describe('status descriptions', () => {
  it.each<[string, Partial<StatusEvent>, string]>([
    ['a queued run', { step: 'pipeline', state: 'pending' }, 'queued'],
    ['a build in a phase', { step: 'build', state: 'running', detail: { phase: 'INSTALL' } }, 'building: INSTALL'],
    [
      'a build failing with an exit code',
      { step: 'build', state: 'failure', detail: { phase: 'BUILD', exitCode: 2 } },
      'build failed in phase BUILD: exit 2',
    ],
    [
      'a build failing with a reason only',
      { step: 'build', state: 'failure', detail: { reason: 'image push denied' } },
      'build failed: image push denied',
    ],
    ['a passing suite', { step: 'test', suite: 'unit', state: 'success' }, 'suite unit passed'],
    [
      'a failing suite',
      {
        step: 'test',
        suite: 'e2e',
        state: 'failure',
        detail: { phase: 'BUILD', exitCode: 1, reason: '3 tests failed' },
      },
      'suite e2e failed in phase BUILD: exit 1; 3 tests failed',
    ],
    ['a running deploy', { step: 'deploy', environment: 'staging', state: 'running' }, 'deploying to staging'],
    [
      'a failed rollout',
      {
        step: 'deploy',
        environment: 'staging',
        state: 'failure',
        detail: { reason: 'rollout timed out; rolled back' },
      },
      'deploy to staging failed: rollout timed out; rolled back',
    ],
    [
      'an approval waiting for named approvers',
      { step: 'approval', environment: 'production', state: 'pending', detail: { approval: { outcome: 'waiting' } } },
      'waiting for approval by alice, Bob to deploy to production',
    ],
    [
      'an approval that timed out',
      { step: 'approval', environment: 'production', state: 'failure', detail: { approval: { outcome: 'timed-out' } } },
      'not approved: no decision within 24 h',
    ],
    [
      'an approval whose request was lost (no heartbeat from its keeper)',
      { step: 'approval', environment: 'production', state: 'failure', detail: { approval: { outcome: 'lost' } } },
      'not approved: the approval request was lost; push again or redrive the run',
    ],
    [
      'a rejected approval',
      {
        step: 'approval',
        environment: 'production',
        state: 'failure',
        detail: { approval: { outcome: 'rejected', by: 'alice' }, reason: 'freeze until Monday' },
      },
      'not approved: rejected by alice: freeze until Monday',
    ],
    [
      'a rejected approval, with the reason as the workflow words it (who is said once)',
      {
        step: 'approval',
        environment: 'production',
        state: 'failure',
        detail: { approval: { outcome: 'rejected', by: 'alice' }, reason: 'rejected by alice: freeze until Monday' },
      },
      'not approved: rejected by alice: freeze until Monday',
    ],
    [
      'a successful run',
      { step: 'pipeline', state: 'success' },
      'passed: built, 2 test suites passed, deployed to staging, production',
    ],
    [
      'a run that failed in a suite',
      {
        step: 'pipeline',
        state: 'failure',
        detail: { failedStep: { step: 'test', suite: 'unit' }, phase: 'BUILD', exitCode: 1 },
      },
      'failed at test suite unit in phase BUILD: exit 1',
    ],
    [
      'a run that was not approved',
      {
        step: 'pipeline',
        state: 'failure',
        detail: { failedStep: { step: 'approval', environment: 'production' }, reason: 'no decision within 24 h' },
      },
      'not approved for production: no decision within 24 h',
    ],
    [
      'a superseded run',
      { step: 'pipeline', state: 'cancelled', detail: { reason: 'superseded by 89abcde' } },
      'cancelled: superseded by 89abcde',
    ],
    [
      'a run skipped by path filters, worded by the intake',
      { step: 'pipeline', state: 'skipped', detail: { reason: 'skipped: no changes under services/api/**' } },
      'skipped: no changes under services/api/**',
    ],
  ])('describes %s', (_name, overrides, expected) => {
    // Act
    const text = describeEvent(event(overrides));

    // Assess
    expect(text).toBe(expected);
  });
});

describe("truncation to the hosts' limits", () => {
  it('cuts a long description to 140 characters for GitHub, ending with an ellipsis', () => {
    // Prepare
    const reason = `error: ${'x'.repeat(300)}`;
    const plan = planStatus(event({ step: 'build', state: 'failure', detail: { reason } }), { links });

    // Act
    const request = github.statusRequest(subjectOf(pipelineRequest()), plan.updates[0]!);

    // Assess
    const description = (request.body as { description: string }).description;
    expect(Array.from(description)).toHaveLength(140);
    expect(description.endsWith('…')).toBe(true);
    expect(description.startsWith('build failed: error: xxx')).toBe(true);
  });

  it('allows 255 characters on GitLab and Bitbucket', () => {
    // Prepare
    const plan = planStatus(event({ step: 'build', state: 'failure', detail: { reason: 'y'.repeat(400) } }), { links });
    const update = plan.updates[0]!;

    // Act
    const lab = gitlab.statusRequest(subjectOf(pipelineRequest('gitlab')), update).body as { description: string };
    const bucket = bitbucket.statusRequest(subjectOf(pipelineRequest('bitbucket')), update).body as {
      description: string;
    };

    // Assess
    expect(Array.from(lab.description)).toHaveLength(255);
    expect(Array.from(bucket.description)).toHaveLength(255);
  });

  it('counts characters, not UTF-16 units, and flattens line breaks', () => {
    expect(truncate('déploiement 🚀 ok', 14)).toBe('déploiement 🚀…');
    expect(truncate('line one\n\nline two', 140)).toBe('line one line two');
  });
});

describe('statuses a step posts', () => {
  it('links a step to the execution in the AWS console', () => {
    // Act
    const plan = planStatus(event({ step: 'deploy', environment: 'staging', state: 'running' }), { links });

    // Assess
    expect(plan.updates).toEqual([
      {
        context: 'stepline/deploy/staging',
        state: 'running',
        description: 'deploying to staging',
        targetUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXECUTION_ARN}`,
      },
    ]);
  });

  it('links a failed build to its log when the workflow gives one', () => {
    // Act
    const plan = planStatus(
      event({ step: 'build', state: 'failure', detail: { logUrl: 'https://logs.example.test/build/1' } }),
      { links },
    );

    // Assess
    expect(plan.updates[0]?.targetUrl).toBe('https://logs.example.test/build/1');
  });

  it('marks every declared context passed for a run that path filters skip', () => {
    // Act
    const plan = planStatus(
      event({ executionArn: null, step: 'pipeline', state: 'skipped', detail: { reason: 'no changes under api/**' } }),
      { links },
    );

    // Assess
    expect(plan.updates.map((u) => [u.context, u.state, u.description])).toEqual(
      declaredContexts(route(), 'stepline').map((context) => [context, 'skipped', 'skipped: no changes under api/**']),
    );
    expect(plan.updates.map((u) => u.context)).toEqual([
      'stepline',
      'stepline/build',
      'stepline/test/unit',
      'stepline/test/e2e',
      'stepline/deploy/staging',
      'stepline/deploy/production',
    ]);
    expect(plan.updates.every((u) => u.targetUrl === `https://example.test/commit/${SHA}`)).toBe(true);
    expect(plan.updates.map((u) => github.hostState(u.state))).toEqual(Array(6).fill('success'));
  });

  it('keeps the deploy context pending while an approval waits, linking to the approval page', () => {
    // Act
    const plan = planStatus(
      event({
        step: 'approval',
        environment: 'production',
        state: 'pending',
        detail: { approval: { outcome: 'waiting', url: 'https://approve.example.test/approvals/abc' } },
      }),
      { links },
    );

    // Assess
    expect(plan.updates[0]).toMatchObject({
      context: 'stepline/deploy/production',
      state: 'pending',
      targetUrl: 'https://approve.example.test/approvals/abc',
    });
    expect(plan.deployment).toMatchObject({ environment: 'production', state: 'pending', createIfMissing: true });
  });

  it('asks a GitHub deploy step for a deployment with the environment URL and the execution as log', () => {
    // Act
    const plan = planStatus(event({ step: 'deploy', environment: 'staging', state: 'success' }), { links });

    // Assess
    expect(plan.deployment).toEqual({
      environment: 'staging',
      state: 'success',
      description: 'deployed to staging',
      logUrl: links.execution(EXECUTION_ARN),
      environmentUrl: 'https://staging.shop.example.test',
      createIfMissing: true,
    });
  });

  it('asks no deployment of GitLab or Bitbucket', () => {
    const plan = planStatus(
      event({ request: pipelineRequest('gitlab'), step: 'deploy', environment: 'staging', state: 'running' }),
      { links },
    );
    expect(plan.deployment).toBeNull();
  });

  it('closes the open contexts after a final failure or cancellation, and only then', () => {
    const failed = planStatus(event({ step: 'pipeline', state: 'failure' }), { links });
    const cancelled = planStatus(event({ step: 'pipeline', state: 'cancelled', detail: { reason: 'superseded' } }), {
      links,
    });
    const passed = planStatus(event({ step: 'pipeline', state: 'success' }), { links });
    const stepFailed = planStatus(event({ step: 'build', state: 'failure' }), { links });

    expect(failed.closeOpen).toEqual({ state: 'cancelled', description: 'stopped: run failed' });
    expect(cancelled.closeOpen).toEqual({ state: 'cancelled', description: 'stopped: run cancelled: superseded' });
    expect(passed.closeOpen).toBeNull();
    expect(stepFailed.closeOpen).toBeNull();
  });

  it("uses the pull request's head for the commit and branch", () => {
    // Prepare
    const request = pipelineRequest('bitbucket', {
      pullRequest: {
        number: 7,
        action: 'opened',
        title: 'Basket',
        url: null,
        base: { ref: 'main', sha: null },
        head: { ref: 'feature/basket', sha: 'f'.repeat(40), repository: 'acme/shop' },
        fork: false,
      },
    });

    // Act
    const subject = subjectOf(request);
    const body = bitbucket.statusRequest(subject, {
      context: 'stepline/build',
      state: 'running',
      description: 'building',
      targetUrl: 'https://x.test',
    }).body;

    // Assess
    expect(subject).toMatchObject({ sha: 'f'.repeat(40), ref: 'feature/basket', pullRequest: 7 });
    expect(body).toMatchObject({ key: 'stepline-build', refname: 'feature/basket', state: 'INPROGRESS' });
  });
});

describe('host vocabularies', () => {
  it.each([
    ['pending', 'pending', 'pending', 'INPROGRESS'],
    ['running', 'pending', 'running', 'INPROGRESS'],
    ['success', 'success', 'success', 'SUCCESSFUL'],
    ['failure', 'failure', 'failed', 'FAILED'],
    ['cancelled', 'error', 'canceled', 'STOPPED'],
    ['skipped', 'success', 'success', 'SUCCESSFUL'],
  ] as const)('maps %s to GitHub %s, GitLab %s, Bitbucket %s', (state, gh, gl, bb) => {
    expect([github.hostState(state), gitlab.hostState(state), bitbucket.hostState(state)]).toEqual([gh, gl, bb]);
  });

  it('keeps Bitbucket keys short, safe and distinct', () => {
    const long = bitbucketKey('stepline/test/a-very-long-suite-name-that-goes-on-and-on');
    const other = bitbucketKey('stepline/test/a-very-long-suite-name-that-goes-on-and-off');
    expect(bitbucketKey('stepline/deploy/production')).toBe('stepline-deploy-production');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(long).not.toBe(other);
  });

  it('addresses a GitLab project by its URL-encoded path', () => {
    const request = gitlab.statusRequest(subjectOf(pipelineRequest('gitlab')), {
      context: 'stepline/build',
      state: 'pending',
      description: 'waiting to build',
      targetUrl: null,
    });
    expect(request.path).toBe(`/projects/acme%2Fplatform%2Fshop/statuses/${SHA}`);
    expect(request.body).toEqual({
      state: 'pending',
      ref: 'main',
      name: 'stepline/build',
      description: 'waiting to build',
    });
  });
});

describe('console links', () => {
  it('builds the AWS console and local console URLs of an execution', () => {
    expect(ConsoleLinks.aws('us-east-1', EXECUTION_ARN)).toBe(
      `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${EXECUTION_ARN}`,
    );
    expect(new ConsoleLinks({ kind: 'local', baseUrl: 'http://127.0.0.1:8080/' }).execution(EXECUTION_ARN)).toBe(
      `http://127.0.0.1:8080/executions/${EXECUTION_ARN}`,
    );
  });

  it('refuses a region or base URL that would make a broken link', () => {
    expect(() => new ConsoleLinks({ kind: 'aws', region: 'Ireland' })).toThrow(/not an AWS region/);
    expect(() => new ConsoleLinks({ kind: 'local', baseUrl: 'localhost:8080' })).toThrow(/http/);
  });
});

describe('the final report settling the build it knows', () => {
  it('gives the build context the reason of a failure that has no exit status (a source that could not be fetched)', () => {
    // Prepare
    const reason = 'CLIENT_ERROR: repository not found for primary source and source version 0123abc';

    // Act
    const plan = planStatus(
      event({
        step: 'pipeline',
        state: 'failure',
        detail: { reason, finished: [{ step: 'build', state: 'failure', phase: 'DOWNLOAD_SOURCE', reason }] },
      }),
      { links },
    );

    // Assess
    expect(plan.settle?.find((u) => u.context === 'stepline/build')?.description).toBe(
      `build failed in phase DOWNLOAD_SOURCE; ${reason}`,
    );
  });
});
