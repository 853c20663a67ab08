import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  APPROVALS_WAITING_INDEX,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStore,
} from '../../core/approval/contracts';

/**
 * The approval store on AWS: a DynamoDB table with partition key `id` (S) and TTL attribute `ttl` (the expiry
 * plus 30 days, so that decided requests stay readable for a while). The request itself is one JSON attribute;
 * the decision lives in top-level attributes so that conditional writes can test it: `decide` succeeds only
 * `#status = waiting AND expiresAt > now`, which makes every link single use. A waiting request also carries
 * `waiting = "1"`, removed with its decision or expiry: the sparse index `APPROVALS_WAITING_INDEX` holds only the
 * waiting requests, which the keeper reads without scanning the table.
 */
const RETAIN_SECONDS = 30 * 24 * 3600;

export class DynamoDbApprovalStore implements ApprovalStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  public constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  public async create(record: ApprovalRecord): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            id: { S: record.id },
            record: { S: JSON.stringify(record) },
            status: { S: record.status },
            ...(record.status === 'waiting' ? { waiting: { S: '1' } } : {}),
            expiresAt: { N: String(record.expiresAt) },
            ttl: { N: String(record.expiresAt + RETAIN_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  public async retoken(id: string, taskToken: string, nowSeconds: number): Promise<boolean> {
    const current = await this.get(id);
    if (current?.status !== 'waiting') return false;
    const record: ApprovalRecord = { ...current, taskToken };
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #record = :record',
          ConditionExpression: '#status = :waiting AND expiresAt > :now',
          ExpressionAttributeNames: { '#record': 'record', '#status': 'status' },
          ExpressionAttributeValues: {
            ':record': { S: JSON.stringify(record) },
            ':waiting': { S: 'waiting' },
            ':now': { N: String(nowSeconds) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  public async get(id: string): Promise<ApprovalRecord | null> {
    const out = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item?.record?.S) return null;
    const record = JSON.parse(item.record.S) as ApprovalRecord;
    return {
      ...record,
      status: (item.status?.S ?? record.status) as ApprovalRecord['status'],
      decidedBy: item.decidedBy?.S ?? null,
      decidedAt: item.decidedAt?.S ?? null,
      reason: item.reason?.S ?? null,
    };
  }

  public async decide(id: string, decision: ApprovalDecision, nowSeconds: number): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #status = :decided, decidedBy = :by, decidedAt = :at, reason = :reason REMOVE waiting',
          ConditionExpression: '#status = :waiting AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':decided': { S: decision.status },
            ':by': { S: decision.by },
            ':at': { S: decision.at },
            ':reason': decision.reason === null ? { NULL: true } : { S: decision.reason },
            ':waiting': { S: 'waiting' },
            ':now': { N: String(nowSeconds) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  public async reopen(id: string, decision: ApprovalDecision): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #status = :waiting, waiting = :one REMOVE decidedBy, decidedAt, reason',
          ConditionExpression: '#status = :decided AND decidedAt = :at',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':waiting': { S: 'waiting' },
            ':one': { S: '1' },
            ':decided': { S: decision.status },
            ':at': { S: decision.at },
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  public async expire(id: string): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { id: { S: id } },
        UpdateExpression: 'SET #status = :expired REMOVE waiting',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': { S: 'expired' } },
      }),
    );
  }

  public async listWaiting(nowSeconds: number): Promise<ApprovalRecord[]> {
    const records: ApprovalRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: APPROVALS_WAITING_INDEX,
          KeyConditionExpression: 'waiting = :one',
          FilterExpression: '#status = :waiting AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':one': { S: '1' },
            ':waiting': { S: 'waiting' },
            ':now': { N: String(nowSeconds) },
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        if (item.record?.S) records.push({ ...(JSON.parse(item.record.S) as ApprovalRecord), status: 'waiting' });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return records;
  }
}
