import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  type Projection,
  type ProvisionedThroughput,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { allowOnly, type CreateInput, type StandInKind, tagList } from './kind';

/**
 * `AWS::DynamoDB::Table` on moto: CreateTable with the keys, attribute definitions, indexes (and their projections),
 * billing mode, stream, encryption, table class and tags; then UpdateTimeToLive and UpdateContinuousBackups, as
 * CloudFormation's handler does after the table is ACTIVE (moto creates it ACTIVE).
 */
export const dynamoDbTable: StandInKind = {
  type: 'AWS::DynamoDB::Table',
  properties: [
    'TableName',
    'KeySchema',
    'AttributeDefinitions',
    'BillingMode',
    'ProvisionedThroughput',
    'GlobalSecondaryIndexes',
    'LocalSecondaryIndexes',
    'StreamSpecification',
    'SSESpecification',
    'TableClass',
    'DeletionProtectionEnabled',
    'Tags',
    'TimeToLiveSpecification',
    'PointInTimeRecoverySpecification',
  ],
  async create({ logicalId, properties: p, clients, generatedName }: CreateInput) {
    const where = `AWS::DynamoDB::Table ${logicalId}`;
    const tableName = p.TableName === undefined ? generatedName(255) : String(p.TableName);
    const input: CreateTableCommandInput = {
      TableName: tableName,
      KeySchema: keySchema(p.KeySchema, `${where}.KeySchema`),
      AttributeDefinitions: ((p.AttributeDefinitions as unknown[]) ?? []).map((definition, i) => {
        const d = allowOnly(definition, ['AttributeName', 'AttributeType'], `${where}.AttributeDefinitions[${i}]`);
        return d as unknown as AttributeDefinition;
      }),
      BillingMode: (p.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
    };
    if (p.ProvisionedThroughput !== undefined) {
      input.ProvisionedThroughput = throughput(p.ProvisionedThroughput, `${where}.ProvisionedThroughput`);
    }
    if (p.GlobalSecondaryIndexes !== undefined) {
      input.GlobalSecondaryIndexes = (p.GlobalSecondaryIndexes as unknown[]).map((index, i) => {
        const at = `${where}.GlobalSecondaryIndexes[${i}]`;
        const g = allowOnly(index, ['IndexName', 'KeySchema', 'Projection', 'ProvisionedThroughput'], at);
        const out: GlobalSecondaryIndex = {
          IndexName: String(g.IndexName),
          KeySchema: keySchema(g.KeySchema, `${at}.KeySchema`),
          Projection: projection(g.Projection, `${at}.Projection`),
        };
        if (g.ProvisionedThroughput !== undefined) {
          out.ProvisionedThroughput = throughput(g.ProvisionedThroughput, `${at}.ProvisionedThroughput`);
        }
        return out;
      });
    }
    if (p.LocalSecondaryIndexes !== undefined) {
      input.LocalSecondaryIndexes = (p.LocalSecondaryIndexes as unknown[]).map((index, i) => {
        const at = `${where}.LocalSecondaryIndexes[${i}]`;
        const l = allowOnly(index, ['IndexName', 'KeySchema', 'Projection'], at);
        const out: LocalSecondaryIndex = {
          IndexName: String(l.IndexName),
          KeySchema: keySchema(l.KeySchema, `${at}.KeySchema`),
          Projection: projection(l.Projection, `${at}.Projection`),
        };
        return out;
      });
    }
    if (p.StreamSpecification !== undefined) {
      const s = allowOnly(p.StreamSpecification, ['StreamViewType'], `${where}.StreamSpecification`);
      input.StreamSpecification = {
        StreamEnabled: true,
        StreamViewType: s.StreamViewType as 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY',
      };
    }
    if (p.SSESpecification !== undefined) {
      const s = allowOnly(p.SSESpecification, ['SSEEnabled', 'SSEType', 'KMSMasterKeyId'], `${where}.SSESpecification`);
      input.SSESpecification = {
        Enabled: s.SSEEnabled === true,
        ...(s.SSEType !== undefined ? { SSEType: s.SSEType as 'KMS' | 'AES256' } : {}),
        ...(s.KMSMasterKeyId !== undefined ? { KMSMasterKeyId: String(s.KMSMasterKeyId) } : {}),
      };
    }
    if (p.TableClass !== undefined) input.TableClass = p.TableClass as CreateTableCommandInput['TableClass'];
    if (p.DeletionProtectionEnabled !== undefined)
      input.DeletionProtectionEnabled = p.DeletionProtectionEnabled === true;
    if (p.Tags !== undefined) input.Tags = tagList(p.Tags, `${where}.Tags`);

    await clients.dynamodb.send(new CreateTableCommand(input));

    if (p.TimeToLiveSpecification !== undefined) {
      const t = allowOnly(p.TimeToLiveSpecification, ['AttributeName', 'Enabled'], `${where}.TimeToLiveSpecification`);
      if (t.Enabled === true) {
        await clients.dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: String(t.AttributeName), Enabled: true },
          }),
        );
      }
    }
    if (p.PointInTimeRecoverySpecification !== undefined) {
      const r = allowOnly(
        p.PointInTimeRecoverySpecification,
        ['PointInTimeRecoveryEnabled'],
        `${where}.PointInTimeRecoverySpecification`,
      );
      await clients.dynamodb.send(
        new UpdateContinuousBackupsCommand({
          TableName: tableName,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: r.PointInTimeRecoveryEnabled === true },
        }),
      );
    }

    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const attributes: Record<string, string> = { Arn: Table!.TableArn! };
    if (Table?.LatestStreamArn) attributes.StreamArn = Table.LatestStreamArn;
    return { ref: tableName, attributes };
  },
};

function keySchema(value: unknown, where: string): KeySchemaElement[] {
  return ((value as unknown[] | undefined) ?? []).map(
    (element, i) => allowOnly(element, ['AttributeName', 'KeyType'], `${where}[${i}]`) as unknown as KeySchemaElement,
  );
}

function projection(value: unknown, where: string): Projection {
  const p = allowOnly(value ?? {}, ['ProjectionType', 'NonKeyAttributes'], where);
  return {
    ...(p.ProjectionType !== undefined ? { ProjectionType: p.ProjectionType as Projection['ProjectionType'] } : {}),
    ...(p.NonKeyAttributes !== undefined ? { NonKeyAttributes: (p.NonKeyAttributes as unknown[]).map(String) } : {}),
  };
}

function throughput(value: unknown, where: string): ProvisionedThroughput {
  const t = allowOnly(value, ['ReadCapacityUnits', 'WriteCapacityUnits'], where);
  return { ReadCapacityUnits: Number(t.ReadCapacityUnits), WriteCapacityUnits: Number(t.WriteCapacityUnits) };
}
