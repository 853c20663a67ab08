import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Observability, PIPELINE_OUTCOME_ERRORS, PLATFORM_FAILURE_ERRORS } from '../../infra/constructs/Observability';
import { SteplineFunction } from '../../infra/constructs/SteplineFunction';
import { evaluate, logicalIdOf, nagFindings, REPO_ROOT, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

describe('Observability', () => {
  const stack = testStack();
  const queue = new sqs.Queue(stack, 'Parking');
  const deadLetterQueue = new sqs.Queue(stack, 'ParkingDeadLetters');
  const keeperFailures = new sqs.Queue(stack, 'KeeperFailures');
  const project = scratchProject(['status', 'deploy']);
  const status = new SteplineFunction(stack, 'Status', { projectRoot: project, name: 'status', description: 'status' });
  const deploy = new SteplineFunction(stack, 'Deploy', {
    projectRoot: project,
    name: 'deploy',
    description: 'deploy',
    errorsAreOutcomes: true,
  });
  const observability = new Observability(stack, 'Observability', {
    stateMachineArn: STATE_MACHINE,
    parking: { queue, deadLetterQueue },
    approvalKeeperFailures: keeperFailures,
    environments: ['production', 'staging'],
    functions: [status, deploy],
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

  it('alarms on parked deliveries waiting or dead-lettered, replay failures, failed deliveries and a failing approval keeper', () => {
    // Assess
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^KeeperFailures/), 'QueueName'] } },
        ],
        AlarmDescription: expect.stringContaining('approval keeper'),
      }),
    );
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

  it('raises no alarm on the runs that fail as pipeline outcomes: no alarm reads ExecutionsFailed or ExecutionsTimedOut', () => {
    // Assess
    expect(JSON.stringify(alarms)).not.toMatch(/ExecutionsFailed|ExecutionsTimedOut|ExecutionsAborted/);
    expect(body).toContain('ExecutionsFailed');
  });

  it('sends the runs the platform failed to a queue, and alarms on every one that arrives', () => {
    // Prepare
    const json = template.toJSON() as never;
    const rules = resourcesOfType(json, 'AWS::Events::Rule').map(([, p]) => p);
    const queueId = logicalIdOf(observability.platformFailures.failedRuns!);

    // Assess
    expect(rules).toEqual([
      expect.objectContaining({
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            stateMachineArn: [STATE_MACHINE],
            $or: [
              { status: ['FAILED'], error: [{ 'anything-but': [...PIPELINE_OUTCOME_ERRORS] }] },
              { status: ['FAILED'], error: [null] },
              { status: ['TIMED_OUT'] },
              { status: ['ABORTED'], error: [{ 'anything-but': { prefix: 'Stepline.' } }] },
              { status: ['ABORTED'], error: [null] },
            ],
          },
        },
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
      }),
    ]);
    const message = (rules[0]!.Targets as { InputTransformer: { InputTemplate: string } }[])[0]!.InputTransformer;
    expect(message.InputTemplate).not.toMatch(/input|output|cause/i);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'NumberOfMessagesSent',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        AlarmDescription: expect.stringContaining('not a build, test, deploy or approval outcome'),
      }),
    );
  });

  it("alarms on a function's errors and throttles", () => {
    // Prepare
    const alarm = alarms.find((a) => String(a.AlarmDescription).startsWith('The stepline-status function'));

    // Assess
    const metrics = JSON.stringify(alarm?.Metrics);
    expect(metrics).toContain('"MetricName":"Errors"');
    expect(metrics).toContain('"MetricName":"Throttles"');
    expect(metrics).toContain(logicalIdOf(status.function));
  });

  it('alarms on the timeouts, crashes and ERROR logs of a function whose errors are outcomes, not on its Errors', () => {
    // Prepare
    const json = template.toJSON() as never;
    const alarm = alarms.find((a) => String(a.AlarmDescription).startsWith('The stepline-deploy function'));
    const filters = resourcesOfType(json, 'AWS::Logs::MetricFilter').map(([, p]) => p);

    // Assess
    const metrics = JSON.stringify(alarm?.Metrics);
    expect(metrics).not.toContain('"MetricName":"Errors"');
    expect(metrics).toContain('"MetricName":"Throttles"');
    expect(metrics).toContain('"MetricName":"stepline-deploy","Namespace":"Stepline/UnexpectedFailures"');
    expect(filters.map((f) => f.FilterPattern).sort()).toEqual([
      '?"Task timed out" ?"Runtime exited"',
      '{ $.level = "ERROR" }',
    ]);
    for (const filter of filters) {
      expect(filter).toMatchObject({
        LogGroupName: { Ref: logicalIdOf(deploy.logGroup) },
        MetricTransformations: [
          { MetricNamespace: 'Stepline/UnexpectedFailures', MetricName: 'stepline-deploy', MetricValue: '1' },
        ],
      });
    }
  });

  it('knows every error the workflow fails a run with as a pipeline outcome or a platform failure', () => {
    // Prepare
    const definition = readFileSync(path.join(REPO_ROOT, 'statemachines/pipeline.asl.json'), 'utf8');

    // Act
    const named = new Set([...definition.matchAll(/'?(Stepline\.[A-Za-z]+)'?/g)].map((m) => m[1]!));
    const failStates: string[] = [];
    const walk = (states: Record<string, { Type: string; Error?: string; [k: string]: unknown }>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Fail' && state.Error) failStates.push(state.Error);
        for (const nested of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])])
          if (nested) walk((nested as { States: never }).States);
      }
    };
    walk(JSON.parse(definition).States);
    const failErrors = failStates.flatMap((error) => [...error.matchAll(/Stepline\.[A-Za-z]+/g)].map((m) => m[0]));

    // Assess
    expect(failErrors.length).toBeGreaterThan(3);
    const known = new Set<string>([...PIPELINE_OUTCOME_ERRORS, ...PLATFORM_FAILURE_ERRORS]);
    expect(failErrors.filter((error) => !known.has(error))).toEqual([]);
    for (const error of PIPELINE_OUTCOME_ERRORS) expect(named.has(error), error).toBe(true);
  });

  it("charts DORA's four keys per environment from the status function's delivery insight metrics", () => {
    // Prepare: the dashboard's widgets, as CloudWatch reads them
    const widgets = (
      JSON.parse(evaluate(resourcesOfType(json, 'AWS::CloudWatch::Dashboard')[0]![1].DashboardBody) as string) as {
        widgets: { type: string; properties: { title?: string; metrics?: unknown[][] } }[];
      }
    ).widgets;
    const titled = (title: string) => widgets.find((w) => w.properties.title === title)!.properties.metrics!;
    /** A metric row: [namespace, name, dim, value, dim, value, { stat, id, visible }]. */
    const rows = (title: string) =>
      titled(title)
        .filter((row) => row[0] === 'Stepline')
        .map((row) => [
          row[1],
          Object.fromEntries([
            [row[2], row[3]],
            [row[4], row[5]],
          ]),
          (row[6] as { stat: string }).stat,
        ]);

    // Assess: per environment, the status function's metrics with the statistic each key is
    expect(rows('Deployment frequency (successful deploys per day)')).toEqual(
      ['production', 'staging'].map((environment) => [
        'DeploySucceeded',
        { environment, service: 'stepline-status' },
        'Sum',
      ]),
    );
    expect(rows('Lead time for changes, p50 (hours)').map((r) => [r[0], r[2]])).toEqual([
      ['LeadTimeForChanges', 'p50'],
      ['LeadTimeForChanges', 'p50'],
    ]);
    expect(rows('Time to restore, p50 (hours)').map((r) => [r[0], r[2]])).toEqual([
      ['TimeToRestore', 'p50'],
      ['TimeToRestore', 'p50'],
    ]);
    const rate = titled('Change failure rate (%)');
    expect(rate.filter((row) => typeof (row[0] as { expression?: string }).expression === 'string')).toEqual([
      [expect.objectContaining({ expression: 'IF(deploys_0 > 0, 100 * failures_0 / deploys_0)', label: 'production' })],
      [expect.objectContaining({ expression: 'IF(deploys_1 > 0, 100 * failures_1 / deploys_1)', label: 'staging' })],
    ]);
    expect(rows('Change failure rate (%)').map((r) => r[0])).toEqual([
      'ChangeFailure',
      'Deploy',
      'ChangeFailure',
      'Deploy',
    ]);
    // The figures over the dashboard's time range, one widget per environment
    const figures = widgets.filter((w) => w.type === 'metric' && w.properties.title?.endsWith('over the time range'));
    expect(
      figures.map((w) => [
        w.properties.title,
        (w.properties as { setPeriodToTimeRange?: boolean }).setPeriodToTimeRange,
      ]),
    ).toEqual([
      ['production: the four keys over the time range', true],
      ['staging: the four keys over the time range', true],
    ]);
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
