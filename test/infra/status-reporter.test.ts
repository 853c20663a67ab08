import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { StatusReporter } from '../../infra/constructs/StatusReporter';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

function synth(functions = ['status', 'build-events', 'execution-events']) {
  const stack = testStack();
  const reporter = new StatusReporter(stack, 'Status', {
    projectRoot: scratchProject(functions),
    stateMachineArn: STATE_MACHINE,
    stateMachineName: 'Test-pipeline',
    projectNames: ['stepline-build', 'stepline-test'],
  });
  return { stack, reporter, template: Template.fromStack(stack) };
}

describe('StatusReporter', () => {
  const shared = synth();
  const json = shared.template.toJSON() as never;

  it('sends CodeBuild phase and state changes of the pipeline projects to the build-events function', () => {
    shared.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build Phase Change', 'CodeBuild Build State Change'],
        detail: { 'project-name': ['stepline-build', 'stepline-test'] },
      },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [logicalIdOf(shared.reporter.buildEventsFunction!.function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(shared.reporter.failedEvents), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          Id: 'Target0',
        },
      ],
    });
  });

  it('sends status changes of the pipeline executions, and only of them, to the execution-events function', () => {
    shared.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [STATE_MACHINE] },
      },
    });
  });

  it('gives the functions the tokens secret and lets only the event functions describe pipeline executions', () => {
    // Act
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');
    const describers = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.PolicyDocument).includes('states:DescribeExecution'),
    );

    // Assess
    expect(functions).toHaveLength(3);
    for (const [, fn] of functions) {
      const variables = evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>;
      expect(variables[STATUS_ENV.tokensSecret]).toMatch(/^ref:StatusGitHostTokens/);
      expect(variables[STATUS_ENV.consoleKind]).toBe('aws');
    }
    expect(describers).toHaveLength(2);
    for (const [, policy] of describers) {
      expect(JSON.stringify(evaluate(policy.PolicyDocument))).toContain(
        '"Action":"states:DescribeExecution","Effect":"Allow","Resource":"arn:aws:states:eu-west-1:123456789012:execution:Test-pipeline:*"',
      );
    }
  });

  it('creates the Git host tokens secret empty, to be filled after deploy', () => {
    shared.template.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: '{}' });
  });

  it('routes failed asynchronous invocations of the event functions to the failed-events queue', () => {
    shared.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
    shared.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
  });

  it('keeps deployment records in a retained table with point-in-time recovery, keyed by pk and sk', () => {
    shared.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it('names the table to the status function only, which may Query it and PutItem and nothing else', () => {
    // Prepare
    const table = `ref:${logicalIdOf(shared.reporter.deploymentsTable)}`;
    const tableArn = `getatt:${logicalIdOf(shared.reporter.deploymentsTable)}.Arn`;
    const statusId = logicalIdOf(shared.reporter.statusFunction.function);

    // Act
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');
    const variables = Object.fromEntries(
      functions.map(([id, fn]) => [id, evaluate((fn.Environment as { Variables: unknown }).Variables)]),
    ) as Record<string, Record<string, string>>;
    const statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement.map(
        (s) => ({ ...s, roles: evaluate(p.Roles) }),
      ),
    );
    const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(tableArn));

    // Assess
    expect(
      Object.entries(variables)
        .filter(([, v]) => v[INSIGHT_ENV.table] === table)
        .map(([id]) => id),
    ).toEqual([statusId]);
    expect(onTable.map((s) => [s.Action, s.Resource])).toEqual([[['dynamodb:Query', 'dynamodb:PutItem'], tableArn]]);
    expect(JSON.stringify(onTable[0]!.roles)).toContain(`ref:${logicalIdOf(shared.reporter.statusFunction.role)}`);
    expect(JSON.stringify(statements)).not.toContain('dynamodb:Scan');
  });

  it('fails naming the entry point that does not exist', () => {
    // Act + Assess
    expect(() => synth(['status'])).toThrow(/^functions\/build-events\/index\.ts not found: /);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(shared.stack.node.root)).toEqual([]);
  });
});
