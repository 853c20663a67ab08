import { describe, expect, it } from 'vitest';
import type { ExecutionInput } from '../../../core/intake/types';
import type { StateMachineDefinition } from '../../../local/engine';
import { checkpointFromHistory } from '../../../local/services/stepfunctions';
import { environment, pipelineRequest, route } from '../../support/githost/fixtures';
import { PipelineWorld, pipelineDefinition } from '../../support/workflow/pipeline-world';

/**
 * Where a run stood when the runtime was killed, read back from its history, and the run continued from there:
 * the pipeline killed while production's approval gate waits goes on at that gate; staging, deployed before,
 * is not deployed again, and nothing is built again.
 */

const input: ExecutionInput = {
  request: pipelineRequest('github'),
  route: route({
    environments: [
      environment('staging', { rollout: { timeoutSeconds: 300, pollSeconds: 5 } }),
      environment('production', {
        rollout: { timeoutSeconds: 300, pollSeconds: 5 },
        approval: { approvers: ['alice'], timeoutSeconds: 3600 },
      }),
    ],
  }),
};
const definition = pipelineDefinition() as unknown as StateMachineDefinition;

describe('a run killed at an approval gate, continued from its history', () => {
  it('stands in the Promote Map: staging done with its output, production at its Approve state', async () => {
    // Prepare
    const killed = await new PipelineWorld({ approval: 'crash' }).start(input, 'run-1').done;
    const history = killed.history.filter((e) => e.type !== 'ExecutionAborted');

    // Act
    const checkpoint = checkpointFromHistory(definition, history);

    // Assess
    expect(killed.status).toBe('ABORTED');
    expect(checkpoint?.stateName).toBe('Promote');
    expect(checkpoint?.variables).toMatchObject({ build: expect.anything(), image: expect.anything() });
    expect([...(checkpoint?.children?.results.keys() ?? [])]).toEqual([0]);
    expect(checkpoint?.children?.results.get(0)).toMatchObject({ environment: 'staging', revision: 1 });
    const production = checkpoint?.children?.failed.get(1);
    expect(production?.stateName).toBe('Approve');
    expect(production?.variables).toMatchObject({ env: { name: 'production' }, first: false });
  });

  it('goes on at the gate: nothing built again, staging not deployed again, production deployed once approved', async () => {
    // Prepare
    const killed = await new PipelineWorld({ approval: 'crash' }).start(input, 'run-1').done;
    const history = killed.history.filter((e) => e.type !== 'ExecutionAborted');
    const checkpoint = checkpointFromHistory(definition, history);
    const world = new PipelineWorld();

    // Act
    const result = await world.start(input, 'run-1', {
      checkpoint: checkpoint!,
      history,
      redriveCount: 1,
      startDate: history[0]!.timestamp,
    }).done;

    // Assess
    expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
    expect(world.calls.builds).toHaveLength(0);
    expect(world.calls.approvals.map((a) => a.environment)).toEqual(['production']);
    expect(world.calls.deploys.map((d) => d.environment.name)).toEqual(['production']);
    expect(result.output).toMatchObject({
      environments: [
        { environment: 'staging', revision: 1 },
        { environment: 'production', revision: 1 },
      ],
    });
    const redriven = result.history.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(redriven).toBe(history.length);
    expect(result.history.map((e) => e.id)).toEqual(result.history.map((_, i) => i + 1));
  });

  it('has no checkpoint for a history that stands between two states', () => {
    // Prepare
    const history = [
      {
        id: 1,
        previousEventId: 0,
        timestamp: new Date(),
        type: 'ExecutionStarted',
        executionStartedEventDetails: { input: '{}' },
      },
    ];

    // Act
    const checkpoint = checkpointFromHistory(definition, history as never);

    // Assess
    expect(checkpoint).toBeUndefined();
  });
});
