import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteDeploymentStore } from '../../../adapters/local/deployments-sqlite';
import type { DeploymentRecord, Incident } from '../../../core/insight/contracts';
import { EXECUTION_ARN, SHA } from '../../support/githost/fixtures';

/**
 * The deployment store of the local runtime (adapters/local/deployments-sqlite.ts) on a SQLite file's tables, held
 * to what the DynamoDB store does on moto (test/aws/adapters/deployments-dynamodb.test.ts).
 */

function record(environment: string, deployedAt: string, overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    stream: `github:acme/shop:${environment}`,
    provider: 'github',
    repository: 'acme/shop',
    environment,
    executionArn: `${EXECUTION_ARN}-${deployedAt}`,
    sha: SHA,
    ref: 'main',
    deployedAt,
    result: 'succeeded',
    failure: null,
    rolledBackTo: null,
    previousSha: null,
    commits: [{ sha: SHA, time: '2030-01-01T00:00:00.000Z' }],
    ...overrides,
  };
}

function incident(id: string, openedAt: string, resolvedAt: string | null): Incident {
  return {
    id,
    source: 'issue',
    provider: 'github',
    repository: 'acme/shop',
    environment: 'production',
    title: 'checkout down',
    openedAt,
    resolvedAt,
    commits: [SHA],
    executions: [],
  };
}

const store = () => new SqliteDeploymentStore(new Database(':memory:'));

describe('the SQLite deployment store', () => {
  it("reads a stream's newest records first, at most the limit, and lists all oldest first with filters", async () => {
    // Prepare
    const s = store();
    for (const day of ['03', '01', '04', '02']) await s.put(record('production', `2030-01-${day}T10:00:00.000Z`));
    await s.put(record('staging', '2030-01-05T10:00:00.000Z'));
    await s.put(record('production', '2030-01-06T10:00:00.000Z', { repository: 'acme/other', stream: 'x' }));

    // Act
    const recent = await s.recent('github:acme/shop:production', 3);
    const listed = await s.list({ environment: 'production', repository: 'acme/shop', since: '2030-01-02' });

    // Assess
    expect(recent.map((r) => r.deployedAt.slice(8, 10))).toEqual(['04', '03', '02']);
    expect(listed.map((r) => r.deployedAt.slice(8, 10))).toEqual(['02', '03', '04']);
    expect((await s.list({})).map((r) => r.deployedAt.slice(8, 10))).toEqual(['01', '02', '03', '04', '05', '06']);
  });

  it('keeps one row for the same record written twice, and one per result of the same execution', async () => {
    // Prepare
    const s = store();
    const succeeded = record('production', '2030-01-01T10:00:00.000Z');

    // Act
    await s.put(succeeded);
    await s.put(succeeded);
    await s.put({ ...succeeded, result: 'failed', failure: { kind: 'rolled-back', reason: 'x' } });

    // Assess
    expect((await s.list({})).map((r) => r.result).sort()).toEqual(['failed', 'succeeded']);
  });

  it('opens, resolves and lists incidents: those opened since, or still open, or resolved since', async () => {
    // Prepare
    const s = store();
    await s.putIncident(incident('github:acme/shop#1', '2030-01-01T00:00:00.000Z', '2030-01-01T05:00:00.000Z'));
    await s.putIncident(incident('github:acme/shop#2', '2030-01-02T00:00:00.000Z', null));
    await s.putIncident(incident('github:acme/shop#3', '2030-01-10T00:00:00.000Z', null));
    await s.putIncident(incident('github:acme/shop#3', '2030-01-10T00:00:00.000Z', '2030-01-10T02:00:00.000Z'));

    // Act
    const all = await s.incidents();
    const since = await s.incidents('2030-01-05T00:00:00.000Z');

    // Assess
    expect(all.map((i) => [i.id, i.resolvedAt])).toEqual([
      ['github:acme/shop#1', '2030-01-01T05:00:00.000Z'],
      ['github:acme/shop#2', null],
      ['github:acme/shop#3', '2030-01-10T02:00:00.000Z'],
    ]);
    expect(since.map((i) => i.id)).toEqual(['github:acme/shop#2', 'github:acme/shop#3']);
  });
});
