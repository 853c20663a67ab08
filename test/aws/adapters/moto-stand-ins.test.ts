import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { MOTO_ACCOUNT, MOTO_REGION } from '../../support/moto/clients';
import { onlyOfType, useMoto } from '../../support/moto/fixture';
import { TemplateResolver, UnresolvableReference } from '../../support/moto/resolver';
import { createStandIns, UnsupportedProperty } from '../../support/moto/resources';
import { checkMotoVersion, MotoUnavailable, startMoto } from '../../support/moto/server';
import type { CfnTemplate } from '../../support/moto/template';

/**
 * The moto stand-in support itself (test/support/moto): the resources it creates from the synthesized template, the
 * values it gives `Ref` and `Fn::GetAtt` (CloudFormation's "Return values" per type: a table's and a bucket's name,
 * a queue's URL, a secret's ARN), how it refuses what it does not apply, and the server's life.
 */

const moto = useMoto();

const TYPES = ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret'];

/** Creates an inline template's resources on this test's (empty) moto. */
async function standIn(resources: CfnTemplate['Resources'], extra: Partial<CfnTemplate> = {}) {
  const template: CfnTemplate = { Resources: resources, ...extra };
  const resolver = new TemplateResolver(template);
  const standIns = await createStandIns(template, { clients: moto().clients, resolver });
  return { standIns, resolver };
}

describe('the stand-ins created from the synthesized template', () => {
  it('creates every table, queue, bucket and secret it declares, with the values CloudFormation returns', async () => {
    // Prepare
    const { template, standIns } = moto();
    const declared = Object.entries(template.Resources).filter(([, r]) => TYPES.includes(r.Type));

    // Assess
    expect(Object.keys(standIns).sort()).toEqual(declared.map(([id]) => id).sort());
    const table = onlyOfType(standIns, 'AWS::DynamoDB::Table', 'RunCoordinationState');
    expect(table.ref).toMatch(/^Stepline-RunCoordinationState[0-9A-F]{8}-[A-Z0-9]{12}$/);
    expect(table.attributes.Arn).toBe(`arn:aws:dynamodb:${MOTO_REGION}:${MOTO_ACCOUNT}:table/${table.ref}`);
    const queue = onlyOfType(standIns, 'AWS::SQS::Queue', 'WebhookIntakeParking9');
    expect(queue.ref).toBe(`${moto().server.endpoint}/${MOTO_ACCOUNT}/${queue.attributes.QueueName}`);
    expect(queue.attributes.Arn).toBe(`arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:${queue.attributes.QueueName}`);
    const bucket = onlyOfType(standIns, 'AWS::S3::Bucket', 'BuildProjectsArtifacts');
    expect(bucket.ref).toMatch(/^stepline-buildprojectsartifacts[0-9a-f]{8}-[a-z0-9]{12}$/);
    expect(bucket.attributes.Arn).toBe(`arn:aws:s3:::${bucket.ref}`);
    const secret = onlyOfType(standIns, 'AWS::SecretsManager::Secret', 'ApprovalsSigningKeys');
    expect(secret.ref).toMatch(
      new RegExp(
        `^arn:aws:secretsmanager:${MOTO_REGION}:${MOTO_ACCOUNT}:secret:ApprovalsSigningKeys\\w+-\\w{12}-\\w{6}$`,
      ),
    );
    expect(secret.attributes.Id).toBe(secret.ref);
  });

  it('applies the keys, indexes, TTL, redrive policy and versioning the template declares', async () => {
    // Prepare
    const { clients, standIns, template } = moto();
    const approvals = onlyOfType(standIns, 'AWS::DynamoDB::Table', 'ApprovalsRequests');
    const declared = template.Resources[approvals.logicalId]!.Properties!;

    // Act
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: approvals.ref }));
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: approvals.ref }));
    const parking = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: onlyOfType(standIns, 'AWS::SQS::Queue', 'WebhookIntakeParking9').ref,
        AttributeNames: ['RedrivePolicy'],
      }),
    );
    const versioning = await clients.s3.send(
      new GetBucketVersioningCommand({ Bucket: onlyOfType(standIns, 'AWS::S3::Bucket', 'BuildProjectsArtifacts').ref }),
    );

    // Assess
    expect(Table?.KeySchema).toEqual(declared.KeySchema);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(
      Table?.GlobalSecondaryIndexes?.map((i) => ({
        IndexName: i.IndexName,
        KeySchema: i.KeySchema,
        Projection: i.Projection,
      })),
    ).toEqual(declared.GlobalSecondaryIndexes);
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('ttl');
    expect(JSON.parse(parking.Attributes!.RedrivePolicy!).deadLetterTargetArn).toBe(
      onlyOfType(standIns, 'AWS::SQS::Queue', 'WebhookIntakeParkingDeadLetters').attributes.Arn,
    );
    expect(versioning.Status).toBe('Enabled');
  });

  it("resolves a function's environment to the stand-ins and the stack's own values", async () => {
    // Prepare
    const { template, resolver, standIns } = moto();
    const environmentOf = (variable: string) =>
      Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties).includes(`"${variable}"`),
      )!.Properties!.Environment as { Variables: Record<string, unknown> };

    // Act
    const webhook = resolver.resolve<{ Variables: Record<string, string> }>(environmentOf('PARKING_QUEUE_URL'));
    const approval = resolver.resolve<{ Variables: Record<string, string> }>(environmentOf('STEPLINE_APPROVAL_URL'));

    // Assess
    expect(webhook.Variables).toMatchObject({
      PARKING_QUEUE_URL: onlyOfType(standIns, 'AWS::SQS::Queue', 'WebhookIntakeParking9').ref,
      WEBHOOK_SECRET_ARN: onlyOfType(standIns, 'AWS::SecretsManager::Secret', 'WebhookIntakeWebhookSecret').ref,
      STATE_MACHINE_ARN: `arn:aws:states:${MOTO_REGION}:${MOTO_ACCOUNT}:stateMachine:Stepline-pipeline`,
    });
    expect(approval.Variables.STEPLINE_APPROVALS_TABLE).toBe(
      onlyOfType(standIns, 'AWS::DynamoDB::Table', 'ApprovalsRequests').ref,
    );
    // The HTTP API is not stood in: its endpoint has the shape CloudFormation returns.
    expect(approval.Variables.STEPLINE_APPROVAL_URL).toMatch(
      new RegExp(`^https://[a-z0-9]{10}\\.execute-api\\.${MOTO_REGION}\\.amazonaws\\.com$`),
    );
  });

  it('answers STS calls for the test account', async () => {
    // Act
    const identity = await moto().clients.sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(identity.Account).toBe(MOTO_ACCOUNT);
  });
});

describe('the stand-ins created from an inline template', () => {
  it('generates a secret value that honours the GenerateSecretString options', async () => {
    // Act
    const { standIns } = await standIn({
      Plain: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          GenerateSecretString: {
            PasswordLength: 24,
            ExcludeNumbers: true,
            ExcludePunctuation: true,
            ExcludeUppercase: true,
          },
        },
      },
      Login: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          Name: 'stepline/login',
          GenerateSecretString: {
            SecretStringTemplate: '{"username":"bot"}',
            GenerateStringKey: 'password',
            ExcludeCharacters: 'abcdefghij',
          },
        },
      },
    });

    // Assess
    const read = (id: string) => moto().clients.secretsManager.send(new GetSecretValueCommand({ SecretId: id }));
    expect((await read(standIns.Plain!.ref)).SecretString).toMatch(/^[a-z]{24}$/);
    const login = JSON.parse((await read('stepline/login')).SecretString!) as Record<string, string>;
    expect(login.username).toBe('bot');
    // Secrets Manager's default length is 32 characters.
    expect(login.password).toHaveLength(32);
    expect(login.password).not.toMatch(/[a-j]/);
  });

  it('evaluates intrinsics in properties, names a FIFO queue .fifo, and skips a resource whose condition is false', async () => {
    // Act
    const { standIns } = await standIn(
      {
        Jobs: {
          Type: 'AWS::SQS::Queue',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's own ${} syntax, not JavaScript's.
          Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-jobs-${AWS::Region}' } },
        },
        Ordered: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
        Elsewhere: { Type: 'AWS::SQS::Queue', Condition: 'InUsEast1' },
      },
      { Conditions: { InUsEast1: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] } } },
    );

    // Assess
    expect(Object.keys(standIns).sort()).toEqual(['Jobs', 'Ordered']);
    expect(standIns.Jobs!.attributes.QueueName).toBe(`Stepline-jobs-${MOTO_REGION}`);
    expect(standIns.Ordered!.attributes.QueueName).toMatch(/^Stepline-Ordered-[A-Z0-9]{12}\.fifo$/);
  });

  it('refuses a property it does not apply, naming the resource and the property', async () => {
    // Act
    const queue = standIn({ Q: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 30, Shiny: true } } });
    const index = standIn({
      T: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          GlobalSecondaryIndexes: [
            {
              IndexName: 'by-id',
              KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
              ContributorInsightsSpecification: { Enabled: true },
            },
          ],
        },
      },
    });

    // Assess
    await expect(queue).rejects.toThrow(UnsupportedProperty);
    await expect(queue).rejects.toThrow('AWS::SQS::Queue Q: property Shiny is not stood in');
    await expect(index).rejects.toThrow(
      'AWS::DynamoDB::Table T.GlobalSecondaryIndexes[0].ContributorInsightsSpecification is not stood in',
    );
  });

  it('refuses a reference to a resource it neither created nor has a placeholder for', async () => {
    // Act
    const act = standIn({
      Topic: { Type: 'AWS::Route53::HostedZone', Properties: {} },
      Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['Topic', 'Id'] } } },
    });

    // Assess
    await expect(act).rejects.toThrow(UnresolvableReference);
    await expect(act).rejects.toThrow('no value for Topic (AWS::Route53::HostedZone)');
  });
});

describe('the moto server', () => {
  it('refuses to run with another moto version, saying how to install the right one', async () => {
    // Act
    const act = checkMotoVersion('9.9.9');

    // Assess
    await expect(act).rejects.toThrow(MotoUnavailable);
    await expect(act).rejects.toThrow(/python3 has moto 5\.2\.1, not 9\.9\.9: .*pip install 'moto\[server\]==5\.2\.1'/);
  });

  it('stops with its whole process group, and answers no more', async () => {
    // Prepare
    const server = await startMoto();

    // Act
    await server.stop();
    await server.stop();

    // Assess
    expect(() => process.kill(-server.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(fetch(`${server.endpoint}/moto-api/reset`, { method: 'POST' })).rejects.toThrow();
  }, 60_000);
});
