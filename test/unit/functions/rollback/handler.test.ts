import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRollout, deploy } from '../../../../core/deploy/service';
import { createRollbackHandler } from '../../../../functions/rollback/handler';
import {
  awaitRollout,
  DIGEST_V1,
  DIGEST_V2,
  deployEvent,
  environment,
  REPOSITORY,
  startCluster,
  type TestCluster,
} from '../../../local/kubernetes/support';
import { captured, dependencies, lambdaContext } from '../deploy/support';

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startCluster();
});
afterEach(async () => {
  await cluster.stop();
});

describe('functions/rollback', () => {
  it('re-applies the last good revision, marks the failed one, and answers with what to watch', async () => {
    // Prepare
    const ports = await cluster.ports();
    const good = await deploy(deployEvent(), ports);
    await awaitRollout(
      {
        executionName: 'x',
        environment: environment(),
        watch: good.watch,
        deadline: good.rollout.deadline,
        revision: good.revision,
      },
      ports,
    );
    const bad = await deploy(
      deployEvent({ image: { repository: `${REPOSITORY}-never-ready`, digest: DIGEST_V2, containers: ['api'] } }),
      ports,
    );
    const handler = createRollbackHandler(dependencies(cluster.kubeconfig));

    // Act
    const { result, lines } = await captured(() =>
      handler(
        {
          executionName: 'shop-main-3f78685',
          environment: environment(),
          failedRevision: bad.revision,
          reason: 'ProgressDeadlineExceeded',
        },
        lambdaContext('stepline-rollback'),
      ),
    );

    // Assess
    expect(result).toMatchObject({ revision: 1, image: `${REPOSITORY}@${DIGEST_V1}`, changed: 1, leftover: [] });
    expect(lines.find((l) => l['message'] === 'rolled back')).toMatchObject({
      reason: 'ProgressDeadlineExceeded',
      revision: 1,
      failedRevision: 2,
    });
    const after = await checkRollout(
      {
        executionName: 'x',
        environment: environment(),
        watch: result!.watch,
        deadline: result!.rollout.deadline,
        revision: null,
      },
      ports,
    );
    expect(after.objects[0]!.kind).toBe('Deployment');
    expect((await ports.revisions.list('shop', 'production')).map((r) => r.status)).toEqual(['deployed', 'failed']);
  });

  it('throws NoPreviousRevision when the environment never completed a rollout', async () => {
    // Prepare
    const handler = createRollbackHandler(dependencies(cluster.kubeconfig));

    // Act
    const { error } = await captured(() =>
      handler(
        { executionName: 'x', environment: environment(), failedRevision: null },
        lambdaContext('stepline-rollback'),
      ),
    );

    // Assess
    expect(error?.name).toBe('NoPreviousRevision');
    expect(error?.message).toContain('revisions in namespace shop: none');
  });
});
