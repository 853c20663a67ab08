import { describe, expect, it } from 'vitest';
import { prebuiltOf } from '../../core/intake/prebuilt';
import type { ExecutionInput } from '../../core/intake/types';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
import { IMAGE_DIGEST, PipelineWorld } from '../support/workflow/pipeline-world';

/**
 * A re-run from the failed environment (issue 17, ADR 0106) on the local engine: the input's `prebuilt` names the
 * image the failed run built, read back from that run's history; the workflow goes from registering the run to the
 * environments, deploys that image by digest, and reports the first run's build and tests as they were.
 */

const SHA = '1111111111111111111111111111111111111111';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:run-1';

function input(): ExecutionInput {
  return {
    request: pipelineRequest('github', {
      ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
      commit: { sha: SHA, before: null, message: 'Change', url: null },
    }),
    route: route({
      concurrencyKey: 'github:acme/shop:refs/heads/main',
      environments: [
        environment('staging', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
        environment('production', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
      ],
    }),
  };
}

const entered = (history: readonly { type: string }[]) => history.filter((e) => e.type.endsWith('StateEntered')).length;

describe('re-run from the failed environment', () => {
  it('PrebuiltImageTest: deploys the first run’s image to the failed environment only, with no build and no tests', async () => {
    // Prepare: a run that deploys staging and fails in production
    const first = await new PipelineWorld({ rolloutFailsIn: ['production'] }).start(input(), 'run-1').done;
    const prebuilt = prebuiltOf(ARN, first.history);
    const original = input();
    const world = new PipelineWorld();

    // Act
    const result = await world.start(
      {
        ...original,
        route: { ...original.route, environments: original.route.environments.slice(1) },
        ...(prebuilt ? { prebuilt } : {}),
      },
      'run-2',
    ).done;

    // Assess
    expect(first.status).toBe('FAILED');
    expect(prebuilt).toMatchObject({
      image: { digest: IMAGE_DIGEST },
      manifestsLocation: 's3://stepline-artifacts/run-1',
      build: { logUrl: expect.any(String) },
      tests: [
        { suite: 'unit', state: 'success' },
        { suite: 'e2e', state: 'success' },
      ],
      from: ARN,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.builds).toEqual([]);
    expect(world.calls.deploys.map((d) => [d.environment.name, d.image.digest, d.manifestsLocation])).toEqual([
      ['production', IMAGE_DIGEST, 's3://stepline-artifacts/run-1'],
    ]);
    expect(world.calls.coordination.map((c) => `${c.action}${c.environmentKey ? `:${c.environmentKey}` : ''}`)).toEqual(
      ['register', 'enter:github:acme/shop:production', 'leave:github:acme/shop:production'],
    );
    expect(world.statusTrail('run-2')).toEqual([
      'pipeline:pending',
      'deploy/production:running',
      'deploy/production:success',
      'pipeline:success',
    ]);
    // The build and test contexts opened as pending at the start are settled with the first run's results.
    expect(world.calls.status.at(-1)?.detail?.finished).toEqual([
      { step: 'build', state: 'success', logUrl: prebuilt?.build?.logUrl },
      expect.objectContaining({ step: 'test', suite: 'unit', state: 'success' }),
      expect.objectContaining({ step: 'test', suite: 'e2e', state: 'success' }),
    ]);
    expect(result.output).toMatchObject({
      image: { digest: IMAGE_DIGEST },
      environments: [{ environment: 'production' }],
    });
    expect(result.history.some((e) => JSON.stringify(e).includes('"name":"Build"'))).toBe(false);
    expect(entered(result.history)).toBeLessThan(entered(first.history));
  });

  it('PrebuiltWithoutDigestTest: an input whose prebuilt image has no digest builds as usual', async () => {
    // Prepare
    const world = new PipelineWorld();
    const broken = { image: { repository: 'r', digest: null } } as unknown as ExecutionInput['prebuilt'];

    // Act
    const result = await world.start({ ...input(), ...(broken ? { prebuilt: broken } : {}) }, 'run-3').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.builds.length).toBe(3);
  });
});
