import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterHandle } from '../../adapters/kubernetes/access';
import { LocalGitRepository } from '../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../core/config/delivery';
import { systemClock } from '../../core/deploy/ports';
import type { KubernetesObject } from '../../core/deploy/types';
import type { ExecutionInput } from '../../core/intake/types';
import { createDeployHandler } from '../../functions/deploy/handler';
import { createRollbackHandler } from '../../functions/rollback/handler';
import { createRolloutHandler } from '../../functions/rollout/handler';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
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

async function world(degraded: (sha: string, repository: LocalGitRepository) => Promise<boolean>) {
  const repository = await LocalGitRepository.create(join(dir, 'deploy.git'), 'main', {
    'apps/staging/kustomization.yaml': KUSTOMIZATION,
  });
  const pipeline = new PipelineWorld();
  const deps = {
    open: async () => argoCd(repository, (sha) => degraded(sha, repository)),
    manifests: { read: async () => [] },
    clock: systemClock,
    gitops: { open: () => repository, runLink: (name: string) => `https://stepline.example.test/runs/${name}` },
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
      invoked.push(arn.split(':').at(-1) ?? arn);
      return handler(payload, lambdaContext(arn.split(':').at(-1) ?? 'f'));
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
});
