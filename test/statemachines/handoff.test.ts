import { describe, expect, it } from 'vitest';
import type { ExecutionInput } from '../../core/intake/types';
import { environment, pipelineRequest, route } from '../support/githost/fixtures';
import { PipelineWorld } from '../support/workflow/pipeline-world';

/**
 * A hand-off from another CI (issue 20, ADR 0100) on the local engine: the input's `prebuilt` is the image the other
 * CI built, `handoff.tests` whether the suites run. The workflow skips the build at `ImageGiven`: with the suites,
 * it goes to `Test` (one Choice rule more, no state more); without, straight to the environments.
 */

const SHA = '2222222222222222222222222222222222222222';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const IMAGE = { repository: 'ghcr.io/acme/shop', digest: DIGEST };
const MANIFESTS = 's3://acme-artifacts/jenkins/42';

function input(tests: boolean): ExecutionInput {
  const base = route({
    concurrencyKey: 'github:acme/shop:refs/heads/main',
    environments: [
      environment('staging', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
      environment('production', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
    ],
  });
  return {
    request: pipelineRequest('github', {
      event: 'handoff',
      ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
      commit: { sha: SHA, before: null, message: null, url: null },
    }),
    route: tests ? base : { ...base, tests: [] },
    prebuilt: { image: IMAGE, manifestsLocation: MANIFESTS, build: null, tests: [], from: 'handoff:jenkins' },
    handoff: { source: 'jenkins', tests },
  };
}

const stateNames = (history: readonly { type: string }[]) =>
  history
    .filter((e) => e.type.endsWith('StateEntered'))
    .map((e) => (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name);

describe('a hand-off from another CI', () => {
  it('HandoffTest: promotes the image given to every environment, with no build and no suites', async () => {
    // Prepare
    const world = new PipelineWorld();

    // Act
    const result = await world.start(input(false), 'handoff-1').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.builds).toEqual([]);
    expect(world.calls.deploys.map((d) => [d.environment.name, d.image, d.manifestsLocation])).toEqual([
      ['staging', IMAGE, MANIFESTS],
      ['production', IMAGE, MANIFESTS],
    ]);
    const states = stateNames(result.history);
    expect(states.slice(0, 5)).toEqual(['PathsChanged', 'ReportPending', 'Register', 'ImageGiven', 'Promote']);
    expect(states).not.toContain('Build');
    expect(states).not.toContain('Test');
    expect(world.statusTrail('handoff-1').at(-1)).toBe('pipeline:success');
  });

  it('HandoffWithSuitesTest: runs the suites against the image given, then promotes it; never builds', async () => {
    // Prepare
    const world = new PipelineWorld();

    const given = input(true);
    const build = { id: null, logUrl: 'https://jenkins.example.com/job/shop/42/' };

    // Act
    const result = await world.start({ ...given, prebuilt: { ...given.prebuilt!, build } }, 'handoff-2').done;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.builds.map((b) => b.env['STEPLINE_SUITE']).sort()).toEqual(['e2e', 'unit']);
    expect(world.calls.builds.every((b) => b.env['IMAGE_DIGEST'] === DIGEST)).toBe(true);
    expect(world.calls.deploys.map((d) => d.image.digest)).toEqual([DIGEST, DIGEST]);
    const states = stateNames(result.history);
    expect(states.slice(0, 5)).toEqual(['PathsChanged', 'ReportPending', 'Register', 'ImageGiven', 'Test']);
    expect(states).not.toContain('Build');
    // The build context is settled as built, with a link to the other CI's build.
    expect(world.calls.status.at(-1)?.detail?.finished?.[0]).toEqual({
      step: 'build',
      state: 'success',
      logUrl: build.logUrl,
    });
  });

  it('HandoffSuiteFailsTest: a failing suite stops the hand-off before any environment', async () => {
    // Prepare
    const world = new PipelineWorld({ failingSuites: ['e2e'] });

    // Act
    const result = await world.start(input(true), 'handoff-3').done;

    // Assess
    expect(result.status).toBe('FAILED');
    expect(world.calls.deploys).toEqual([]);
    expect(world.statusTrail('handoff-3').at(-1)).toBe('pipeline:failure');
  });
});
