import type { AnalysisMetric } from '../../config/strategy';
import { evaluate } from './conditions';
import type { AnalysisEvent, AnalysisResult, Measured, MetricProvider, Tally } from './contracts';
import { addRound, emptyTally, type Measurement, verdictOf } from './tally';

/**
 * One measurement of a step's analysis (the analysis function's one call): every metric measured by its provider,
 * each measurement judged by its conditions, the tally counted and the verdict given (ADR 0068). A provider's error
 * or timeout is an error measurement, never a pass. A Job still running holds the round: nothing is counted, and
 * the verdict is `continue`.
 */
export interface AnalysisProviders {
  readonly cloudwatch: MetricProvider;
  readonly prometheus: MetricProvider;
  readonly job: MetricProvider;
}

function providerOf(metric: AnalysisMetric, providers: AnalysisProviders): MetricProvider {
  if ('cloudwatch' in metric.provider) return providers.cloudwatch;
  if ('prometheus' in metric.provider) return providers.prometheus;
  return providers.job;
}

export async function analyze(event: AnalysisEvent, providers: AnalysisProviders): Promise<AnalysisResult> {
  const analysis = event.step.analysis;
  if (!analysis) throw new Error(`step ${event.step.label} has no analysis`);
  const tally: Tally = event.tally ?? emptyTally(analysis);
  const context = { event, round: tally.rounds };
  const measured = await Promise.all(
    analysis.metrics.map(
      async (metric) => [metric, await providerOf(metric, providers).measure(metric, context)] as const,
    ),
  );
  const pending = measured.find(([, m]) => m.kind === 'pending');
  if (pending) {
    return { verdict: 'continue', tally, description: describe(event, tally, 'measuring'), reason: null };
  }
  const round: Record<string, Measurement> = {};
  for (const [metric, m] of measured) round[metric.name] = await judge(metric, m);
  const next = addRound(tally, round);
  const { verdict, metric } = verdictOf(analysis, next);
  const reason = metric ? reasonOf(metric, next, verdict) : null;
  return { verdict, tally: next, description: describe(event, next, verdict), reason };
}

async function judge(metric: AnalysisMetric, measured: Measured): Promise<Measurement> {
  if (measured.kind === 'error') return { phase: 'error', message: measured.message };
  if (measured.kind === 'pending') return { phase: 'error', message: measured.message };
  const judged = await evaluate(metric, measured.result);
  return { phase: judged.phase, value: measured.result, ...(judged.message ? { message: judged.message } : {}) };
}

function describe(event: AnalysisEvent, tally: Tally, verdict: string): string {
  const count = event.step.analysis?.count ?? 0;
  const errors = Object.values(tally.metrics).reduce((sum, m) => sum + m.error, 0);
  const base = `${event.step.label} · ${tally.passed}/${count} checks passed`;
  const tail = verdict === 'measuring' ? ' · measuring' : errors > 0 ? ` · ${errors} errors` : '';
  const outcome =
    verdict === 'failed' || verdict === 'error' || verdict === 'inconclusive' ? ` · analysis ${verdict}` : '';
  return `${base}${tail}${outcome}`;
}

function reasonOf(metric: string, tally: Tally, verdict: string): string {
  const m = tally.metrics[metric];
  const last = m?.last;
  const value = last?.value === undefined ? '' : ` (last value ${JSON.stringify(last.value).slice(0, 200)})`;
  const message = last?.message ? `: ${last.message}` : '';
  const counts = m ? `${m.failed} failed, ${m.inconclusive} inconclusive, ${m.error} errors of ${m.count}` : '';
  return `metric ${metric} ${verdict === 'error' ? 'errored' : verdict}: ${counts}${value}${message}`;
}
