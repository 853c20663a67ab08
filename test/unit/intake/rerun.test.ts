import { describe, expect, it } from 'vitest';
import { Intake } from '../../../core/intake/intake';
import { receive } from '../../../core/intake/receive';
import type { RerunRequest } from '../../../core/intake/rerun';
import { rerunExecutionName } from '../../../core/intake/rerun';
import { CONFIG, githubDelivery, githubExample, SECRETS } from './support';

/**
 * GitHub's "Re-run" on a Stepline check run (issue 17; ADR 0091): the `check_run` `rerequested` event, from
 * @octokit/webhooks-examples, with the check run's `external_id` the execution ARN its run gave it.
 */

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:Codertocat-Hello-World-d6fde92-72d3162e';

function rerequested(externalId = ARN) {
  const payload = githubExample('check_run', (p) => p.action === 'rerequested');
  payload.check_run.external_id = externalId;
  return githubDelivery('check_run', payload, { deliveryId: 'a1b2c3d4-0000-4000-8000-000000000001' });
}

function ports(started: Array<[RerunRequest, string]>) {
  return {
    secrets: { get: async () => SECRETS },
    workflow: { start: async () => Promise.reject(new Error('a re-run goes through the rerun port')) },
    parking: { park: async () => {} },
    reruns: {
      rerun: async (request: RerunRequest, name: string) => {
        started.push([request, name]);
        return { outcome: 'started' as const, executionArn: `${ARN.replace(/:[^:]+$/, '')}:${name}` };
      },
    },
  };
}

describe('"Re-run" on a check run', () => {
  it("starts the execution's input again under a new name", async () => {
    // Prepare
    const started: Array<[RerunRequest, string]> = [];

    // Act
    const receipt = await receive(new Intake(CONFIG), rerequested(), ports(started));

    // Assess
    expect(receipt.status).toBe(202);
    expect(started).toHaveLength(1);
    const [request, name] = started[0]!;
    expect(request).toMatchObject({
      repository: 'github/hello-world',
      sha: 'd6fde92930d4715a2b49857d24b940956b26d2d3',
      checkName: 'randscape',
      executionArn: ARN,
    });
    expect(name).toMatch(/^Codertocat-Hello-World-d6fde92-72d3162e-r[0-9a-f]{8}$/);
    expect(receipt.body).toMatchObject({ status: 'started', name });
  });

  it('starts nothing for a check run that is not one of a Stepline run', async () => {
    const started: Array<[RerunRequest, string]> = [];
    const receipt = await receive(new Intake(CONFIG), rerequested(''), ports(started));
    expect(receipt).toMatchObject({ status: 202, body: { status: 'ignored', code: 'event_not_handled' } });
    expect(started).toEqual([]);
  });

  it('names a redelivery alike, and a second press differently, within 80 characters', () => {
    const long = `${ARN.replace(/:[^:]+$/, '')}:${'x'.repeat(80)}`;
    expect(rerunExecutionName(ARN, 'd1')).toBe(rerunExecutionName(ARN, 'd1'));
    expect(rerunExecutionName(ARN, 'd1')).not.toBe(rerunExecutionName(ARN, 'd2'));
    expect(rerunExecutionName(long, 'd1')).toHaveLength(80);
    const again = rerunExecutionName(`${ARN.replace(/:[^:]+$/, '')}:${rerunExecutionName(ARN, 'd1')}`, 'd2');
    expect(again).toBe(rerunExecutionName(ARN, 'd2'));
  });
});
