import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCoordinationStore } from '../../../adapters/aws/coordination';
import { Coordinator } from '../../../core/coordination/service';

/**
 * The coordination store's conditional writes and transactions run against moto in
 * test/aws/adapters/coordination.test.ts. What stays here is what moto cannot produce: DynamoDB cancelling a
 * transaction because another transaction is writing the same item at that moment (moto runs one request at a
 * time, so its cancellations are only ever ConditionalCheckFailed).
 */

const TABLE = 'stepline-coordination';
const dynamo = mockClient(DynamoDBClient);
// The stub is on the client's prototype: later files in this worker must get the real send back.
afterAll(() => dynamo.restore());
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:pipeline:${name}`;

const KEY_ITEM = {
  pk: { S: 'key#k' },
  latestSequence: { N: '4' },
  latestExecutionArn: { S: arn('a') },
  deployingSequence: { N: '4' },
  version: { N: '5' },
};

const enter = (coordinator: Coordinator) =>
  coordinator.enter({
    action: 'enter',
    executionArn: arn('a'),
    sequence: 4,
    concurrencyKey: 'k',
    environmentKey: 'e',
    first: false,
    leaseSeconds: 60,
  });

/**
 * TransactWriteItems cancelled because of a concurrent transaction on one of its items: per the DynamoDB API
 * reference (TransactionCanceledException), the reasons list one entry per item in request order, `None` for the
 * items without error and `TransactionConflict` ("Transaction is ongoing for the item") for the one in conflict.
 */
const transactionConflict = () =>
  new TransactionCanceledException({
    message:
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [
      { Code: 'None' },
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item.' },
    ],
  });

describe('DynamoCoordinationStore: what only DynamoDB itself produces', () => {
  beforeEach(() => {
    dynamo.reset();
    dynamo.on(GetItemCommand, { Key: { pk: { S: 'key#k' } } }).resolves({ Item: KEY_ITEM });
    dynamo.on(GetItemCommand, { Key: { pk: { S: 'env#e' } } }).resolves({});
  });

  // A transaction cancelled with reason TransactionConflict (two runs entering or leaving locks on the same items at
  // once) is a conflict like a failed condition: read again and decide again, never fail the Enter/Release task.
  it('reads again and decides again when DynamoDB cancels the transaction for a concurrent one', async () => {
    // Prepare
    dynamo.on(TransactWriteItemsCommand).rejectsOnce(transactionConflict()).resolves({});
    const coordinator = new Coordinator(new DynamoCoordinationStore(TABLE, new DynamoDBClient({})), () => 1000);

    // Act
    const outcome = await enter(coordinator);

    // Assess
    expect(outcome).toEqual({ outcome: 'acquired' });
    expect(dynamo.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });

  // The same on the single-item path: a PutItem on an item that a transaction is writing fails with
  // TransactionConflictException ("Operation was rejected because there is an ongoing transaction for the item").
  it('tries a conditional put again when the item is part of an ongoing transaction', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({ Attributes: { value: { N: '6' } } });
    dynamo
      .on(GetItemCommand, { Key: { pk: { S: 'key#k' } } })
      .resolves({ Item: { ...KEY_ITEM, deployingSequence: { N: '0' } } });
    dynamo
      .on(PutItemCommand)
      .rejectsOnce(
        new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({});
    const coordinator = new Coordinator(new DynamoCoordinationStore(TABLE, new DynamoDBClient({})), () => 1000);

    // Act
    const result = await coordinator.register({
      action: 'register',
      executionArn: arn('b'),
      concurrencyKey: 'k',
      repositoryKey: 'r',
    });

    // Assess
    expect(result).toEqual({ sequence: 6, superseded: { executionArn: arn('a'), sequence: 4 } });
  });
});
