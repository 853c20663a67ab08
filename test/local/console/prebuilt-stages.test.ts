import { describe, expect, it } from 'vitest';
import { eventToJson } from '../../../local/console';
import { pipelineStages } from '../../../local/console/model/stages';
import { readHistory } from '../../../local/console/model/status';
import { IMAGE_DIGEST, PipelineWorld } from '../../support/workflow/pipeline-world';
import { pipelineInput } from './support';

/**
 * The pipeline view of a re-run from the failed environment (ADR 0106), on the real definition and engine: the run
 * builds nothing, and its Build and Tests say they are those of the run that built the image, not "skipped".
 */

const FROM = 'arn:aws:states:us-east-1:000000000000:execution:stepline-pipeline:acme-shop-1a2b3c4-push-1';

describe('the stages of a run that promotes an image built before', () => {
  it('shows the build and the tests as reused from the run that built the image, and deploys', async () => {
    // Prepare
    const original = pipelineInput();
    const input = {
      ...original,
      route: { ...original.route, environments: original.route.environments.slice(1) },
      prebuilt: {
        image: { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/shop', digest: IMAGE_DIGEST },
        manifestsLocation: 's3://stepline-artifacts/run-1',
        build: { id: 'stepline-build:1', logUrl: null },
        tests: [
          { suite: 'unit', state: 'success', logUrl: null },
          { suite: 'e2e', state: 'success', logUrl: null },
        ],
        from: FROM,
      },
    };

    // Act
    const result = await new PipelineWorld().start(input, 'rerun').done;
    const stages = pipelineStages(input, readHistory(result.history.map(eventToJson), result.status), result.status);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const jobs = Object.fromEntries(stages.flatMap((s) => s.jobs.map((j) => [j.id, [j.status, j.note]])));
    expect(jobs).toEqual({
      build: ['succeeded', 'reused from acme-shop-1a2b3c4-push-1'],
      'test:unit': ['succeeded', 'reused from acme-shop-1a2b3c4-push-1'],
      'test:e2e': ['succeeded', 'reused from acme-shop-1a2b3c4-push-1'],
      'deploy:production': ['succeeded', null],
      'rollout:production': ['succeeded', null],
    });
  });
});
