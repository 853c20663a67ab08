import { DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDeploymentStore } from '../../../adapters/aws/deployments-dynamodb';
import type { DeploymentRecord, Incident } from '../../../core/insight/contracts';
import { EXECUTION_ARN, SHA } from '../../support/githost/fixtures';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The deployment store (adapters/aws/deployments-dynamodb.ts) against moto's DynamoDB, in the table the synthesized
 * template declares (StatusReporter/Deployments: partition key `pk`, sort key `sk`). A stream's newest records come
 * from one Query read backwards (`ScanIndexForward: false`: "the results are returned in descending order of the
 * sort key", DynamoDB API Reference, Query); listing every record and incidents page through `LastEvaluatedKey`.
 */

const moto = useMoto({ select: (id) => id.startsWith('StatusReporterDeployments') });

const table = () => onlyOfType(moto().standIns, 'AWS::DynamoDB::Table', 'StatusReporterDeployments').ref;
const store = () => new DynamoDeploymentStore(table(), moto().clients.dynamodb);

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

describe('the DynamoDB deployment store (moto)', () => {
  it('writes to the table the template declares: pk and sk, strings', async () => {
    // Act
    const { Table } = await moto().clients.dynamodb.send(new DescribeTableCommand({ TableName: table() }));

    // Assess
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it("reads a stream's newest records first, at most the limit, and only that stream's", async () => {
    // Prepare: written out of order, in two environments
    for (const day of ['03', '01', '04', '02']) await store().put(record('production', `2030-01-${day}T10:00:00.000Z`));
    await store().put(record('staging', '2030-01-05T10:00:00.000Z'));

    // Act
    const recent = await store().recent('github:acme/shop:production', 3);

    // Assess
    expect(recent.map((r) => r.deployedAt.slice(0, 10))).toEqual(['2030-01-04', '2030-01-03', '2030-01-02']);
    expect(recent[0]).toEqual(record('production', '2030-01-04T10:00:00.000Z'));
  });

  it('keeps one item for the same record written twice, and one per result of the same execution', async () => {
    // Prepare
    const succeeded = record('production', '2030-01-01T10:00:00.000Z');
    const failed = { ...succeeded, result: 'failed' as const, failure: { kind: 'rolled-back' as const, reason: 'x' } };

    // Act
    await store().put(succeeded);
    await store().put(succeeded);
    await store().put(failed);

    // Assess
    const items = await moto().clients.dynamodb.send(new ScanCommand({ TableName: table() }));
    expect(items.Count).toBe(2);
    expect((await store().list({})).map((r) => r.result).sort()).toEqual(['failed', 'succeeded']);
  });

  it('lists every record oldest first across pages, filtered by time, environment and repository', async () => {
    // Prepare: a dozen records of about 100 KB each fill more than one of DynamoDB's 1 MB pages
    const big = Array.from({ length: 250 }, (_, i) => ({
      sha: SHA,
      time: `2030-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
      pad: 'x'.repeat(380),
    }));
    for (let day = 12; day >= 1; day--) {
      const environment = day % 2 === 0 ? 'production' : 'staging';
      await store().put(record(environment, `2030-01-${String(day).padStart(2, '0')}T10:00:00.000Z`, { commits: big }));
    }
    await store().put(
      record('production', '2030-01-13T10:00:00.000Z', {
        repository: 'acme/other',
        stream: 'github:acme/other:production',
      }),
    );
    await store().putIncident(incident('github:acme/shop#1', '2030-01-02T00:00:00.000Z', null));
    const firstPage = await moto().clients.dynamodb.send(new ScanCommand({ TableName: table() }));

    // Act
    const all = await store().list({});
    const production = await store().list({
      environment: 'production',
      repository: 'acme/shop',
      since: '2030-01-06T00:00:00.000Z',
    });

    // Assess
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    expect(all.map((r) => r.deployedAt.slice(8, 10))).toEqual([
      '01',
      '02',
      '03',
      '04',
      '05',
      '06',
      '07',
      '08',
      '09',
      '10',
      '11',
      '12',
      '13',
    ]);
    expect(production.map((r) => r.deployedAt.slice(8, 10))).toEqual(['06', '08', '10', '12']);
  });

  it('opens, resolves and lists incidents: those opened since, or still open, or resolved since', async () => {
    // Prepare
    await store().putIncident(incident('github:acme/shop#1', '2030-01-01T00:00:00.000Z', '2030-01-01T05:00:00.000Z'));
    await store().putIncident(incident('github:acme/shop#2', '2030-01-02T00:00:00.000Z', null));
    await store().putIncident(incident('github:acme/shop#3', '2030-01-10T00:00:00.000Z', null));
    await store().putIncident(incident('github:acme/shop#3', '2030-01-10T00:00:00.000Z', '2030-01-10T02:00:00.000Z'));
    await store().put(record('production', '2030-01-11T10:00:00.000Z'));

    // Act
    const all = await store().incidents();
    const since = await store().incidents('2030-01-05T00:00:00.000Z');

    // Assess
    expect(all.map((i) => [i.id, i.resolvedAt])).toEqual([
      ['github:acme/shop#1', '2030-01-01T05:00:00.000Z'],
      ['github:acme/shop#2', null],
      ['github:acme/shop#3', '2030-01-10T02:00:00.000Z'],
    ]);
    expect(since.map((i) => i.id)).toEqual(['github:acme/shop#2', 'github:acme/shop#3']);
  });
});
