import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { COORDINATION_ERRORS, type EnvironmentState, type KeyState } from '../../core/coordination/contracts';
import type { CoordinationSnapshot, CoordinationStore, CoordinationWrite } from '../../core/coordination/service';
import { SteplineError } from '../../core/errors';

/** Too many writers changed the same items at once: the caller (a workflow Task) retries. */
export class CoordinationContention extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = COORDINATION_ERRORS.contention;
  }
}

type Item = Record<string, AttributeValue>;

const MAX_ATTEMPTS = 8;

const str = (item: Item, name: string): string | null => item[name]?.S ?? null;
const num = (item: Item, name: string): number => Number(item[name]?.N ?? '0');

/**
 * Run coordination in one DynamoDB table (partition key `pk`, string). Each read-decide-write reads the items
 * strongly consistently and writes them with a condition on the version it read (optimistic concurrency); a
 * conflict reads again and decides again.
 *
 * Items: `seq#<repository>` (an atomic counter), `key#<concurrency key>`, `env#<environment>`.
 */
export class DynamoCoordinationStore implements CoordinationStore {
  public constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
  ) {}

  public async nextSequence(repositoryKey: string): Promise<number> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `seq#${repositoryKey}` } },
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const value = Number(out.Attributes?.value?.N);
    if (!Number.isInteger(value)) throw new SteplineError(`no sequence returned for ${repositoryKey}`);
    return value;
  }

  public async transact<T>(
    items: { readonly concurrencyKey?: string; readonly environmentKey?: string },
    decide: (snapshot: CoordinationSnapshot) => CoordinationWrite<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const keyPk = items.concurrencyKey ? `key#${items.concurrencyKey}` : null;
      const envPk = items.environmentKey ? `env#${items.environmentKey}` : null;
      const [keyItem, envItem] = await Promise.all([keyPk && this.read(keyPk), envPk && this.read(envPk)]);
      const write = decide({
        key: keyItem ? toKey(keyItem) : null,
        environment: envItem ? toEnvironment(envItem) : null,
      });
      const writes: TransactWriteItem[] = [];
      const checks: TransactWriteItem[] = [];
      if (keyPk) {
        (write.key ? writes : checks).push(this.entry(keyPk, keyItem || null, write.key ? fromKey(write.key) : null));
      }
      if (envPk) {
        (write.environment ? writes : checks).push(
          this.entry(envPk, envItem || null, write.environment ? fromEnvironment(write.environment) : null),
        );
      }
      if (writes.length === 0) return write.result;
      try {
        await this.commit([...writes, ...checks]);
        return write.result;
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (attempt >= MAX_ATTEMPTS) {
          throw new CoordinationContention(`coordination items changed ${attempt} times while deciding`, {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  private async read(pk: string): Promise<Item | null> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } }, ConsistentRead: true }),
    );
    return out.Item ?? null;
  }

  /** A Put of `next` (or a ConditionCheck when next is null), conditional on the version that was read. */
  private entry(pk: string, read: Item | null, next: Item | null): TransactWriteItem {
    const condition = read
      ? {
          ConditionExpression: '#version = :version',
          ExpressionAttributeValues: { ':version': { N: String(num(read, 'version')) } },
        }
      : { ConditionExpression: 'attribute_not_exists(pk)' };
    const names = read ? { ExpressionAttributeNames: { '#version': 'version' } } : {};
    if (!next) {
      return { ConditionCheck: { TableName: this.tableName, Key: { pk: { S: pk } }, ...condition, ...names } };
    }
    const item: Item = { ...next, pk: { S: pk }, version: { N: String(read ? num(read, 'version') + 1 : 1) } };
    return { Put: { TableName: this.tableName, Item: item, ...condition, ...names } };
  }

  private async commit(items: TransactWriteItem[]): Promise<void> {
    const only = items[0];
    if (items.length === 1 && only?.Put) {
      await this.client.send(new PutItemCommand(only.Put));
      return;
    }
    await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
  }
}

/**
 * What reading again and deciding again resolves: the condition on the version read failed, or another transaction
 * was writing one of the items at the same moment. DynamoDB reports the latter as a cancelled transaction whose
 * reasons name `TransactionConflict`, or, for a single-item PutItem, as TransactionConflictException (DynamoDB API
 * reference: TransactWriteItems, TransactionCanceledException; "Transaction conflict handling").
 */
const RETRIED_REASONS = new Set(['ConditionalCheckFailed', 'TransactionConflict']);

function isConflict(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException || error instanceof TransactionConflictException) return true;
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((r) => RETRIED_REASONS.has(r.Code ?? ''))
  );
}

function toKey(item: Item): KeyState {
  return {
    latestSequence: num(item, 'latestSequence'),
    latestExecutionArn: str(item, 'latestExecutionArn') ?? '',
    deployingSequence: num(item, 'deployingSequence'),
  };
}

function fromKey(key: KeyState): Item {
  return {
    latestSequence: { N: String(key.latestSequence) },
    latestExecutionArn: { S: key.latestExecutionArn },
    deployingSequence: { N: String(key.deployingSequence) },
  };
}

function toEnvironment(item: Item): EnvironmentState {
  return {
    holder: str(item, 'holder'),
    holderSequence: num(item, 'holderSequence'),
    leaseExpiresAt: num(item, 'leaseExpiresAt'),
    lastDeployedSequence: num(item, 'lastDeployedSequence'),
    lastDeployedExecutionArn: str(item, 'lastDeployedExecutionArn'),
  };
}

function fromEnvironment(env: EnvironmentState): Item {
  const item: Item = {
    holderSequence: { N: String(env.holderSequence) },
    leaseExpiresAt: { N: String(env.leaseExpiresAt) },
    lastDeployedSequence: { N: String(env.lastDeployedSequence) },
  };
  if (env.holder) item.holder = { S: env.holder };
  if (env.lastDeployedExecutionArn) item.lastDeployedExecutionArn = { S: env.lastDeployedExecutionArn };
  return item;
}
