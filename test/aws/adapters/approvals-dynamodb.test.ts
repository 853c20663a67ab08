import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbApprovalStore } from '../../../adapters/aws/approvals-dynamodb';
import { APPROVALS_WAITING_INDEX, type ApprovalDecision, type ApprovalRecord } from '../../../core/approval/contracts';
import { EXECUTION_ARN, SHA } from '../../support/githost/fixtures';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The approval store (adapters/aws/approvals-dynamodb.ts) against moto's DynamoDB, in the table the synthesized
 * template declares (Approvals/Requests: partition key `id`, TTL on `ttl`, and the sparse global secondary index
 * `waiting`). A request is in the index only while it carries the `waiting` attribute: DynamoDB writes an item to a
 * global secondary index only when the item has the index's key attributes (Developer Guide, "Take advantage of
 * sparse indexes").
 */

const moto = useMoto({ select: (id) => id.startsWith('ApprovalsRequests') });

const table = () => onlyOfType(moto().standIns, 'AWS::DynamoDB::Table', 'ApprovalsRequests').ref;
const store = () => new DynamoDbApprovalStore(moto().clients.dynamodb, table());

const record = (id: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id,
  taskToken: `token-${id}`,
  executionArn: EXECUTION_ARN,
  provider: 'github',
  repository: 'acme/shop',
  commitSha: SHA,
  commitMessage: 'Add the basket',
  commitUrl: null,
  ref: 'main',
  environment: 'production',
  approvers: ['alice'],
  image: { uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/shop', digest: 'sha256:abc' },
  tests: [{ suite: 'unit', state: 'success' }],
  requestedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: 2_000,
  status: 'waiting',
  decidedBy: null,
  decidedAt: null,
  reason: null,
  ...overrides,
});

const approve: ApprovalDecision = { status: 'approved', by: 'alice', at: '2030-01-01T00:10:00.000Z', reason: null };

/** The ids the waiting index holds, read straight from it (what the keeper's Query reads). */
async function indexed(): Promise<string[]> {
  const out = await moto().clients.dynamodb.send(
    new ScanCommand({ TableName: table(), IndexName: APPROVALS_WAITING_INDEX }),
  );
  return (out.Items ?? []).map((item) => item.id!.S!).sort();
}

describe('the DynamoDB approval store (moto)', () => {
  it('writes where the template declares: the waiting index and the TTL attribute the store uses', async () => {
    // Act
    const { Table } = await moto().clients.dynamodb.send(new DescribeTableCommand({ TableName: table() }));
    const ttl = await moto().clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table() }));

    // Assess
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection])).toEqual([
      [APPROVALS_WAITING_INDEX, [{ AttributeName: 'waiting', KeyType: 'HASH' }], { ProjectionType: 'ALL' }],
    ]);
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
  });

  it('records a request once, with its expiry plus 30 days as the TTL, and reads it back', async () => {
    // Act
    const first = await store().create(record('A1'));
    const retried = await store().create(record('A1', { taskToken: 'another' }));

    // Assess
    expect([first, retried]).toEqual([true, false]);
    expect(await store().get('A1')).toEqual(record('A1'));
    expect(await store().get('nope')).toBeNull();
    const raw = await moto().clients.dynamodb.send(
      new GetItemCommand({ TableName: table(), Key: { id: { S: 'A1' } } }),
    );
    expect(raw.Item?.ttl).toEqual({ N: String(2_000 + 30 * 24 * 3600) });
  });

  it('takes one decision only, and none once the request has expired', async () => {
    // Prepare
    await store().create(record('A1'));
    await store().create(record('A2'));

    // Act
    const approved = await store().decide('A1', approve, 1_000);
    const replayed = await store().decide('A1', { ...approve, status: 'rejected', by: 'bob' }, 1_001);
    const late = await store().decide('A2', approve, 2_000);
    const unknown = await store().decide('nope', approve, 1_000);

    // Assess
    expect([approved, replayed, late, unknown]).toEqual([true, false, false, false]);
    expect(await store().get('A1')).toMatchObject({ status: 'approved', decidedBy: 'alice', decidedAt: approve.at });
    expect(await store().get('A2')).toMatchObject({ status: 'waiting', decidedBy: null });
  });

  it('lists a waiting request from the sparse index, and no longer once it is decided or expired', async () => {
    // Prepare
    for (const id of ['A1', 'A2', 'A3', 'A4']) await store().create(record(id));
    await store().create(record('A5', { expiresAt: 1_000 }));
    await store().decide('A2', approve, 1_000);
    await store().decide('A3', { ...approve, status: 'rejected', reason: 'freeze' }, 1_000);
    await store().expire('A4');

    // Act
    const waiting = await store().listWaiting(1_500);

    // Assess: A5 is still in the index (nobody expired it yet) but past its expiry, so not listed.
    expect(waiting.map((r) => [r.id, r.taskToken, r.status]).sort()).toEqual([['A1', 'token-A1', 'waiting']]);
    expect(await indexed()).toEqual(['A1', 'A5']);
    expect(await store().get('A3')).toMatchObject({ status: 'rejected', reason: 'freeze' });
    expect(await store().get('A4')).toMatchObject({ status: 'expired' });
  });

  it('puts a reopened request back in the index, and only for the decision it undoes', async () => {
    // Prepare
    await store().create(record('A1'));
    await store().decide('A1', approve, 1_000);

    // Act
    await store().reopen('A1', { ...approve, at: '2030-01-01T00:11:00.000Z' });
    const afterWrongReopen = await store().get('A1');
    await store().reopen('A1', approve);

    // Assess
    expect(afterWrongReopen).toMatchObject({ status: 'approved' });
    expect(await store().get('A1')).toMatchObject({
      status: 'waiting',
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    expect((await store().listWaiting(1_500)).map((r) => r.id)).toEqual(['A1']);
    expect(await indexed()).toEqual(['A1']);
  });

  it('gives a waiting request the task token of a resumed run, and no decided or expired one', async () => {
    // Prepare
    await store().create(record('A1'));
    await store().create(record('A2'));
    await store().decide('A2', approve, 1_000);

    // Act
    const waiting = await store().retoken('A1', 'token-resumed', 1_000);
    const decided = await store().retoken('A2', 'token-resumed', 1_000);
    const late = await store().retoken('A1', 'token-late', 2_000);
    const unknown = await store().retoken('nope', 'token-resumed', 1_000);

    // Assess
    expect([waiting, decided, late, unknown]).toEqual([true, false, false, false]);
    expect(await store().get('A1')).toEqual(record('A1', { taskToken: 'token-resumed' }));
    expect((await store().listWaiting(1_500)).map((r) => r.taskToken)).toEqual(['token-resumed']);
    expect((await store().get('A2'))?.taskToken).toBe('token-A2');
  });

  it('lists the waiting requests across the pages of the index (DynamoDB pages a Query at 1 MB)', async () => {
    // Prepare: 12 requests of about 100 KB each (a long commit message) fill more than one page.
    const long = 'x'.repeat(100_000);
    const ids = Array.from({ length: 12 }, (_, i) => `P${String(i).padStart(2, '0')}`);
    for (const id of ids) await store().create(record(id, { commitMessage: long }));
    await store().decide('P05', approve, 1_000);
    const first = await moto().clients.dynamodb.send(
      new QueryCommand({
        TableName: table(),
        IndexName: APPROVALS_WAITING_INDEX,
        KeyConditionExpression: 'waiting = :one',
        ExpressionAttributeValues: { ':one': { S: '1' } },
      }),
    );

    // Act
    const waiting = await store().listWaiting(1_500);

    // Assess: the first page did not hold them all, and the store read on to the end.
    expect(first.LastEvaluatedKey).toBeDefined();
    expect(first.Count).toBeLessThan(11);
    expect(waiting.map((r) => r.id).sort()).toEqual(ids.filter((id) => id !== 'P05'));
  });
});
