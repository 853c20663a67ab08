import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubConfigRepository } from '../../adapters/githost/gitops-github';
import { HttpHostTransport } from '../../adapters/githost/http';
import type { ClusterHandle } from '../../adapters/kubernetes/access';
import { LocalGitRepository } from '../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../core/config/delivery';
import { systemClock } from '../../core/deploy/ports';
import type { KubernetesObject } from '../../core/deploy/types';
import type { ConfigRepository } from '../../core/gitops/ports';
import type { ExecutionInput } from '../../core/intake/types';
import { createDeployHandler } from '../../functions/deploy/handler';
import { createRollbackHandler } from '../../functions/rollback/handler';
import { createRolloutHandler } from '../../functions/rollout/handler';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
import { GitOpsHostStandIn } from '../support/githost/gitops-host';
import { lambdaContext } from '../support/githost/lambda';
import { PipelineWorld, SUBSTITUTIONS } from '../support/workflow/pipeline-world';

/**
 * Path tests of the GitOps hand-off (ADR 0103) on the local engine: the workflow's own Deploy → WaitForRollout →
 * CheckRollout loop and its Rollback → CheckRollback loop, with the real deploy, rollout and rollback functions
 * writing to a bare repository and an Argo CD Application whose status a scenario scripts: synced at the branch
 * head, healthy or degraded.
 */

const SHA = '1111111111111111111111111111111111111111';
const KUSTOMIZATION = 'resources:\n  - deployment.yaml\nimages:\n  - name: acme/shop\n    newTag: v1\n';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-path-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const delivery: GitOpsDelivery = {
  type: 'gitops',
  repository: { provider: 'local', name: 'deploy' },
  branch: 'main',
  path: 'apps/staging',
  format: { type: 'kustomize', image: 'acme/shop' },
  mode: 'commit',
  controller: { kind: 'Application', name: 'shop-staging' },
};

function input(): ExecutionInput {
  const request = pipelineRequest('github', {
    ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
    commit: { sha: SHA, before: null, message: 'Change', url: null },
  });
  return {
    request,
    route: route({
      environments: [environment('staging', { rollout: { timeoutSeconds: 300, pollSeconds: 5 }, delivery })],
    }),
  };
}

/** An Argo CD that syncs the branch head at once, healthy unless `degraded` says so of that commit. */
function argoCd(repository: LocalGitRepository, degraded: (sha: string) => Promise<boolean>): ClusterHandle {
  const cluster = {
    async get(ref: { kind: string; name: string }): Promise<KubernetesObject | null> {
      if (ref.kind !== 'Application') return null;
      const head = await repository.head('main');
      return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: ref.name, namespace: 'argocd' },
        status: {
          sync: { status: 'Synced', revision: head },
          health: (await degraded(head))
            ? { status: 'Degraded', message: 'Deployment "shop" exceeded its progress deadline' }
            : { status: 'Healthy' },
        },
      } as KubernetesObject;
    },
  };
  return { cluster, revisions: {} } as unknown as ClusterHandle;
}

async function world(
  degraded: (sha: string, repository: LocalGitRepository) => Promise<boolean>,
  options: { host?: ConfigRepository; afterCall?: (name: string, calls: number) => Promise<void> } = {},
) {
  const repository = await LocalGitRepository.create(join(dir, 'deploy.git'), 'main', {
    'apps/staging/kustomization.yaml': KUSTOMIZATION,
  });
  const pipeline = new PipelineWorld();
  const deps = {
    open: async () => argoCd(repository, (sha) => degraded(sha, repository)),
    manifests: { read: async () => [] },
    clock: systemClock,
    gitops: {
      open: () => options.host ?? repository,
      runLink: (name: string) => `https://stepline.example.test/runs/${name}`,
    },
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Stepline', serviceName: 'test', singleMetric: false }),
  };
  const handlers = {
    [SUBSTITUTIONS.DeployFunctionArn as string]: createDeployHandler(deps),
    [SUBSTITUTIONS.RolloutFunctionArn as string]: createRolloutHandler(deps),
    [SUBSTITUTIONS.RollbackFunctionArn as string]: createRollbackHandler(deps),
  };
  const functions = (pipeline as unknown as { functions: Record<string, (p: unknown) => Promise<unknown>> }).functions;
  const invoked: string[] = [];
  for (const [arn, handler] of Object.entries(handlers)) {
    functions[arn] = async (payload) => {
      const name = arn.split(':').at(-1) ?? arn;
      invoked.push(name);
      try {
        return await handler(payload, lambdaContext(name));
      } finally {
        await options.afterCall?.(name, invoked.filter((n) => n === name).length);
      }
    };
  }
  return { repository, pipeline, invoked };
}

const entered = (history: readonly { type: string }[]) =>
  history
    .filter((e) => e.type.endsWith('StateEntered'))
    .map((e) => (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name);

describe('pipeline workflow with a GitOps delivery', () => {
  it('GitOpsCommitConvergesTest: commits the digest, checks the Application at that commit, succeeds: the same states as an apply', async () => {
    // Prepare
    const { repository, pipeline, invoked } = await world(async () => false);
    const first = await repository.head('main');

    // Act
    const result = await pipeline.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const head = await repository.head('main');
    expect(await repository.firstParent(head)).toBe(first);
    expect(await repository.readFile(head, 'apps/staging/kustomization.yaml')).toContain('digest: sha256:');
    expect(invoked).toEqual(['stepline-deploy', 'stepline-rollout']);
    expect(pipeline.statusTrail('run-1')).toEqual([
      'pipeline:pending',
      'deploy/staging:running',
      'deploy/staging:success',
      'pipeline:success',
    ]);
    // Not one state more than a run that applies: the same path, state by state.
    const applied = await new PipelineWorld({ checksBeforeDone: 0 }).start(input(), 'run-1').done;
    expect(entered(result.history)).toEqual(entered(applied.history));
    expect(entered(result.history)).toEqual(expect.arrayContaining(['Deploy', 'WaitForRollout', 'CheckRollout']));
  });

  it('GitOpsDegradedRevertsTest: a Degraded Application at the commit reverts the write with a revert commit and fails the run', async () => {
    // Prepare: Argo CD reports Degraded at any commit whose kustomization carries the new digest.
    const w = await world(
      async (sha, repo) => (await repo.readFile(sha, 'apps/staging/kustomization.yaml'))?.includes('digest:') === true,
    );
    const first = await w.repository.head('main');

    // Act
    const result = await w.pipeline.start(input(), 'run-1').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Stepline.DeployFailed');
    expect(w.invoked).toEqual(['stepline-deploy', 'stepline-rollout', 'stepline-rollback', 'stepline-rollout']);
    const revert = await w.repository.head('main');
    const write = await w.repository.firstParent(revert);
    expect(await w.repository.firstParent(write ?? '')).toBe(first);
    expect(await w.repository.readFile(revert, 'apps/staging/kustomization.yaml')).toBe(KUSTOMIZATION);
    const failure = w.pipeline.calls.status.find((s) => s.step === 'deploy' && s.state === 'failure');
    expect(failure?.detail?.reason).toContain('is Degraded at');
  });

  it('GitOpsPullRequestWaitsTest: opens a pull request, checks again while it is open, converges on its merge commit', async () => {
    // Prepare: a GitHub stand-in over the configuration repository; a reviewer merges after the first check.
    const host = new GitOpsHostStandIn(join(dir, 'deploy.git'), 'acme/deploy');
    await host.start();
    const transport = new HttpHostTransport({
      provider: 'github',
      baseUrl: host.url,
      credential: { scheme: 'none' },
      retries: 0,
    });
    const w = await world(async () => false, {
      host: new GitHubConfigRepository(transport, 'acme/deploy'),
      afterCall: async (name, calls) => {
        if (name === 'stepline-rollout' && calls === 1) await host.merge(1);
      },
    });
    const pr = input();
    const env = pr.route.environments[0];
    const run: ExecutionInput = {
      ...pr,
      route: {
        ...pr.route,
        environments: [
          {
            ...env,
            delivery: { ...delivery, repository: { provider: 'github', name: 'acme/deploy' }, mode: 'pullRequest' },
          } as never,
        ],
      },
    };

    try {
      // Act
      const result = await w.pipeline.start(run, 'run-1').done;

      // Assess: one pull request from its own branch; the first check waited for it, the second saw the merge.
      expect(result.status).toBe('SUCCEEDED');
      expect(host.pulls.map((p) => [p.number, p.head, p.state])).toEqual([[1, 'stepline/staging/run-1', 'closed']]);
      expect(w.invoked).toEqual(['stepline-deploy', 'stepline-rollout', 'stepline-rollout']);
      expect(await w.repository.head('main')).toBe(host.pulls[0]?.merge_commit_sha);
      expect(entered(result.history).filter((n) => n === 'CheckRollout')).toHaveLength(2);
    } finally {
      await host.stop();
    }
  });
});
