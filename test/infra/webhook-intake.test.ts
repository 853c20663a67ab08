import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../core/contracts';
import { WebhookIntake } from '../../infra/constructs/WebhookIntake';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

function synth(functions = ['webhook', 'replay']) {
  const root = scratchProject(functions, { 'stepline.config.json': '{"version":1}' });
  const stack = testStack();
  const intake = new WebhookIntake(stack, 'Intake', {
    projectRoot: root,
    configFile: path.join(root, 'stepline.config.json'),
    stateMachineArn: STATE_MACHINE,
  });
  return { stack, intake, template: Template.fromStack(stack) };
}

describe('WebhookIntake', () => {
  const shared = synth();
  const json = shared.template.toJSON() as never;
  const logicalId = logicalIdOf;

  it('routes POST /webhooks/{provider} to the webhook function', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, p]) => p.RouteKey);

    // Assess
    expect(routes).toEqual(['POST /webhooks/{provider}']);
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

  it('lets both functions start executions of the pipeline state machine and nothing else in Step Functions', () => {
    // Act
    const sfnGrants = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (
        evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }
      ).Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:'))),
    );

    // Assess
    expect(sfnGrants).toEqual([
      expect.objectContaining({ Action: 'states:StartExecution', Resource: STATE_MACHINE }),
      expect.objectContaining({ Action: 'states:StartExecution', Resource: STATE_MACHINE }),
    ]);
  });

  it('fails synth naming the entry point that does not exist yet', () => {
    expect(() => synth(['webhook'])).toThrow(
      /functions\/replay\/index\.ts not found: \/.*\/functions\/replay\/index\.ts/,
    );
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(synth().stack.node.root)).toEqual([]);
  });
});
