import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { INSIGHT_METRICS } from '../../core/insight/contracts';
import { isDeploy, isDeploymentEnd, isFailedDeploy } from '../../core/insight/record';
import type { DeploymentRecorder, Recorded } from '../../core/insight/service';
import type { StatusEvent } from '../../core/status/contracts';

/**
 * The status function's one write of delivery insight (ADR 0097): when the workflow reports an environment's end,
 * the record of it, and the metrics the CloudWatch dashboard charts the four keys from (namespace `Stepline`,
 * dimensions `service` and `environment`): `Deploy`, `DeploySucceeded`, `ChangeFailure` (counts),
 * `LeadTimeForChanges` (one value per commit the deploy carried, seconds) and `TimeToRestore` (seconds). A record
 * that cannot be written is a warning and `DeploymentRecordFailed`: the status is reported all the same.
 */

/** CloudWatch takes at most 100 values of one metric in one embedded-metric document. */
const MAX_VALUES = 100;

export async function recordDeployment(
  event: StatusEvent,
  recorder: DeploymentRecorder,
  at: Date,
  logger: Logger,
  metrics: Metrics,
): Promise<Recorded | null> {
  if (!isDeploymentEnd(event)) return null;
  let recorded: Recorded | null;
  try {
    recorded = await recorder.record(event, at);
  } catch (error) {
    logger.warn('deployment not recorded', {
      environment: event.environment,
      reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    metrics.addMetric(INSIGHT_METRICS.recordFailed, MetricUnit.Count, 1);
    return null;
  }
  if (!recorded || recorded.duplicate) return recorded;
  const { record } = recorded;
  logger.info('deployment recorded', {
    environment: record.environment,
    result: record.result,
    failure: record.failure?.kind,
    commits: record.commits?.length ?? null,
  });
  const values: [string, (typeof MetricUnit)[keyof typeof MetricUnit], number][] = [];
  if (isDeploy(record)) values.push([INSIGHT_METRICS.deploy, MetricUnit.Count, 1]);
  if (record.result === 'succeeded') values.push([INSIGHT_METRICS.deploySucceeded, MetricUnit.Count, 1]);
  if (isFailedDeploy(record)) values.push([INSIGHT_METRICS.changeFailure, MetricUnit.Count, 1]);
  if (recorded.restoredAfter !== null) {
    values.push([INSIGHT_METRICS.timeToRestore, MetricUnit.Seconds, recorded.restoredAfter]);
  }
  for (const seconds of recorded.leadTimes) values.push([INSIGHT_METRICS.leadTime, MetricUnit.Seconds, seconds]);
  if (values.length === 0) return recorded;
  // The status metrics carry the `provider` dimension: they go out first, these with their own, in documents of at
  // most 100 values of a metric.
  for (let i = 0; i < values.length; i += MAX_VALUES) {
    metrics.publishStoredMetrics();
    metrics.addDimension('environment', record.environment);
    for (const [name, unit, value] of values.slice(i, i + MAX_VALUES)) metrics.addMetric(name, unit, value);
  }
  return recorded;
}
