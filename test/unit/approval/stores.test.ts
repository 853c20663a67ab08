import { describe, expect, it } from 'vitest';
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

// The DynamoDB store runs against moto, in the table the template declares: test/aws/adapters/approvals-dynamodb.test.ts.
