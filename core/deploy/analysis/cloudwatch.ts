import type { AnalysisMetric } from '../../config/strategy';
import type { MeasureContext, Measured, MetricProvider } from './contracts';

/**
 * CloudWatch metrics are read by the workflow itself (the `aws-sdk:cloudwatch:getMetricData` Task, one call for
 * every CloudWatch metric of the step, with only `cloudwatch:GetMetricData` on the state machine's role); this
 * provider takes the metric's own queries out of that answer. `result` is the list of their MetricDataResults
 * (`[{"Id", "Label", "Values", "Timestamps", "StatusCode"}]`), in the order of the metric's queries. A call that
 * failed, or an answer without one of the queries, is an error run.
 */
export const cloudWatchProvider: MetricProvider = {
  async measure(metric: AnalysisMetric, context: MeasureContext): Promise<Measured> {
    if (!('cloudwatch' in metric.provider)) return { kind: 'error', message: 'not a CloudWatch metric' };
    const outcome = context.event.cloudwatch;
    if (!outcome) return { kind: 'error', message: 'the workflow passed no GetMetricData answer' };
    if ('Error' in outcome) {
      return {
        kind: 'error',
        message: `GetMetricData failed: ${outcome.Error}${outcome.Cause ? `: ${outcome.Cause}` : ''}`,
      };
    }
    const results = outcome.MetricDataResults;
    const wanted = metric.provider.cloudwatch.metricDataQueries
      .filter((q) => q['ReturnData'] !== false)
      .map((q) => String(q['Id']));
    const found = wanted.map((id) => results.find((r) => r['Id'] === id));
    const missing = wanted.filter((_id, i) => found[i] === undefined);
    if (missing.length > 0)
      return { kind: 'error', message: `GetMetricData returned no result for ${missing.join(', ')}` };
    return { kind: 'value', result: found };
  },
};
