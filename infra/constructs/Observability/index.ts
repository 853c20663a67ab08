import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, REPLAY_METRICS, WEBHOOK_METRICS } from '../../../core/contracts';
import { DEPLOY_METRICS } from '../../../core/deploy/contracts';
import type { SteplineFunction } from '../SteplineFunction';
import { fourKeysWidgets } from './four-keys';
import { PlatformFailures } from './platform-failures';

export { fourKeysWidgets, STATUS_SERVICE } from './four-keys';
export {
  DELIBERATE_STOP_PREFIX,
  PIPELINE_OUTCOME_ERRORS,
  PLATFORM_FAILURE_ERRORS,
  PlatformFailures,
  platformFailurePattern,
  UNEXPECTED_FAILURES_NAMESPACE,
} from './platform-failures';

/** The service names (POWERTOOLS_SERVICE_NAME, the `service` metric dimension) whose metrics are charted. */
export const SERVICES = {
  webhook: 'stepline-webhook',
  replay: 'stepline-replay',
  rollout: 'stepline-rollout',
  rollback: 'stepline-rollback',
} as const;

export interface ObservabilityProps {
  /** The pipeline state machine. @default - no run widgets or alarms */
  readonly stateMachineArn?: string;
  /**
   * The platform's functions: each gets an alarm on its errors and throttles (for one whose errors are pipeline
   * outcomes, `errorsAreOutcomes`, on its timeouts, crashes and ERROR-level logs instead). @default - none
   */
  readonly functions?: readonly SteplineFunction[];
  /** The parking queue and its dead-letter queue (WebhookIntake). @default - no parking widgets or alarms */
  readonly parking?: { readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue };
  /**
   * Runs of the approval keeper that failed every retry (Approvals `keeperFailures`): waiting gates get no heartbeat
   * and end "approval lost" (ADR 0036). @default - no keeper alarm
   */
  readonly approvalKeeperFailures?: sqs.IQueue;
  /** Environment names, for the per-environment deploy widgets. @default - none */
  readonly environments?: readonly string[];
  /** Minutes a parked delivery may wait before the alarm. @default 15 */
  readonly parkedForMinutes?: number;
  /** @default - a new SNS topic (TLS only) to subscribe to */
  readonly alarmTopic?: sns.ITopic;
  /** @default 'Stepline' */
  readonly dashboardName?: string;
}

/**
 * A dashboard (runs started, succeeded, failed, failed by the platform; run duration p50 and p90; deploys and
 * rollbacks per environment; DORA's four keys per environment; webhook outcomes; parked deliveries; the alarms' states) and alarms on the platform's
 * own failures, all notifying one SNS topic: runs the platform failed (not a red build or test, which are the
 * pipeline's outcomes: charted, never alarmed; docs/adr/0048), each function's errors and throttles, parked
 * deliveries waiting too long or dead-lettered, replay failures, deliveries answered 503, approval keeper runs that
 * failed.
 */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarmTopic: sns.ITopic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The runs the platform failed (queue), and the alarms on them and on the functions. */
  public readonly platformFailures: PlatformFailures;

  public constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic =
      props.alarmTopic ?? new sns.Topic(this, 'Alarms', { displayName: 'Stepline alarms', enforceSSL: true });
    const notify = new actions.SnsAction(this.alarmTopic);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1, periods = 1) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      alarms.push(created);
      return created;
    };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'Stepline',
      defaultInterval: Duration.days(7),
    });
    this.platformFailures = new PlatformFailures(this, 'PlatformFailures', {
      ...(props.stateMachineArn ? { stateMachineArn: props.stateMachineArn } : {}),
      functions: props.functions ?? [],
      alarm: (alarmId, metric, description) => alarm(alarmId, metric, description),
    });
    const failedRuns = this.platformFailures.failedRuns;

    if (props.stateMachineArn) {
      const runs = (metricName: string, label: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/States',
          metricName,
          dimensionsMap: { StateMachineArn: props.stateMachineArn! },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.hours(1),
          label,
        });
      const duration = (statistic: string, label: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/States',
          metricName: 'ExecutionTime',
          dimensionsMap: { StateMachineArn: props.stateMachineArn! },
          statistic,
          period: Duration.hours(1),
          label,
          unit: cloudwatch.Unit.MILLISECONDS,
        });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Runs',
          width: 12,
          left: [
            runs('ExecutionsStarted', 'started'),
            runs('ExecutionsSucceeded', 'succeeded'),
            // Failed runs are mostly the pipeline's outcomes (a build, tests, a deploy): charted, not alarmed.
            runs('ExecutionsFailed', 'failed'),
            runs('ExecutionsTimedOut', 'timed out'),
            runs('ExecutionsAborted', 'stopped (superseded, cancelled)'),
            ...(failedRuns
              ? [
                  failedRuns.metricNumberOfMessagesSent({
                    period: Duration.hours(1),
                    statistic: cloudwatch.Stats.SUM,
                    label: 'failed by the platform (alarmed)',
                  }),
                ]
              : []),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: 'Run duration',
          width: 12,
          left: [duration('p50', 'p50'), duration('p90', 'p90')],
        }),
      );
    }

    const environments = props.environments ?? [];
    if (environments.length > 0) {
      const perEnvironment = (service: string, metricName: string) =>
        environments.map(
          (environment) =>
            new cloudwatch.Metric({
              namespace: METRICS_NAMESPACE,
              metricName,
              dimensionsMap: { service, environment },
              statistic: cloudwatch.Stats.SUM,
              period: Duration.days(1),
              label: environment,
            }),
        );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Deploys per environment (rollouts completed)',
          width: 12,
          stacked: true,
          left: perEnvironment(SERVICES.rollout, DEPLOY_METRICS.rolloutDone),
        }),
        new cloudwatch.GraphWidget({
          title: 'Rollbacks per environment',
          width: 12,
          stacked: true,
          left: perEnvironment(SERVICES.rollback, DEPLOY_METRICS.rollback),
        }),
      );
      // Delivery insight: DORA's four keys per environment (ADR 0097).
      this.dashboard.addWidgets(...fourKeysWidgets(environments));
    }

    // A label makes an alarm's metric a metric-math entry: alarms get the metric without one.
    const service = (name: string, metricName: string, label?: string, period = Duration.minutes(5)) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: name },
        statistic: cloudwatch.Stats.SUM,
        period,
        ...(label ? { label } : {}),
      });

    if (props.parking) {
      const { queue, deadLetterQueue } = props.parking;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Webhook deliveries',
          width: 12,
          left: [
            ...(['accepted', 'duplicate', 'ignored', 'queued', 'failed'] as const).map((name) =>
              service(SERVICES.webhook, WEBHOOK_METRICS[name], name, Duration.hours(1)),
            ),
            // Refusals carry a second dimension, `reason`: one line per reason.
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${METRICS_NAMESPACE},reason,service} MetricName="${WEBHOOK_METRICS.rejected}" service="${SERVICES.webhook}"', 'Sum', 3600)`,
              label: 'rejected',
              period: Duration.hours(1),
            }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: 'Parked deliveries',
          width: 12,
          left: [
            queue.metricApproximateNumberOfMessagesVisible({ label: 'parked' }),
            deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead-lettered' }),
          ],
          right: [service(SERVICES.replay, REPLAY_METRICS.replayFailed, 'replay failures')],
        }),
      );
      alarm(
        'ParkedDeliveriesWaiting',
        queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        'A parked webhook delivery has waited too long: Step Functions still refuses StartExecution (see the replay logs).',
        (props.parkedForMinutes ?? 15) * 60,
      );
      alarm(
        'ParkedDeliveriesDeadLettered',
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        'Parked deliveries gave up and are in the dead-letter queue: redrive them once Step Functions accepts starts.',
      );
      alarm(
        'ReplayFailures',
        service(SERVICES.replay, REPLAY_METRICS.replayFailed),
        'Parked deliveries could not be started again (they stay parked and are retried).',
        1,
        3,
      );
      alarm(
        'FailedDeliveries',
        service(SERVICES.webhook, WEBHOOK_METRICS.failed),
        'A delivery was neither started nor parked (503): the Git host must redeliver it.',
      );
    }
    if (props.approvalKeeperFailures) {
      alarm(
        'ApprovalKeeperFailing',
        props.approvalKeeperFailures.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        'The approval keeper failed every retry: waiting approval gates get no heartbeat and end "approval lost" ' +
          'after 15 minutes (see the stepline-approval-keeper logs; the failed runs are in this queue).',
      );
    }
    if (props.functions && props.functions.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Function failures (errors, or unexpected failures, and throttles)',
          width: 12,
          left: props.functions.map((fn) => PlatformFailures.failuresOf(fn, Duration.hours(1))),
        }),
      );
    }
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms }));
    this.alarms = alarms;
  }
}
