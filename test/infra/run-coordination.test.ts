import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { COORDINATION_ENV } from '../../core/coordination/contracts';
import { RunCoordination } from '../../infra/constructs/RunCoordination';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

describe('RunCoordination', () => {
  const stack = testStack();
  const coordination = new RunCoordination(stack, 'Coordination', {
    projectRoot: scratchProject(['coordination']),
    stateMachineName: 'Test-pipeline',
  });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as never;

  it('keeps run state in a table keyed by pk, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('tells the function its table and lets it read, conditionally write, and stop superseded pipeline runs', () => {
    // Act
    const [, fn] = resourcesOfType(json, 'AWS::Lambda::Function')[0]!;
    const statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );

    // Assess
    const table = logicalIdOf(coordination.table);
    expect((evaluate(fn.Environment) as { Variables: Record<string, string> }).Variables[COORDINATION_ENV.table]).toBe(
      `ref:${table}`,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
        Resource: `getatt:${table}.Arn`,
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'states:StopExecution',
        Resource: 'arn:aws:states:eu-west-1:123456789012:execution:Test-pipeline:*',
      }),
    );
    expect(
      statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('dynamodb:') && a.includes('*')),
    ).toEqual([]);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(stack.node.root)).toEqual([]);
  });
});
