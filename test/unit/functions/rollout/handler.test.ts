import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResult, RolloutResult } from '../../../../core/deploy/contracts';
import { createDeployHandler } from '../../../../functions/deploy/handler';
import { createRolloutHandler } from '../../../../functions/rollout/handler';
import {
  DIGEST_V2,
  deployEvent,
  environment,
  REPOSITORY,
  startCluster,
  type TestCluster,
} from '../../../local/kubernetes/support';
import { captured, dependencies, lambdaContext } from '../deploy/support';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster.stop();
});

/** The workflow's loop: invoke the rollout function until it is no longer waiting. */
async function loop(
  deployed: DeployResult,
  onFailure?: 'throw',
  afterFirstCheck: () => void = () => {},
): Promise<{ results: RolloutResult[]; error: Error | null }> {
  const handler = createRolloutHandler(dependencies(cluster.kubeconfig));
  const event = {
    executionName: 'shop-main-3f78685',
    environment: environment(),
    watch: deployed.watch,
    deadline: deployed.rollout.deadline,
    revision: deployed.revision,
    ...(onFailure ? { onFailure } : {}),
  };
  const results: RolloutResult[] = [];
  for (let i = 0; i < 300; i += 1) {
    const { result, error } = await captured(() => handler(event, lambdaContext('stepline-rollout')));
    if (error) return { results, error };
    results.push(result!);
    if (i === 0) afterFirstCheck();
    if (result!.state !== 'waiting') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { results, error: null };
}

describe('functions/rollout', () => {
  it("answers waiting with kubectl's reason until the Deployment is rolled out, then done, and records the revision", async () => {
    // Prepare: the controllers start after the first check, so that it sees the rollout before it began.
    cluster.server.controllers.stop();
    const deployed = (
      await captured(() =>
        createDeployHandler(dependencies(cluster.kubeconfig))(deployEvent(), lambdaContext('stepline-deploy')),
      )
    ).result!;

    // Act
    const { results } = await loop(deployed, undefined, () => cluster.server.controllers.start());

    // Assess
    expect(results[0]!.state).toBe('waiting');
    expect(results[0]!.reason).toBe('Waiting for deployment spec update to be observed...');
    expect(results.at(-1)).toMatchObject({ state: 'done', recordedRevision: 1, pollSeconds: 2 });
    const handle = await dependencies(cluster.kubeconfig).open({ type: 'eks', name: 'prod' });
    expect((await handle.revisions.list('shop', 'production'))[0]).toMatchObject({ number: 1, status: 'deployed' });
  });

  it('throws Stepline.RolloutInProgress when the workflow asks it to, logged at INFO and not counted as a failure', async () => {
    // Prepare: a new image while no controller runs, so the Deployment's new generation stays unobserved (no
    // deadline can pass either: only the controllers decide ProgressDeadlineExceeded).
    cluster.server.controllers.stop();
    const deployEventNeverReady = deployEvent({
      image: { repository: `${REPOSITORY}-never-ready`, digest: DIGEST_V2, containers: ['api'] },
    });
    const deployed = (
      await captured(() =>
        createDeployHandler(dependencies(cluster.kubeconfig))(deployEventNeverReady, lambdaContext('stepline-deploy')),
      )
    ).result!;
    const handler = createRolloutHandler(dependencies(cluster.kubeconfig));
    const event = {
      executionName: 'shop-main-3f78685',
      environment: environment(),
      watch: deployed.watch,
      deadline: deployed.rollout.deadline,
      revision: deployed.revision,
      onWaiting: 'throw',
    };

    // Act
    const { error, lines } = await captured(() => handler(event, lambdaContext('stepline-rollout')));
    cluster.server.controllers.start();

    // Assess
    expect(error?.name).toBe('Stepline.RolloutInProgress');
    expect(lines.filter((l) => 'level' in l).map((l) => [l['level'], l['message']])).toEqual([
      ['INFO', 'rollout in progress'],
    ]);
    expect(lines.find((l) => l['message'] === 'rollout in progress')).toMatchObject({
      executionName: 'shop-main-3f78685',
      reason: 'Rollout in production in progress: Waiting for deployment spec update to be observed...',
    });
    expect(lines.filter((l) => 'deployError' in l)).toEqual([]);
  });

  it('throws RolloutFailed for a deadline exceeded when the workflow asks it to throw', async () => {
    // Prepare
    const event = deployEvent({
      image: { repository: `${REPOSITORY}-never-ready`, digest: DIGEST_V2, containers: ['api'] },
    });
    const deployed = (
      await captured(() =>
        createDeployHandler(dependencies(cluster.kubeconfig))(event, lambdaContext('stepline-deploy')),
      )
    ).result!;

    // Act
    const { error } = await loop(deployed, 'throw');

    // Assess
    expect(error?.name).toBe('RolloutFailed');
    expect(error?.message).toMatch(/^Rollout in production failed: deployment "api" exceeded its progress deadline/);
  });
});
