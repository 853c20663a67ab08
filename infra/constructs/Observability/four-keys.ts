import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from '../../../core/contracts/metrics';
import { INSIGHT_METRICS } from '../../../core/insight/contracts';

/**
 * The dashboard's delivery insight section (ADR 0097): DORA's four keys per environment, from the metrics the
 * status function emits when it records an environment's end (functions/status/insight.ts; namespace `Stepline`,
 * dimensions `service` = stepline-status and `environment`). A row of figures over the dashboard's time range, then
 * their daily trend.
 *
 * These are the live figures of CloudWatch's statistics: deploys and failures are Sums, lead time and time to restore
 * percentiles of the values emitted (one per commit, one per failed stretch ended). CloudWatch computes percentiles
 * from raw values (GetMetricStatistics: "CloudWatch needs raw data points to calculate percentile statistics"), which
 * is what an embedded-metric document carries; its percentiles are not BigQuery's interpolated PERCENTILE_CONT, and
 * an incident linked after the deploy is in the records' change failure rate (`stepline metrics dora`, the console)
 * and not here.
 */

/** The status function's service name: the `service` dimension of the four keys' metrics. */
export const STATUS_SERVICE = 'stepline-status';

const HOUR = 3600;

function metric(environment: string, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: STATUS_SERVICE, environment },
    statistic,
    period,
  });
}

/**
 * The four keys of one environment over `period`, as metrics and expressions labelled for a widget. The `n`th
 * environment's expression ids end in `n`: ids are per widget, and a widget shows every environment.
 */
function keysOf(environment: string, n: number, period: Duration, labelled: (key: string) => string) {
  const sum = (name: string) => metric(environment, name, cloudwatch.Stats.SUM, period);
  const hours = (name: string, statistic: string, key: string, id: string) =>
    new cloudwatch.MathExpression({
      expression: `${id} / ${HOUR}`,
      usingMetrics: { [id]: metric(environment, name, statistic, period) },
      label: labelled(key),
      period,
    });
  return {
    deploys: sum(INSIGHT_METRICS.deploySucceeded).with({ label: labelled('deploys') }),
    leadTime: hours(INSIGHT_METRICS.leadTime, cloudwatch.Stats.p(50), 'lead time p50 (h)', `lead50_${n}`),
    leadTimeP90: hours(INSIGHT_METRICS.leadTime, cloudwatch.Stats.p(90), 'lead time p90 (h)', `lead90_${n}`),
    changeFailureRate: new cloudwatch.MathExpression({
      // No deploy in a period: no point (not 0 %).
      expression: `IF(deploys_${n} > 0, 100 * failures_${n} / deploys_${n})`,
      usingMetrics: {
        [`failures_${n}`]: sum(INSIGHT_METRICS.changeFailure),
        [`deploys_${n}`]: sum(INSIGHT_METRICS.deploy),
      },
      label: labelled('change failure rate (%)'),
      period,
    }),
    timeToRestore: hours(
      INSIGHT_METRICS.timeToRestore,
      cloudwatch.Stats.p(50),
      'time to restore p50 (h)',
      `restore50_${n}`,
    ),
  };
}

/** The widgets of the section, in dashboard order (rows of 24 columns). */
export function fourKeysWidgets(environments: readonly string[]): cloudwatch.IWidget[] {
  if (environments.length === 0) return [];
  const day = Duration.days(1);
  const trend = environments.map((environment, n) => keysOf(environment, n, day, () => environment));
  const graph = (title: string, pick: (k: ReturnType<typeof keysOf>) => cloudwatch.IMetric[]) =>
    new cloudwatch.GraphWidget({ title, width: 6, height: 6, left: trend.flatMap(pick) });
  return [
    new cloudwatch.TextWidget({
      width: 24,
      height: 2,
      markdown:
        "## Delivery insight: DORA's four keys\n" +
        'Per environment, from the deployment records the status function writes (ADR 0097). ' +
        'The figures over the chosen time range, then per day. Incidents are counted by `stepline metrics dora`.',
    }),
    ...environments.map((environment, n) => {
      const k = keysOf(environment, n, day, (key) => key);
      return new cloudwatch.SingleValueWidget({
        title: `${environment}: the four keys over the time range`,
        width: 24,
        height: 3,
        setPeriodToTimeRange: true,
        metrics: [k.deploys, k.leadTime, k.leadTimeP90, k.changeFailureRate, k.timeToRestore],
      });
    }),
    graph('Deployment frequency (successful deploys per day)', (k) => [k.deploys]),
    graph('Lead time for changes, p50 (hours)', (k) => [k.leadTime]),
    graph('Change failure rate (%)', (k) => [k.changeFailureRate]),
    graph('Time to restore, p50 (hours)', (k) => [k.timeToRestore]),
  ];
}
