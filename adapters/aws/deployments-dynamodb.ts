import {
  type AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DeploymentQuery, DeploymentRecord, DeploymentStore, Incident } from '../../core/insight/contracts';

/**
 * Deployment records and incidents in one DynamoDB table (partition key `pk`, sort key `sk`, strings; ADR 0097):
 * - a record: `pk` = its stream (`<provider>:<repository>:<environment>`), `sk` = `<deployedAt>#<executionArn>#<result>`,
 *   so a Query of the stream, newest first (`ScanIndexForward: false`), reads its latest records in one request;
 * - an incident: `pk` = `incident`, `sk` = its id.
 * Each item keeps its document as JSON in `doc`, and `deployedAt`, `environment`, `repository` for filters.
 */

type Item = Record<string, AttributeValue>;

export const INCIDENT_PARTITION = 'incident';

const docOf = <T>(item: Item): T => JSON.parse(item['doc']?.S ?? 'null') as T;

export class DynamoDeploymentStore implements DeploymentStore {
  public constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
  ) {}

  public async recent(stream: string, limit: number): Promise<readonly DeploymentRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :stream',
        ExpressionAttributeValues: { ':stream': { S: stream } },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => docOf<DeploymentRecord>(item));
  }

  public async put(record: DeploymentRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: record.stream },
          sk: { S: `${record.deployedAt}#${record.executionArn}#${record.result}` },
          deployedAt: { S: record.deployedAt },
          environment: { S: record.environment },
          repository: { S: record.repository },
          doc: { S: JSON.stringify(record) },
        },
      }),
    );
  }

  public async list(query: DeploymentQuery): Promise<readonly DeploymentRecord[]> {
    const records: DeploymentRecord[] = [];
    for await (const item of this.scan()) {
      if (item['pk']?.S === INCIDENT_PARTITION) continue;
      const record = docOf<DeploymentRecord>(item);
      if (query.since && record.deployedAt < query.since) continue;
      if (query.environment && record.environment !== query.environment) continue;
      if (query.repository && record.repository !== query.repository) continue;
      records.push(record);
    }
    return records.sort((a, b) => a.deployedAt.localeCompare(b.deployedAt));
  }

  public async putIncident(incident: Incident): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: INCIDENT_PARTITION },
          sk: { S: incident.id },
          openedAt: { S: incident.openedAt },
          doc: { S: JSON.stringify(incident) },
        },
      }),
    );
  }

  public async incidents(since?: string): Promise<readonly Incident[]> {
    const found: Incident[] = [];
    let start: Item | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :incident',
          ExpressionAttributeValues: { ':incident': { S: INCIDENT_PARTITION } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const incident = docOf<Incident>(item);
        if (!since || incident.openedAt >= since || !incident.resolvedAt || incident.resolvedAt >= since)
          found.push(incident);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  }

  private async *scan(): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({ TableName: this.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      yield* out.Items ?? [];
      start = out.LastEvaluatedKey;
    } while (start);
  }
}
