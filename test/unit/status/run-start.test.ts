import { describe, expect, it } from 'vitest';
import { ConsoleLinks } from '../../../core/status/links';
import { planStatus } from '../../../core/status/plan';
import { EXECUTION_ARN, pipelineRequest, route } from '../../support/githost/fixtures';

describe('the status plan of a run that starts', () => {
  it('opens every context the route declares as pending, so required checks show up at once', () => {
    // Prepare
    const links = new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' });

    // Act
    const plan = planStatus(
      {
        request: pipelineRequest('github'),
        route: route(),
        executionArn: EXECUTION_ARN,
        step: 'pipeline',
        state: 'pending',
      },
      { links },
    );

    // Assess
    expect(plan.updates.map((u) => [u.context, u.state, u.description])).toEqual([
      ['stepline', 'pending', 'queued'],
      ['stepline/build', 'pending', 'waiting to build'],
      ['stepline/test/unit', 'pending', 'suite unit waiting'],
      ['stepline/test/e2e', 'pending', 'suite e2e waiting'],
      ['stepline/deploy/staging', 'pending', 'waiting to deploy to staging'],
      ['stepline/deploy/production', 'pending', 'waiting to deploy to production'],
    ]);
    expect(new Set(plan.updates.map((u) => u.targetUrl))).toEqual(new Set([links.execution(EXECUTION_ARN)]));
    expect(plan.deployment).toBeNull();
  });
});
