import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoCoordinationStore } from '../../../adapters/aws/coordination';
import { Coordinator } from '../../../core/coordination/service';

const TABLE = 'stepline-coordination';
const dynamo = mockClient(DynamoDBClient);
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:pipeline:${name}`;

describe('DynamoCoordinationStore', () => {
  beforeEach(() => {
    dynamo.reset();
  });

  it('allocates sequences with an atomic counter per repository', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({ Attributes: { value: { N: '7' } } });
    const store = new DynamoCoordinationStore(TABLE, new DynamoDBClient({}));

    // Act
    const sequence = await store.nextSequence('github:acme/shop');

    // Assess
    expect(sequence).toBe(7);
    const input = dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: 'seq#github:acme/shop' } },
      UpdateExpression: 'ADD #value :one',
    });
  });

  it('writes a new key only if nobody created it meanwhile', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({ Attributes: { value: { N: '1' } } });
    dynamo.on(GetItemCommand).resolves({});
    dynamo.on(PutItemCommand).resolves({});
    const coordinator = new Coordinator(new DynamoCoordinationStore(TABLE, new DynamoDBClient({})));

    // Act
    const result = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: 'github:acme/shop:refs/heads/main',
      repositoryKey: 'github:acme/shop',
    });

    // Assess
    expect(result).toEqual({ sequence: 1, superseded: null });
    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put?.Item).toMatchObject({ pk: { S: 'key#github:acme/shop:refs/heads/main' }, version: { N: '1' } });
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('reads again and decides again when another writer changed the key in between', async () => {
    // Prepare: the first write loses the race to another run's register (sequence 2).
    dynamo.on(UpdateItemCommand).resolves({ Attributes: { value: { N: '3' } } });
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({
        Item: {
          pk: { S: 'key#k' },
          latestSequence: { N: '2' },
          latestExecutionArn: { S: arn('b') },
          deployingSequence: { N: '0' },
          version: { N: '1' },
        },
      });
    dynamo
      .on(PutItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }))
      .resolves({});
    const coordinator = new Coordinator(new DynamoCoordinationStore(TABLE, new DynamoDBClient({})));

    // Act
    const result = await coordinator.register({
      action: 'register',
      executionArn: arn('c'),
      concurrencyKey: 'k',
      repositoryKey: 'r',
    });

    // Assess: the second decision saw run b and supersedes it; the write is conditional on version 1.
    expect(result).toEqual({ sequence: 3, superseded: { executionArn: arn('b'), sequence: 2 } });
    const puts = dynamo.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(2);
    expect(puts[1]?.args[0].input).toMatchObject({
      ConditionExpression: '#version = :version',
      ExpressionAttributeValues: { ':version': { N: '1' } },
      Item: { version: { N: '2' }, latestSequence: { N: '3' } },
    });
  });

  it('takes an environment lock in one transaction that also checks the branch it read', async () => {
    // Prepare
    dynamo.on(GetItemCommand, { Key: { pk: { S: 'key#k' } } }).resolves({
      Item: {
        latestSequence: { N: '4' },
        latestExecutionArn: { S: arn('a') },
        deployingSequence: { N: '4' },
        version: { N: '5' },
      },
    });
    dynamo.on(GetItemCommand, { Key: { pk: { S: 'env#e' } } }).resolves({});
    dynamo.on(TransactWriteItemsCommand).resolves({});
    const coordinator = new Coordinator(new DynamoCoordinationStore(TABLE, new DynamoDBClient({})), () => 1000);

    // Act
    const outcome = await coordinator.enter({
      action: 'enter',
      executionArn: arn('a'),
      sequence: 4,
      concurrencyKey: 'k',
      environmentKey: 'e',
      first: false,
      leaseSeconds: 60,
    });

    // Assess
    expect(outcome).toEqual({ outcome: 'acquired' });
    const items = dynamo.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]?.Put?.Item).toMatchObject({
      pk: { S: 'env#e' },
      holder: { S: arn('a') },
      leaseExpiresAt: { N: '61000' },
    });
    expect(items[1]?.ConditionCheck).toMatchObject({
      Key: { pk: { S: 'key#k' } },
      ExpressionAttributeValues: { ':version': { N: '5' } },
    });
  });
});
