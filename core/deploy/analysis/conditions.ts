import jsonata from 'jsonata';
import type { AnalysisMetric } from '../../config/strategy';
import type { MeasurementPhase } from './contracts';

/**
 * A measurement's phase by the metric's conditions, JSONata over `{ "result": <value> }` (so `result[0] < 0.05`
 * reads as it does in Argo Rollouts), with Argo Rollouts' rules (analysis/evaluate.go, EvaluateResult): only a
 * success condition, failed when it is not true; only a failure condition, successful when it is not true; both,
 * inconclusive when neither holds. A condition that cannot be evaluated, or that is not a boolean, is an error.
 * A Job's metric with no condition passes when the Job succeeded.
 */
export async function evaluate(
  metric: AnalysisMetric,
  result: unknown,
): Promise<{ readonly phase: MeasurementPhase; readonly message?: string }> {
  let success = metric.successCondition;
  const failure = metric.failureCondition;
  if (success === undefined && failure === undefined && 'job' in metric.provider) success = 'result.succeeded = true';
  try {
    const ok = success === undefined ? undefined : await condition(success, result);
    const bad = failure === undefined ? undefined : await condition(failure, result);
    const failed = bad ?? (ok === undefined ? false : !ok);
    const succeeded = ok ?? (bad === undefined ? false : !bad);
    if (failed) return { phase: 'failed' };
    if (!succeeded) return { phase: 'inconclusive' };
    return { phase: 'successful' };
  } catch (error) {
    return { phase: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

async function condition(expression: string, result: unknown): Promise<boolean> {
  let value: unknown;
  try {
    value = await jsonata(expression).evaluate({ result }, { result });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`condition "${expression}" could not be evaluated: ${message}`);
  }
  if (typeof value !== 'boolean') {
    throw new Error(
      `condition "${expression}" gave ${value === undefined ? 'nothing' : JSON.stringify(value)}, not true or false`,
    );
  }
  return value;
}
