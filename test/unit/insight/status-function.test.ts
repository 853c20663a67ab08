import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteDeploymentStore } from '../../../adapters/local/deployments-sqlite';
import type { CommitLog, DeploymentRecord, DeploymentStore } from '../../../core/insight/contracts';
import { DeploymentRecorder } from '../../../core/insight/service';
import type { StatusEvent } from '../../../core/status/contracts';
import { createStatusHandler } from '../../../functions/status/handler';
import { type EmittedMetric, functionObservability } from '../../../local/runtime/observability';
import { EXECUTION_ARN, environment, pipelineRequest, route, SHA } from '../../support/githost/fixtures';
import { lambdaContext } from '../../support/githost/lambda';

/**
 * The status function records an environment's end (ADR 0097) and emits the metrics the dashboard charts the four
 * keys from, each with its environment; a store that refuses never fails the status.
 */

function end(state: 'success' | 'failure', reason?: string): StatusEvent {
  return {
    request: pipelineRequest('github'),
    route: route({ environments: [environment('production')] }),
    executionArn: EXECUTION_ARN,
    step: 'deploy',
    environment: 'production',
    state,
    ...(reason ? { detail: { reason } } : {}),
  };
}

const commits: CommitLog = { between: async () => [{ sha: SHA, time: '2030-01-01T09:00:00.000Z' }] };

function handler(store: DeploymentStore) {
  const emitted: EmittedMetric[] = [];
  const observed = functionObservability('stepline-status', 'SILENT', (list) => emitted.push(...list));
  const fn = createStatusHandler({
    transportFor: async () => null,
    links: null,
    contextPrefix: 'stepline',
    deployments: new DeploymentRecorder(store, commits),
    recordedAt: () => new Date('2030-01-01T10:00:00.000Z'),
    ...observed,
  });
  return { fn, emitted };
}

describe('the status function and delivery insight', () => {
  it('records a successful deploy and emits its deploy and lead time with its environment', async () => {
    // Prepare
    const store = new SqliteDeploymentStore(new Database(':memory:'));
    const { fn, emitted } = handler(store);

    // Act
    const result = await fn(end('success'), lambdaContext('stepline-status'));

    // Assess
    expect(result).toMatchObject({ skippedReason: 'no credentials for github' });
    expect(await store.list({})).toMatchObject([{ environment: 'production', result: 'succeeded', sha: SHA }]);
    const insight = emitted.filter((m) => m.dimensions['environment'] === 'production');
    expect(insight.map((m) => `${m.name}=${m.value}`)).toEqual([
      'Deploy=1',
      'DeploySucceeded=1',
      'LeadTimeForChanges=3600',
    ]);
    // The status metrics keep their own dimension
    expect(emitted.find((m) => m.name === 'StatusSkipped')?.dimensions).toEqual({ provider: 'github' });
  });

  it('records a rolled-back deploy as a change failure, and nothing for other steps', async () => {
    const store = new SqliteDeploymentStore(new Database(':memory:'));
    const { fn, emitted } = handler(store);

    await fn(end('failure', 'RolloutFailed: x; rolled back to 1234567'), lambdaContext('stepline-status'));
    await fn({ ...end('success'), step: 'build' }, lambdaContext('stepline-status'));

    expect((await store.list({})).map((r) => r.failure?.kind)).toEqual(['rolled-back']);
    expect(emitted.filter((m) => m.dimensions['environment']).map((m) => m.name)).toEqual(['Deploy', 'ChangeFailure']);
  });

  it('reports the status even when the store refuses the record', async () => {
    // Prepare: a store that cannot be reached
    const broken = new SqliteDeploymentStore(new Database(':memory:'));
    const refusing: DeploymentStore = Object.assign(Object.create(broken) as DeploymentStore, {
      put: async (_record: DeploymentRecord) => {
        throw Object.assign(new Error('the table is not there'), { name: 'ResourceNotFoundException' });
      },
    });
    const { fn, emitted } = handler(refusing);

    // Act
    const result = await fn(end('success'), lambdaContext('stepline-status'));

    // Assess
    expect(result).toMatchObject({ provider: 'github' });
    expect(emitted.map((m) => m.name)).toContain('DeploymentRecordFailed');
  });
});
