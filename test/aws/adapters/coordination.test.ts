import {
  DynamoDBClient,
  GetItemCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CoordinationContention, DynamoCoordinationStore } from '../../../adapters/aws/coordination';
import type { EnterRequest } from '../../../core/coordination/contracts';
import { Coordinator } from '../../../core/coordination/service';
import { motoClientConfig } from '../../support/moto/clients';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * Run coordination (adapters/aws/coordination.ts) against moto's DynamoDB, in the table the synthesized template
 * declares (RunCoordination/State: partition key `pk`). Conditional writes and transactions are moto's real ones:
 * a write that loses a race fails with ConditionalCheckFailedException (PutItem) or TransactionCanceledException
 * whose CancellationReasons hold one entry per item in request order, `None` or `ConditionalCheckFailed` (the
 * DynamoDB API reference, TransactWriteItems, "Cancellation reason codes").
 */

const moto = useMoto({ select: (id) => id.startsWith('RunCoordinationState') });

const REPO = 'github:acme/shop';
const MAIN = 'github:acme/shop:refs/heads/main';
const STAGING = 'github:acme/shop:staging';
const NOW = 1_000_000;
const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${name}`;

function table(): string {
  return onlyOfType(moto().standIns, 'AWS::DynamoDB::Table').ref;
}

/** A DynamoDB client for moto that runs `before` ahead of each call of `command` (to make a writer lose a race). */
function clientWithInterference(command: string, before: () => Promise<void>): DynamoDBClient {
  const client = new DynamoDBClient(motoClientConfig(moto().server.endpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) await before();
      return next(args);
    },
    { step: 'initialize', name: 'interfere' },
  );
  return client;
}

const coordinator = (client?: DynamoDBClient) =>
  new Coordinator(new DynamoCoordinationStore(table(), client ?? moto().clients.dynamodb), () => NOW);

const register = (c: Coordinator, name: string, concurrencyKey = MAIN) =>
  c.register({ action: 'register', executionArn: arn(name), concurrencyKey, repositoryKey: REPO });

const enter = (c: Coordinator, request: Partial<EnterRequest> & Pick<EnterRequest, 'executionArn' | 'sequence'>) =>
  c.enter({
    action: 'enter',
    concurrencyKey: MAIN,
    environmentKey: STAGING,
    first: true,
    leaseSeconds: 600,
    now: NOW,
    ...request,
  });

async function item(pk: string) {
  const out = await moto().clients.dynamodb.send(
    new GetItemCommand({ TableName: table(), Key: { pk: { S: pk } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('run coordination on DynamoDB (moto)', () => {
  it('numbers the runs of each repository with an atomic counter that starts at 1', async () => {
    // Prepare
    const store = new DynamoCoordinationStore(table(), moto().clients.dynamodb);

    // Act
    const sequences = await Promise.all([1, 2, 3, 4, 5].map(() => store.nextSequence(REPO)));
    const other = await store.nextSequence('github:acme/other');

    // Assess
    expect([...sequences].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(other).toBe(1);
    expect((await item(`seq#${REPO}`))?.value).toEqual({ N: '5' });
  });

  it('registers the first run of a branch and supersedes it with the next one', async () => {
    // Prepare
    const c = coordinator();

    // Act
    const first = await register(c, 'a');
    const second = await register(c, 'b');

    // Assess
    expect(first).toEqual({ sequence: 1, superseded: null });
    expect(second).toEqual({ sequence: 2, superseded: { executionArn: arn('a'), sequence: 1 } });
    expect(await item(`key#${MAIN}`)).toMatchObject({
      latestSequence: { N: '2' },
      latestExecutionArn: { S: arn('b') },
      deployingSequence: { N: '0' },
      version: { N: '2' },
    });
  });

  it('gives a redelivered register the sequence the run was first given', async () => {
    // Prepare
    const c = coordinator();
    await register(c, 'a');

    // Act
    const again = await register(c, 'a');

    // Assess
    expect(again).toEqual({ sequence: 1, superseded: null });
    expect((await item(`key#${MAIN}`))?.version).toEqual({ N: '1' });
  });

  it('enters the deploy lock in one transaction with the branch, then another run finds it busy', async () => {
    // Prepare
    const c = coordinator();
    const a = await register(c, 'a');
    const other = await register(c, 'x', 'github:acme/shop:refs/heads/release/1');

    // Act
    const acquired = await enter(c, { executionArn: arn('a'), sequence: a.sequence });
    const busy = await enter(c, {
      executionArn: arn('x'),
      sequence: other.sequence,
      concurrencyKey: 'github:acme/shop:refs/heads/release/1',
    });

    // Assess
    expect(acquired).toEqual({ outcome: 'acquired' });
    expect(busy).toEqual({ outcome: 'busy', holder: arn('a'), leaseExpiresAt: NOW + 600_000 });
    expect(await item(`env#${STAGING}`)).toMatchObject({ holder: { S: arn('a') }, version: { N: '1' } });
    // The run started deploying: a newer push of the branch no longer supersedes it.
    expect((await item(`key#${MAIN}`))?.deployingSequence).toEqual({ N: '1' });
    expect(await register(c, 'b')).toEqual({ sequence: 3, superseded: null });
  });

  it('lets another run take a lock whose lease has expired', async () => {
    // Prepare
    const c = coordinator();
    await enter(c, { executionArn: arn('a'), sequence: 1, first: false, leaseSeconds: 60 });

    // Act
    const early = await enter(c, { executionArn: arn('b'), sequence: 2, first: false, now: NOW + 59_000 });
    const late = await enter(c, { executionArn: arn('b'), sequence: 2, first: false, now: NOW + 60_000 });

    // Assess
    expect(early).toMatchObject({ outcome: 'busy', holder: arn('a') });
    expect(late).toEqual({ outcome: 'acquired' });
    expect((await item(`env#${STAGING}`))?.holder).toEqual({ S: arn('b') });
  });

  it('leaves the lock, records the deploy, and never lets an older commit deploy over a newer one', async () => {
    // Prepare: run 2 deploys first; run 1, older, comes to the environment after it.
    const c = coordinator();
    await enter(c, { executionArn: arn('new'), sequence: 2, first: false });

    // Act
    const left = await c.leave({
      action: 'leave',
      executionArn: arn('new'),
      sequence: 2,
      environmentKey: STAGING,
      deployed: true,
    });
    const older = await enter(c, { executionArn: arn('old'), sequence: 1, first: false });
    const notHolding = await c.leave({
      action: 'leave',
      executionArn: arn('old'),
      sequence: 1,
      environmentKey: STAGING,
      deployed: false,
    });

    // Assess
    expect(left).toEqual({ released: true });
    expect(older).toEqual({ outcome: 'overtaken', by: arn('new') });
    expect(notHolding).toEqual({ released: false });
    const env = await item(`env#${STAGING}`);
    expect(env).toMatchObject({ lastDeployedSequence: { N: '2' }, lastDeployedExecutionArn: { S: arn('new') } });
    expect(env?.holder).toBeUndefined();
  });

  it('gives the lock to exactly one of many runs entering at once', async () => {
    // Prepare
    const c = coordinator();
    const runs = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];

    // Act
    const outcomes = await Promise.all(
      runs.map((name, i) => enter(c, { executionArn: arn(name), sequence: i + 1, first: false })),
    );

    // Assess
    const winners = outcomes.flatMap((o, i) => (o.outcome === 'acquired' ? [runs[i]] : []));
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'busy')).toHaveLength(runs.length - 1);
    expect((await item(`env#${STAGING}`))?.holder).toEqual({ S: arn(winners[0]!) });
  });

  it('keeps the newest of many runs of a branch registering at once as the latest', async () => {
    // Prepare
    const c = coordinator();

    // Act
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => register(c, name)));

    // Assess: each got its own sequence; the key names the run with the highest, whatever order the writes landed.
    expect(results.map((r) => r.sequence).sort()).toEqual([1, 2, 3, 4, 5]);
    const newest = ['a', 'b', 'c', 'd', 'e'][results.findIndex((r) => r.sequence === 5)]!;
    expect(await item(`key#${MAIN}`)).toMatchObject({
      latestSequence: { N: '5' },
      latestExecutionArn: { S: arn(newest) },
    });
  });

  it('reads again and decides again when another writer changes the branch during the transaction', async () => {
    // Prepare: run a holds sequence 1; as its enter transaction is sent, run b registers (sequence 2).
    const plain = coordinator();
    const a = await register(plain, 'a');
    let interfered = false;
    const racing = coordinator(
      clientWithInterference('TransactWriteItemsCommand', async () => {
        if (interfered) return;
        interfered = true;
        await register(plain, 'b');
      }),
    );

    // Act
    const outcome = await enter(racing, { executionArn: arn('a'), sequence: a.sequence });

    // Assess: the first transaction was cancelled on the branch's condition; the second decision saw run b.
    expect(interfered).toBe(true);
    expect(outcome).toEqual({ outcome: 'superseded', by: arn('b') });
    expect(await item(`env#${STAGING}`)).toBeUndefined();
  });

  it('retries a lost conditional put of a new item and decides on what the winner wrote', async () => {
    // Prepare: as run c writes the branch's first item, run b writes it first.
    const plain = coordinator();
    let interfered = false;
    const racing = coordinator(
      clientWithInterference('PutItemCommand', async () => {
        if (interfered) return;
        interfered = true;
        await register(plain, 'b');
      }),
    );

    // Act
    const result = await register(racing, 'c');

    // Assess: c has sequence 1, b (sequence 2) won the write; c, older, changes nothing and supersedes nobody.
    expect(interfered).toBe(true);
    expect(result).toEqual({ sequence: 1, superseded: null });
    expect((await item(`key#${MAIN}`))?.latestExecutionArn).toEqual({ S: arn('b') });
  });

  it('gives up with CoordinationContention after eight lost races, keeping the cancellation as its cause', async () => {
    // Prepare: every enter transaction loses to a write that bumps the branch's version.
    const c = coordinator();
    await register(c, 'a');
    const bump = () =>
      moto()
        .clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: table(),
            Key: { pk: { S: `key#${MAIN}` } },
            UpdateExpression: 'ADD #version :one',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        )
        .then(() => undefined);
    const losing = coordinator(clientWithInterference('TransactWriteItemsCommand', bump));

    // Act
    const act = enter(losing, { executionArn: arn('a'), sequence: 1, first: false });

    // Assess
    const error = await act.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinationContention);
    expect((error as Error).message).toBe('coordination items changed 8 times while deciding');
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(TransactionCanceledException);
    // One reason per item, in request order: the environment's Put passed, the branch's ConditionCheck failed.
    expect((cause as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect((await item(`key#${MAIN}`))?.version).toEqual({ N: '9' });
  });

  it('fails with the service error, not as contention, on a table that does not exist', async () => {
    // Prepare
    const c = new Coordinator(new DynamoCoordinationStore('no-such-table', moto().clients.dynamodb), () => NOW);

    // Act
    const act = enter(c, { executionArn: arn('a'), sequence: 1 });

    // Assess
    await expect(act).rejects.toThrow(ResourceNotFoundException);
  });
});
