import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Observability } from '../../infra/constructs/Observability';
import { nagFindings, resourcesOfType, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

describe('Observability', () => {
  const stack = testStack();
  const queue = new sqs.Queue(stack, 'Parking');
  const deadLetterQueue = new sqs.Queue(stack, 'ParkingDeadLetters');
  const keeperFailures = new sqs.Queue(stack, 'KeeperFailures');
  const observability = new Observability(stack, 'Observability', {
    stateMachineArn: STATE_MACHINE,
    parking: { queue, deadLetterQueue },
    approvalKeeperFailures: keeperFailures,
    environments: ['production', 'staging'],
  });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as never;
  const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').map(([, p]) => p);
  const body = JSON.stringify(resourcesOfType(json, 'AWS::CloudWatch::Dashboard')[0]![1].DashboardBody);

  it('charts runs started, succeeded and failed, and run duration p50 and p90', () => {
    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionTime']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('\\"stat\\":\\"p50\\"');
    expect(body).toContain('\\"stat\\":\\"p90\\"');
  });

  it("charts deploys and rollbacks per configured environment from the deploy functions' metrics", () => {
    for (const environment of ['production', 'staging'])
      expect(body).toContain(`\\"environment\\",\\"${environment}\\"`);
    expect(body).toContain('rolloutDone');
    expect(body).toContain('stepline-rollout');
  });

  it('alarms on failed runs, parked deliveries waiting or dead-lettered, replay failures, failed deliveries and a failing approval keeper', () => {
    // Assess
    expect(alarms).toHaveLength(6);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^KeeperFailures/), 'QueueName'] } },
        ],
        AlarmDescription: expect.stringContaining('approval keeper'),
      }),
    );
    const failedRuns = alarms.find((a) => JSON.stringify(a.Metrics ?? '').includes('failed + timedOut'));
    expect(failedRuns).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(alarms).toContainEqual(
      expect.objectContaining({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900, Namespace: 'AWS/SQS' }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'replayFailed',
        Namespace: 'Stepline',
        Dimensions: [{ Name: 'service', Value: 'stepline-replay' }],
        EvaluationPeriods: 3,
      }),
    );
    expect(alarms).toContainEqual(expect.objectContaining({ MetricName: 'failed', Namespace: 'Stepline' }));
    for (const alarm of alarms)
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^ObservabilityAlarms/) }]);
  });

  it('notifies a TLS-only SNS topic', () => {
    expect(observability.alarmTopic).toBeDefined();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  it('raises no cdk-nag finding of its own', () => {
    expect(nagFindings(stack.node.root).filter((f) => f.path.startsWith('Test/Observability'))).toEqual([]);
  });
});
