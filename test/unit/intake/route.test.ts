import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { statusContexts } from '../../../core/contracts/status';
import { Intake } from '../../../core/intake/intake';
import { Router } from '../../../core/intake/route';
import type { PipelineRequest, PullRequestInfo } from '../../../core/intake/types';
import { CONFIG, CONFIG_INPUT } from './support';

function request(overrides: Partial<PipelineRequest> = {}): PipelineRequest {
  return {
    provider: 'github',
    deliveryId: 'd-1',
    event: 'push',
    repository: {
      fullName: 'Codertocat/Hello-World',
      cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
      defaultBranch: 'master',
      htmlUrl: null,
    },
    ref: { name: 'master', fullName: 'refs/heads/master', kind: 'branch' },
    commit: { sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', before: null, message: null, url: null },
    pullRequest: null,
    changedFiles: { paths: [], complete: false },
    sender: { login: 'octocat' },
    ...overrides,
  };
}

function pullRequest(overrides: Partial<PullRequestInfo> = {}): Partial<PipelineRequest> {
  return {
    event: 'pull_request',
    ref: { name: 'feature/x', fullName: 'refs/pull/7/head', kind: 'branch' },
    pullRequest: {
      number: 7,
      action: 'opened',
      title: 'A change',
      url: null,
      base: { ref: 'master', sha: null },
      head: { ref: 'feature/x', sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', repository: 'Codertocat/Hello-World' },
      fork: false,
      ...overrides,
    },
  };
}

/** The test configuration with the GitHub repository's path filter replaced. */
function withPaths(paths: { include?: string[]; exclude?: string[] }): Router {
  const input = structuredClone(CONFIG_INPUT);
  input.repositories[0]!.paths = paths;
  return new Router(validateConfig(input, 'test'));
}

const router = new Router(CONFIG);

describe('routing pushes', () => {
  it('routes a branch to its environments in order, with approval and timeouts resolved', () => {
    // Act
    const decision = router.route(request());

    // Assess
    expect(decision.continue).toBe(true);
    if (!decision.continue) return;
    const route = decision.value;
    expect(route).toMatchObject({
      repository: 'Codertocat/Hello-World',
      trigger: 'branch',
      pattern: 'master',
      build: { imageRepository: 'codertocat/hello-world', timeoutMinutes: 60 },
      tests: [{ name: 'unit', buildspec: 'ci/unit.yml', timeoutMinutes: 60 }],
      secrets: true,
      concurrencyKey: 'github:Codertocat/Hello-World:refs/heads/master',
    });
    // The repository names no buildspec: the route carries none, and the build project's own runs (ADR 0064).
    expect(route.build).not.toHaveProperty('buildspec');
    expect(route.environments).toEqual([
      {
        name: 'staging',
        cluster: { type: 'kubeconfig' },
        namespace: 'hello-staging',
        allowedNamespaces: [],
        clusterScopedKinds: [],
        manifests: 'deploy/staging',
        url: null,
        approval: null,
        rollout: { timeoutSeconds: 600, pollSeconds: 10 },
      },
      {
        name: 'production',
        cluster: { type: 'eks', name: 'prod' },
        namespace: 'hello',
        allowedNamespaces: [],
        clusterScopedKinds: [],
        manifests: 'deploy/production',
        url: null,
        approval: { approvers: ['octocat'], timeoutSeconds: 90 * 60 },
        rollout: { timeoutSeconds: 600, pollSeconds: 10 },
      },
    ]);
  });

  it('routes a branch that matches a glob without environments to build and test only', () => {
    // Act
    const decision = router.route(
      request({ ref: { name: 'release/1.2', fullName: 'refs/heads/release/1.2', kind: 'branch' } }),
    );

    // Assess
    expect(decision.continue && decision.value).toMatchObject({ pattern: 'release/*', environments: [] });
  });

  it('does not let a single-star glob cross a slash', () => {
    // Act
    const decision = router.route(
      request({ ref: { name: 'release/1.2/hotfix', fullName: 'refs/heads/release/1.2/hotfix', kind: 'branch' } }),
    );

    // Assess
    expect(decision).toMatchObject({ continue: false, kind: 'ignored', code: 'ref_not_configured' });
  });

  it('routes a tag with the tag patterns', () => {
    // Act
    const decision = router.route(
      request({ ref: { name: 'simple-tag', fullName: 'refs/tags/simple-tag', kind: 'tag' } }),
    );

    // Assess
    expect(decision.continue && decision.value).toMatchObject({
      trigger: 'tag',
      pattern: 'simple-*',
      environments: [{ name: 'production' }],
    });
  });

  it('ignores a branch that matches no pattern, with the reason', () => {
    // Act
    const decision = router.route(request({ ref: { name: 'wip', fullName: 'refs/heads/wip', kind: 'branch' } }));

    // Assess
    expect(decision).toMatchObject({
      kind: 'ignored',
      code: 'ref_not_configured',
      reason: 'branch wip matches no configured branches pattern',
    });
  });

  it('ignores a repository that is not configured, with the reason', () => {
    // Act
    const decision = router.route(request({ repository: { ...request().repository, fullName: 'someone/else' } }));

    // Assess
    expect(decision).toMatchObject({ kind: 'ignored', code: 'repository_not_configured', reason: /someone\/else/ });
  });

  it('matches the repository name without regard to case', () => {
    // Act
    const decision = router.route(
      request({ repository: { ...request().repository, fullName: 'codertocat/hello-world' } }),
    );

    // Assess
    expect(decision.continue).toBe(true);
  });
});

describe('routing pull requests', () => {
  it('builds and tests a pull request and never deploys it', () => {
    // Act
    const decision = router.route(request(pullRequest()));

    // Assess
    expect(decision.continue && decision.value).toMatchObject({
      trigger: 'pull_request',
      pattern: '**',
      environments: [],
      secrets: true,
      concurrencyKey: 'github:Codertocat/Hello-World:refs/pull/7/head',
    });
  });

  it('runs a pull request from a fork without secrets', () => {
    // Act
    const decision = router.route(request(pullRequest({ fork: true })));

    // Assess
    expect(decision.continue && decision.value).toMatchObject({ environments: [], secrets: false });
  });

  it('ignores a closed pull request', () => {
    // Act
    const decision = router.route(request(pullRequest({ action: 'closed' })));

    // Assess
    expect(decision).toMatchObject({ kind: 'ignored', code: 'pull_request_closed' });
  });

  it('ignores a pull request action the repository does not build', () => {
    // Prepare
    const bitbucket = request({
      provider: 'bitbucket',
      repository: { ...request().repository, fullName: 'acme/payments' },
      ...pullRequest({ action: 'reopened' }),
    });

    // Act
    const decision = router.route(bitbucket);

    // Assess
    expect(decision).toMatchObject({ kind: 'ignored', code: 'pull_request_action_not_configured' });
  });

  it('ignores a pull request into a base branch the repository does not build', () => {
    // Prepare
    const gitlab = request({
      provider: 'gitlab',
      repository: { ...request().repository, fullName: 'acme/platform/storefront' },
      ...pullRequest({ base: { ref: 'develop', sha: null } }),
    });

    // Act
    const decision = router.route(gitlab);

    // Assess
    expect(decision).toMatchObject({ kind: 'ignored', code: 'base_branch_not_configured', reason: /develop/ });
  });

  it('ignores pull requests of a repository that does not build them', () => {
    // Prepare
    const input = structuredClone(CONFIG_INPUT);
    delete input.repositories[0]!.pullRequests;

    // Act
    const decision = new Router(validateConfig(input, 'test')).route(request(pullRequest()));

    // Assess
    expect(decision).toMatchObject({ kind: 'ignored', code: 'pull_requests_not_configured' });
  });
});

describe('path filters', () => {
  const changed = (paths: string[], complete = true) => request({ changedFiles: { paths, complete } });

  it('skips a run whose complete change list has nothing under the included paths, saying why', () => {
    // Prepare
    const filtered = withPaths({ include: ['services/api/**'] });

    // Act
    const decision = filtered.route(changed(['docs/readme.md', 'services/web/index.ts']));

    // Assess
    expect(decision).toMatchObject({
      continue: false,
      kind: 'skipped',
      status: 202,
      code: 'paths_unchanged',
      reason: 'skipped: no changes under services/api/**',
    });
    if (decision.continue || decision.kind !== 'skipped') return;
    expect(decision.contexts).toEqual([
      'stepline',
      'stepline/build',
      'stepline/test/unit',
      'stepline/deploy/staging',
      'stepline/deploy/production',
    ]);
  });

  it('runs when one changed path is under the included paths', () => {
    // Act
    const decision = withPaths({ include: ['services/api/**'] }).route(changed(['docs/a.md', 'services/api/x.ts']));

    // Assess
    expect(decision.continue).toBe(true);
  });

  it('skips a run whose only changes are excluded', () => {
    // Act
    const decision = withPaths({ exclude: ['docs/**', '**/*.md'] }).route(changed(['docs/guide.txt', 'README.md']));

    // Assess
    expect(decision).toMatchObject({
      kind: 'skipped',
      reason: 'skipped: no changes under ** (outside docs/**, **/*.md)',
    });
  });

  it('matches dotfiles with **', () => {
    // Act
    const decision = withPaths({ include: ['**'], exclude: ['docs/**'] }).route(changed(['.github/workflows/ci.yml']));

    // Assess
    expect(decision.continue).toBe(true);
  });

  it('lets the run go when the change list is incomplete', () => {
    // Act
    const decision = withPaths({ include: ['services/api/**'] }).route(changed(['docs/readme.md'], false));

    // Assess
    expect(decision.continue).toBe(true);
  });

  it('lets the run go when the change list is empty', () => {
    // Act
    const decision = withPaths({ include: ['services/api/**'] }).route(changed([]));

    // Assess
    expect(decision.continue).toBe(true);
  });

  it('reports the same contexts as the route declares', () => {
    // Prepare
    const decision = router.route(request());
    if (!decision.continue) throw new Error('expected a route');

    // Act
    const contexts = statusContexts(decision.value);

    // Assess
    expect(contexts).toEqual([
      'stepline',
      'stepline/build',
      'stepline/test/unit',
      'stepline/deploy/staging',
      'stepline/deploy/production',
    ]);
  });
});

describe('the execution input', () => {
  it('is serialized as the same document as the input object, for a reused route too', () => {
    // Prepare
    const intake = new Intake(CONFIG);

    // Act
    const plans = [intake.plan(request()), intake.plan(request({ deliveryId: 'd-2' }))];

    // Assess
    for (const plan of plans) {
      if (!plan.continue) throw new Error('expected a plan');
      expect(JSON.parse(plan.value.inputJson)).toEqual(JSON.parse(JSON.stringify(plan.value.input)));
    }
    const [first, second] = plans.map((p) => (p.continue ? p.value : null));
    expect(second!.input.route).toBe(first!.input.route);
    expect(second!.name).not.toBe(first!.name);
  });
});
