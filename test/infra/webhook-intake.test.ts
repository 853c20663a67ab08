import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../core/contracts';
import { HANDOFF_ENV } from '../../core/contracts/handoff';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { WebhookIntake } from '../../infra/constructs/WebhookIntake';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';
const EXECUTIONS = 'arn:aws:states:eu-west-1:123456789012:execution:Test-pipeline:*';

function synth(
  functions = ['webhook', 'replay'],
  options: { tokens?: boolean; bucket?: string; deployments?: boolean } = {},
) {
  const root = scratchProject(functions, { 'stepline.config.json': '{"version":1}' });
  const stack = testStack();
  const tokens = options.tokens
    ? new secretsmanager.Secret(stack, 'GitHostTokens', { description: 'the status functions’ tokens' })
    : undefined;
  const deployments = options.deployments
    ? new dynamodb.Table(stack, 'Deployments', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      })
    : undefined;
  const intake = new WebhookIntake(stack, 'Intake', {
    projectRoot: root,
    configFile: path.join(root, 'stepline.config.json'),
    stateMachineArn: STATE_MACHINE,
    stateMachineName: 'Test-pipeline',
    ...(tokens ? { gitHostTokens: tokens } : {}),
    ...(options.bucket ? { artifactsBucketName: options.bucket } : {}),
    ...(deployments ? { deploymentsTable: deployments } : {}),
  });
  return { stack, intake, template: Template.fromStack(stack) };
}

/** The statements of the role policies of `fn`'s role, evaluated (see helpers' `evaluate`). */
function statementsOf(json: never, roleLogicalId: string) {
  return resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(roleLogicalId))
    .flatMap(
      ([, p]) =>
        (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );
}

describe('WebhookIntake', () => {
  const shared = synth();
  const json = shared.template.toJSON() as never;
  const logicalId = logicalIdOf;

  it('routes POST /webhooks/{provider} and the hand-off, POST /webhooks/generic, to the webhook function', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, p]) => p.RouteKey);

    // Assess
    expect(routes.sort()).toEqual(['POST /webhooks/generic', 'POST /webhooks/{provider}']);
    expect(resourcesOfType(json, 'AWS::ApiGatewayV2::Integration')).toHaveLength(1);
    shared.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(shared.intake.webhookFunction.function), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the stage and writes JSON access logs that carry the route, never the path', () => {
    // Act
    const [, stage] = resourcesOfType(json, 'AWS::ApiGatewayV2::Stage')[0]!;

    // Assess
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
    expect(JSON.stringify(format)).not.toMatch(/\$context\.path|header|body/i);
    expect(evaluate((stage.AccessLogSettings as { DestinationArn: unknown }).DestinationArn)).toMatch(
      /^getatt:IntakeAccessLogs.*\.Arn$/,
    );
  });

  it('gives the webhook function what its settings read, on arm64 with tracing', () => {
    // Act
    const [, fn] = resourcesOfType(json, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalId(shared.intake.webhookFunction.function),
    )!;

    // Assess
    const variables = evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>;
    expect(variables).toMatchObject({
      [ENV.stateMachineArn]: STATE_MACHINE,
      [ENV.webhookSecretArn]: expect.stringMatching(/^ref:IntakeWebhookSecret/),
      [HANDOFF_ENV.secretArn]: expect.stringMatching(/^ref:IntakeHandoffSecret/),
      [ENV.parkingQueueUrl]: expect.stringMatching(/^ref:IntakeParking(?!DeadLetters)/),
      [ENV.config]: '/var/task/stepline.config.json',
      [ENV.serviceName]: 'stepline-webhook',
    });
    expect(fn).toMatchObject({ Architectures: ['arm64'], Runtime: 'nodejs24.x', TracingConfig: { Mode: 'Active' } });
  });

  it('parks deliveries in an encrypted (SSE-SQS), TLS-only queue with a dead-letter queue after 12 tries', () => {
    // Assess
    shared.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 300,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 12 },
    });
    shared.template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
        },
      },
      2,
    );
  });

  it('feeds the replay function from the parking queue, reporting batch item failures', () => {
    // Assess
    shared.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(shared.intake.parkingQueue), 'Arn'] },
      FunctionName: { Ref: logicalId(shared.intake.replayFunction.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });

  it('lets both functions start executions of the pipeline, and the webhook describe its executions, nothing more', () => {
    // Act
    const sfn = (role: string) =>
      statementsOf(json, role).filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')));

    // Assess
    expect(sfn(logicalId(shared.intake.webhookFunction.role))).toEqual([
      expect.objectContaining({
        Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        Resource: EXECUTIONS,
      }),
      expect.objectContaining({ Action: 'states:StartExecution', Resource: STATE_MACHINE }),
    ]);
    expect(sfn(logicalId(shared.intake.replayFunction.role))).toEqual([
      expect.objectContaining({ Action: 'states:StartExecution', Resource: STATE_MACHINE }),
    ]);
  });

  it('gives the webhook function the Git host tokens secret and read on it, when given one', () => {
    // Prepare
    const { intake, template } = synth(['webhook', 'replay'], { tokens: true });
    const withTokens = template.toJSON() as never;
    const variablesOf = (document: never, id: string) =>
      evaluate(
        (
          resourcesOfType(document, 'AWS::Lambda::Function').find(([logical]) => logical === id)![1].Environment as {
            Variables: unknown;
          }
        ).Variables,
      ) as Record<string, string>;

    // Act
    const variables = variablesOf(withTokens, logicalId(intake.webhookFunction.function));
    const reads = statementsOf(withTokens, logicalId(intake.webhookFunction.role)).filter((s) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue'),
    );

    // Assess
    expect(variables[STATUS_ENV.tokensSecret]).toMatch(/^ref:GitHostTokens/);
    expect(reads.map((s) => s.Resource)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ref:IntakeWebhookSecret/), variables[STATUS_ENV.tokensSecret]]),
    );
    const without = variablesOf(json, logicalId(shared.intake.webhookFunction.function));
    expect(without).not.toHaveProperty(STATUS_ENV.tokensSecret);
  });

  it('gives the webhook function read on the hand-off secret, and the artifacts bucket when given it', () => {
    // Prepare
    const { intake, template } = synth(['webhook', 'replay'], { bucket: 'stack-artifacts-1a2b' });
    const document = template.toJSON() as never;
    const [, fn] = resourcesOfType(document, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalId(intake.webhookFunction.function),
    )!;

    // Act
    const variables = evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>;
    const reads = statementsOf(document, logicalId(intake.webhookFunction.role)).filter((s) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue'),
    );

    // Assess
    expect(variables[HANDOFF_ENV.artifactsBucket]).toBe('stack-artifacts-1a2b');
    expect(reads.map((s) => s.Resource)).toContainEqual(variables[HANDOFF_ENV.secretArn]);
    expect(variables[HANDOFF_ENV.secretArn]).toMatch(/^ref:IntakeHandoffSecret/);
  });

  it('gives the webhook function the deployments table and PutItem on it, nothing else of DynamoDB, when given it', () => {
    // Prepare
    const { intake, template } = synth(['webhook', 'replay'], { deployments: true });
    const document = template.toJSON() as never;
    const variablesOf = (doc: never, id: string) =>
      evaluate(
        (
          resourcesOfType(doc, 'AWS::Lambda::Function').find(([l]) => l === id)![1].Environment as {
            Variables: unknown;
          }
        ).Variables,
      ) as Record<string, string>;
    const dynamo = (doc: never, role: string) =>
      statementsOf(doc, role).filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));

    // Act
    const variables = variablesOf(document, logicalId(intake.webhookFunction.function));
    const statements = dynamo(document, logicalId(intake.webhookFunction.role));

    // Assess
    expect(variables[INSIGHT_ENV.table]).toMatch(/^ref:Deployments/);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:PutItem',
        Resource: expect.stringMatching(/^getatt:Deployments[0-9A-F]+\.Arn$/),
      }),
    ]);
    expect(dynamo(document, logicalId(intake.replayFunction.role))).toEqual([]);
    expect(variablesOf(json, logicalId(shared.intake.webhookFunction.function))).not.toHaveProperty(INSIGHT_ENV.table);
    expect(dynamo(json, logicalId(shared.intake.webhookFunction.role))).toEqual([]);
  });

  it('fails synth naming the entry point that does not exist yet', () => {
    expect(() => synth(['webhook'])).toThrow(
      /functions\/replay\/index\.ts not found: \/.*\/functions\/replay\/index\.ts/,
    );
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(synth().stack.node.root)).toEqual([]);
    // With the tokens secret (the test's own secret aside: the stack's acknowledges its rotation where it is made).
    const withTokens = nagFindings(synth(['webhook', 'replay'], { tokens: true }).stack.node.root);
    expect(withTokens.filter((finding) => finding.path.startsWith('Test/Intake/'))).toEqual([]);
    const withTable = nagFindings(synth(['webhook', 'replay'], { deployments: true }).stack.node.root);
    expect(withTable.filter((finding) => finding.path.startsWith('Test/Intake/'))).toEqual([]);
  });
});
