import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbApprovalStore } from '../../../adapters/aws/approvals-dynamodb';
import { SqliteApprovalStore } from '../../../adapters/local/approvals-sqlite';
import type { ApprovalDecision, ApprovalRecord } from '../../../core/approval/contracts';
import { EXECUTION_ARN, SHA } from '../../support/githost/fixtures';

const record: ApprovalRecord = {
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  taskToken: 'token-1',
  executionArn: EXECUTION_ARN,
  provider: 'github',
  repository: 'acme/shop',
  commitSha: SHA,
  commitMessage: 'Add the basket',
  commitUrl: null,
  ref: 'main',
  environment: 'production',
  approvers: ['alice'],
  image: { uri: '123.dkr.ecr.eu-west-1.amazonaws.com/acme/shop', digest: 'sha256:abc' },
  tests: [{ suite: 'unit', state: 'success' }],
  requestedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: 2_000,
  status: 'waiting',
  decidedBy: null,
  decidedAt: null,
  reason: null,
};
const approve: ApprovalDecision = { status: 'approved', by: 'alice', at: '2030-01-01T00:10:00.000Z', reason: null };

describe('the SQLite approval store', () => {
  it('records a request once and reads it back', async () => {
    const store = new SqliteApprovalStore(':memory:');
    expect(await store.create(record)).toBe(true);
    expect(await store.create(record)).toBe(false);
    expect(await store.get(record.id)).toEqual(record);
    expect(await store.get('nope')).toBeNull();
    store.close();
  });

  it('takes one decision only, and none after expiry', async () => {
    const store = new SqliteApprovalStore(':memory:');
    await store.create(record);
    await store.create({ ...record, id: 'BBBBBBBBBBBBBBBBBBBBBB' });

    expect(await store.decide(record.id, approve, 1_000)).toBe(true);
    expect(await store.decide(record.id, { ...approve, status: 'rejected', by: 'bob' }, 1_001)).toBe(false);
    expect(await store.decide('BBBBBBBBBBBBBBBBBBBBBB', approve, 2_000)).toBe(false);
    expect(await store.get(record.id)).toMatchObject({ status: 'approved', decidedBy: 'alice', decidedAt: approve.at });
    store.close();
  });

  it('reopens a decision the workflow could not be told, and marks expired ones', async () => {
    const store = new SqliteApprovalStore(':memory:');
    await store.create(record);
    await store.decide(record.id, approve, 1_000);

    await store.reopen(record.id, approve);
    expect((await store.get(record.id))?.status).toBe('waiting');
    await store.expire(record.id);
    expect((await store.get(record.id))?.status).toBe('expired');
    store.close();
  });
});

describe('the SQLite approval store: a run resumed at its gate', () => {
  it('gives a waiting request the new task token, and no decided or expired one', async () => {
    // Prepare
    const store = new SqliteApprovalStore(':memory:');
    await store.create(record);
    await store.create({ ...record, id: 'BBBBBBBBBBBBBBBBBBBBBB' });
    await store.decide('BBBBBBBBBBBBBBBBBBBBBB', approve, 1_000);

    // Act
    const waiting = await store.retoken(record.id, 'token-2', 1_000);
    const decided = await store.retoken('BBBBBBBBBBBBBBBBBBBBBB', 'token-2', 1_000);
    const late = await store.retoken(record.id, 'token-3', 2_000);

    // Assess
    expect([waiting, decided, late]).toEqual([true, false, false]);
    expect(await store.get(record.id)).toEqual({ ...record, taskToken: 'token-2' });
    expect((await store.get('BBBBBBBBBBBBBBBBBBBBBB'))?.taskToken).toBe('token-1');
    store.close();
  });
});

describe('the SQLite approval store: the waiting requests the keeper heartbeats', () => {
  it('lists the requests that wait and have not expired, and none decided, expired or past their expiry', async () => {
    // Prepare
    const store = new SqliteApprovalStore(':memory:');
    const ids = [
      'AAAAAAAAAAAAAAAAAAAAA1',
      'AAAAAAAAAAAAAAAAAAAAA2',
      'AAAAAAAAAAAAAAAAAAAAA3',
      'AAAAAAAAAAAAAAAAAAAAA4',
    ];
    for (const [i, id] of ids.entries()) await store.create({ ...record, id, taskToken: `token-${i}` });
    await store.decide(ids[1]!, approve, 1_000);
    await store.expire(ids[2]!);
    await store.create({ ...record, id: 'AAAAAAAAAAAAAAAAAAAAA5', expiresAt: 1_000 });

    // Act
    const waiting = await store.listWaiting(1_500);

    // Assess
    expect(waiting.map((r) => [r.id, r.taskToken, r.status])).toEqual([
      [ids[0], 'token-0', 'waiting'],
      [ids[3], 'token-3', 'waiting'],
    ]);
    store.close();
  });
});

describe('the DynamoDB approval store', () => {
  const ddb = mockClient(DynamoDBClient);
  afterEach(() => ddb.reset());
  const store = () => new DynamoDbApprovalStore(new DynamoDBClient({ region: 'eu-west-1' }), 'approvals');

  it('creates a request only where none exists, with a TTL', async () => {
    // Prepare
    ddb
      .on(PutItemCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));

    // Act
    const first = await store().create(record);
    const second = await store().create(record);

    // Assess
    expect([first, second]).toEqual([true, false]);
    const input = ddb.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(id)');
    expect(input.Item).toMatchObject({
      id: { S: record.id },
      status: { S: 'waiting' },
      waiting: { S: '1' },
      expiresAt: { N: '2000' },
      ttl: { N: String(2_000 + 30 * 24 * 3600) },
    });
  });

  it('gives a waiting request a new task token with a conditional write on its status and expiry', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({
      Item: { id: { S: record.id }, record: { S: JSON.stringify(record) }, status: { S: 'waiting' } },
    });
    ddb.on(UpdateItemCommand).resolves({});

    // Act
    const moved = await store().retoken(record.id, 'token-2', 1_000);

    // Assess
    expect(moved).toBe(true);
    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('#status = :waiting AND expiresAt > :now');
    expect(JSON.parse(input.ExpressionAttributeValues![':record']!.S!)).toEqual({ ...record, taskToken: 'token-2' });
  });

  it('decides with a conditional write, so a replayed link loses', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // Act
    const first = await store().decide(record.id, approve, 1_000);
    const replay = await store().decide(record.id, approve, 1_001);

    // Assess
    expect([first, replay]).toEqual([true, false]);
    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('#status = :waiting AND expiresAt > :now');
    // A decided request leaves the sparse index of waiting ones.
    expect(input.UpdateExpression).toMatch(/ REMOVE waiting$/);
    expect(input.ExpressionAttributeValues).toMatchObject({
      ':decided': { S: 'approved' },
      ':by': { S: 'alice' },
      ':waiting': { S: 'waiting' },
      ':now': { N: '1000' },
    });
  });

  it('reads the decision from its own attributes', async () => {
    ddb.on(GetItemCommand).resolves({
      Item: {
        id: { S: record.id },
        record: { S: JSON.stringify(record) },
        status: { S: 'rejected' },
        decidedBy: { S: 'alice' },
        decidedAt: { S: approve.at },
        reason: { S: 'freeze' },
      },
    });
    expect(await store().get(record.id)).toEqual({
      ...record,
      status: 'rejected',
      decidedBy: 'alice',
      decidedAt: approve.at,
      reason: 'freeze',
    });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('lists the waiting requests from the sparse index, page by page, without scanning the table', async () => {
    // Prepare
    const item = (id: string, token: string) => ({
      id: { S: id },
      record: { S: JSON.stringify({ ...record, id, taskToken: token }) },
      status: { S: 'waiting' },
      waiting: { S: '1' },
      expiresAt: { N: '2000' },
    });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('AAAAAAAAAAAAAAAAAAAAA1', 'token-1')], LastEvaluatedKey: { id: { S: 'x' } } })
      .resolvesOnce({ Items: [item('AAAAAAAAAAAAAAAAAAAAA2', 'token-2')] });

    // Act
    const waiting = await store().listWaiting(1_500);

    // Assess
    expect(waiting.map((r) => r.taskToken)).toEqual(['token-1', 'token-2']);
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      TableName: 'approvals',
      IndexName: 'waiting',
      KeyConditionExpression: 'waiting = :one',
      FilterExpression: '#status = :waiting AND expiresAt > :now',
      ExpressionAttributeValues: { ':one': { S: '1' }, ':now': { N: '1500' } },
    });
    expect(calls[1]?.ExclusiveStartKey).toEqual({ id: { S: 'x' } });
  });

  it('takes an expired request out of the waiting index', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).resolves({});

    // Act
    await store().expire(record.id);

    // Assess
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input.UpdateExpression).toBe(
      'SET #status = :expired REMOVE waiting',
    );
  });
});
