import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RolloutInProgress } from '../../../core/deploy/errors';
import { checkRollout, deploy } from '../../../core/deploy/service';
import { deployEvent, environment, startCluster, type TestCluster } from './support';

let cluster: TestCluster;

beforeEach(async () => {
  // The controllers step only when the test ticks them.
  cluster = await startCluster({ tickMs: 3_600_000 });
});
afterEach(async () => {
  await cluster.stop();
});

describe('a rollout check asked to throw while in progress', () => {
  it('throws Stepline.RolloutInProgress saying what it waits for, and answers done once it is', async () => {
    // Prepare: a fresh deploy, checked before the simulated controller has made any replica available.
    const ports = await cluster.ports();
    const result = await deploy(deployEvent(), ports);
    const event = {
      executionName: 'shop-main-3f78685',
      environment: environment(),
      watch: result.watch,
      deadline: result.rollout.deadline,
      revision: result.revision,
      onWaiting: 'throw' as const,
      onFailure: 'throw' as const,
    };

    // Act
    const first = await checkRollout(event, ports).then(
      () => null,
      (error: unknown) => error,
    );
    let done = null;
    for (let i = 0; i < 50 && !done; i++) {
      cluster.server.tick();
      done = await checkRollout(event, ports).catch((error: unknown) => {
        if (error instanceof RolloutInProgress) return null;
        throw error;
      });
    }

    // Assess
    expect(first).toBeInstanceOf(RolloutInProgress);
    expect((first as Error).name).toBe('Stepline.RolloutInProgress');
    expect((first as Error).message).toMatch(/^Rollout in production in progress: Waiting for deployment /);
    expect(done).toMatchObject({ state: 'done', recordedRevision: 1 });
  });
});
