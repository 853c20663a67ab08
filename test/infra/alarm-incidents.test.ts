import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALARM_PREFIX_ENV } from '../../core/insight/alarms';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { CONTEXT, createApp } from '../../infra/bin/create-app';
import { StatusReporter } from '../../infra/constructs/StatusReporter';
import {
  evaluate,
  FIXTURE_ASL,
  logicalIdOf,
  nagFindings,
  REPO_ROOT,
  resourcesOfType,
  SKIP_BUNDLING,
  scratchProject,
  testStack,
} from './helpers';

/**
 * CloudWatch alarms as incidents (optional, ADR 0099): StatusReporter.addAlarmIncidents(prefix) routes the alarm
 * state changes of the prefix to the alarm-incidents function, which may only PutItem the deployments table.
 */

function synth() {
  const stack = testStack();
  const reporter = new StatusReporter(stack, 'Status', {
    projectRoot: scratchProject(['status', 'build-events', 'execution-events', 'alarm-incidents']),
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline',
    stateMachineName: 'Test-pipeline',
    projectNames: ['stepline-build', 'stepline-test'],
  });
  const fn = reporter.addAlarmIncidents('prod-');
  return { stack, reporter, fn, json: Template.fromStack(stack).toJSON() as never };
}

describe('StatusReporter.addAlarmIncidents', () => {
  const { stack, reporter, fn, json } = synth();

  it('sends the state changes of the alarms named with the prefix to the function, to ALARM or OK only', () => {
    // Act
    const rules = resourcesOfType(json, 'AWS::Events::Rule').map(([, p]) => evaluate(p) as Record<string, unknown>);
    const rule = rules.find((r) => JSON.stringify(r['EventPattern']).includes('aws.cloudwatch'));

    // Assess
    expect(rule?.['EventPattern']).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [{ prefix: 'prod-' }], state: { value: ['ALARM', 'OK'] } },
    });
    expect(JSON.stringify(rule?.['Targets'])).toContain(logicalIdOf(fn.function));
    expect(JSON.stringify(rule?.['Targets'])).toContain('DeadLetterConfig');
  });

  it('gives the function the table and the prefix, and only PutItem on the table', () => {
    // Act
    const [, properties] = resourcesOfType(json, 'AWS::Lambda::Function').find(
      ([id]) => id === logicalIdOf(fn.function),
    )!;
    const variables = evaluate((properties.Environment as { Variables: unknown }).Variables) as Record<string, string>;
    const statements = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Roles).includes(logicalIdOf(fn.role)))
      .flatMap(
        ([, p]) => (evaluate(p.PolicyDocument) as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      )
      .filter((s) => [s.Action].flat().some((a) => String(a).startsWith('dynamodb:')));

    // Assess
    expect(variables[ALARM_PREFIX_ENV]).toBe('prod-');
    expect(variables[INSIGHT_ENV.table]).toBe(evaluate(stack.resolve(reporter.deploymentsTable.tableName)));
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:PutItem',
        Resource: evaluate(stack.resolve(reporter.deploymentsTable.tableArn)),
      }),
    ]);
    expect(reporter.addAlarmIncidents('other-')).toBe(fn);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(synth().stack.node.root)).toEqual([]);
  });

  it('is added to the stack by the incidentAlarmPrefix context, and not without it', () => {
    // Act
    const app = (context: Record<string, unknown>) =>
      createApp({ projectRoot: REPO_ROOT, definitionFile: FIXTURE_ASL, nag: false, appProps: { context } }).stack;
    const withPrefix = app({ ...SKIP_BUNDLING, [CONTEXT.incidentAlarmPrefix]: 'stepline-prod-' });
    const without = app({ ...SKIP_BUNDLING });

    // Assess
    expect(withPrefix.status.alarmIncidentsFunction).toBeDefined();
    expect(without.status.alarmIncidentsFunction).toBeUndefined();
  });
});
