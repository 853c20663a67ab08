import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../../nag/acknowledge';
import type { SteplineFunction } from '../SteplineFunction';

/**
 * The errors a run fails with when the pipeline said no, as the workflow's Fail states name them
 * (statemachines/pipeline.asl.json): a build or a test suite failed, a deploy failed and was rolled back, a person
 * rejected or did not answer an approval, another deploy held the environment. These are outcomes of the pipeline,
 * counted on the dashboard; every other way a run ends badly is the platform's failure and alarms (docs/adr/0048).
 */
export const PIPELINE_OUTCOME_ERRORS = [
  'Stepline.BuildFailed',
  'Stepline.TestsFailed',
  'Stepline.DeployFailed',
  'Stepline.ApprovalRejected',
  'Stepline.ApprovalTimedOut',
  'Stepline.EnvironmentBusy',
] as const;

/** Errors of the workflow's Fail states that are the platform's failures: a lost approval gate, an unnamed failure. */
export const PLATFORM_FAILURE_ERRORS = ['Stepline.ApprovalLost', 'Stepline.PipelineFailed'] as const;

/** A run stopped with an error under this prefix was stopped on purpose (superseded, overtaken, by an operator). */
export const DELIBERATE_STOP_PREFIX = 'Stepline.';

/** The namespace of the metrics that the log filters of `errorsAreOutcomes` functions publish, one per function. */
export const UNEXPECTED_FAILURES_NAMESPACE = 'Stepline/UnexpectedFailures';

/**
 * The EventBridge pattern of a pipeline run that the platform failed: FAILED with an error that is not a pipeline
 * outcome (States.*, Lambda.*, Sandbox.Timedout, a handler's own error, ApprovalLost) or with none; TIMED_OUT (the
 * state machine's own timeout); ABORTED other than on purpose (an error under `Stepline.`). Step Functions puts the
 * execution's `status`, `error` and `cause` in the detail of "Step Functions Execution Status Change" events.
 */
export function platformFailurePattern(stateMachineArn: string): events.EventPattern {
  return {
    source: ['aws.states'],
    detailType: ['Step Functions Execution Status Change'],
    detail: {
      stateMachineArn: [stateMachineArn],
      $or: [
        { status: ['FAILED'], error: [{ 'anything-but': [...PIPELINE_OUTCOME_ERRORS] }] },
        { status: ['FAILED'], error: [null] },
        { status: ['TIMED_OUT'] },
        { status: ['ABORTED'], error: [{ 'anything-but': { prefix: DELIBERATE_STOP_PREFIX } }] },
        { status: ['ABORTED'], error: [null] },
      ],
    },
  };
}

export interface PlatformFailuresProps {
  readonly stateMachineArn?: string;
  readonly functions: readonly SteplineFunction[];
  /** Makes an alarm that notifies the topic (Observability's). */
  readonly alarm: (id: string, metric: cloudwatch.IMetric, description: string) => cloudwatch.Alarm;
}

/**
 * The platform's own failures, apart from the pipeline's outcomes: runs the platform failed (an EventBridge rule
 * puts each in a queue, whose arrivals alarm), and per function its errors and throttles; for a function whose
 * errors are outcomes (`errorsAreOutcomes`), its timeouts, crashes and ERROR-level logs instead of Lambda's Errors.
 */
export class PlatformFailures extends Construct {
  /** One message per run the platform failed: `{executionArn, name, status, error}`, kept 14 days. */
  public readonly failedRuns?: sqs.Queue;
  public readonly alarms: readonly cloudwatch.Alarm[];

  public constructor(scope: Construct, id: string, props: PlatformFailuresProps) {
    super(scope, id);
    const alarms: cloudwatch.Alarm[] = [];
    if (props.stateMachineArn) {
      this.failedRuns = this.failedRunsQueue();
      const rule = new events.Rule(this, 'FailedRunsRule', {
        description: 'Stepline: pipeline runs that failed, timed out or stopped for a reason that is not the pipeline',
        eventPattern: platformFailurePattern(props.stateMachineArn),
        targets: [
          new targets.SqsQueue(this.failedRuns, {
            // The run's ARN, status and error: no input, output or cause (they hold payload data).
            message: events.RuleTargetInput.fromObject({
              executionArn: events.EventField.fromPath('$.detail.executionArn'),
              name: events.EventField.fromPath('$.detail.name'),
              status: events.EventField.fromPath('$.detail.status'),
              error: events.EventField.fromPath('$.detail.error'),
            }),
          }),
        ],
      });
      acknowledge(
        rule,
        'Serverless-EventBusDLQ',
        'The target is a queue of this stack that only records failed runs; EventBridge retries a delivery for up ' +
          'to 24 hours (its default retry policy), and a second queue would fail for the same reasons as this one.',
      );
      alarms.push(
        props.alarm(
          'PlatformFailedRuns',
          this.failedRuns.metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
          'A pipeline run failed for a reason that is not a build, test, deploy or approval outcome (a States.* ' +
            'or Lambda error, a lost approval gate, a timeout, a stop by something other than Stepline): the runs ' +
            'are in the PlatformFailures queue and in the Step Functions console.',
        ),
      );
    }
    for (const fn of props.functions) alarms.push(this.functionAlarm(fn, props.alarm));
    this.alarms = alarms;
  }

  /** The metric of a function's platform failures: errors and throttles, or for `errorsAreOutcomes` its log's. */
  public static failuresOf(fn: SteplineFunction, period = Duration.minutes(5)): cloudwatch.IMetric {
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const failures = fn.errorsAreOutcomes
      ? new cloudwatch.Metric({ namespace: UNEXPECTED_FAILURES_NAMESPACE, metricName: fn.serviceName, ...sum })
      : fn.function.metricErrors(sum);
    // Metric ids are unique per function: a dashboard graph holds the expressions of every function.
    const key = fn.serviceName.replace(/[^A-Za-z0-9]/g, '_');
    return new cloudwatch.MathExpression({
      expression: `FILL(failures_${key}, 0) + FILL(throttles_${key}, 0)`,
      usingMetrics: { [`failures_${key}`]: failures, [`throttles_${key}`]: fn.function.metricThrottles(sum) },
      period,
      label: fn.serviceName,
    });
  }

  private failedRunsQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS: EventBridge cannot send to a queue encrypted with the AWS managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      acknowledge(
        queue,
        rule,
        'A record of the runs the platform failed, for an operator to read after the alarm; nothing consumes it, ' +
          'so no message can fail processing and a dead-letter queue would stay empty.',
      );
    }
    return queue;
  }

  private functionAlarm(fn: SteplineFunction, alarm: PlatformFailuresProps['alarm']): cloudwatch.Alarm {
    if (fn.errorsAreOutcomes) {
      // Lambda's own lines for a timeout or a crashed runtime (text log format), and the handler's ERROR-level logs
      // (Powertools writes JSON lines; the deployer logs the failures it expects at WARN).
      const metric = { metricNamespace: UNEXPECTED_FAILURES_NAMESPACE, metricName: fn.serviceName, metricValue: '1' };
      new logs.MetricFilter(this, `RuntimeFailures-${fn.serviceName}`, {
        logGroup: fn.logGroup,
        filterPattern: logs.FilterPattern.anyTerm('Task timed out', 'Runtime exited'),
        ...metric,
      });
      new logs.MetricFilter(this, `ErrorLogs-${fn.serviceName}`, {
        logGroup: fn.logGroup,
        filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
        ...metric,
      });
    }
    const errors = fn.errorsAreOutcomes
      ? 'timed out, crashed or logged an unexpected error (its named errors are pipeline outcomes and do not count)'
      : 'failed (an error the function did not handle)';
    return alarm(
      `FunctionFailing-${fn.serviceName}`,
      PlatformFailures.failuresOf(fn),
      `The ${fn.serviceName} function ${errors}, or Lambda throttled it: see its log group and the Lambda console.`,
    );
  }
}
