import type { Analysis } from '../../config/strategy';
import type { MeasurementPhase, MetricTally, Tally, Verdict } from './contracts';

/** Counting measurements and the verdict they make, as Argo Rollouts assesses a metric (analysis.go). Pure. */

export const EMPTY_METRIC: MetricTally = {
  count: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  error: 0,
  consecutiveError: 0,
  last: null,
};

export function emptyTally(analysis: Analysis): Tally {
  return { rounds: 0, passed: 0, metrics: Object.fromEntries(analysis.metrics.map((m) => [m.name, EMPTY_METRIC])) };
}

export interface Measurement {
  readonly phase: MeasurementPhase;
  readonly value?: unknown;
  readonly message?: string;
}

/** The tally with one round added: one measurement of every metric. */
export function addRound(tally: Tally, round: Readonly<Record<string, Measurement>>): Tally {
  const metrics: Record<string, MetricTally> = { ...tally.metrics };
  for (const [name, measurement] of Object.entries(round)) {
    const before = metrics[name] ?? EMPTY_METRIC;
    const { phase } = measurement;
    metrics[name] = {
      // An error run is no measurement: it does not count toward `count` (Argo Rollouts' analysis.go), so a
      // provider that is down never passes a step; only its errors in a row are limited.
      count: before.count + (phase === 'error' ? 0 : 1),
      successful: before.successful + (phase === 'successful' ? 1 : 0),
      failed: before.failed + (phase === 'failed' ? 1 : 0),
      inconclusive: before.inconclusive + (phase === 'inconclusive' ? 1 : 0),
      error: before.error + (phase === 'error' ? 1 : 0),
      consecutiveError: phase === 'error' ? before.consecutiveError + 1 : 0,
      last: {
        phase,
        ...(measurement.value !== undefined ? { value: measurement.value } : {}),
        ...(measurement.message ? { message: measurement.message } : {}),
      },
    };
  }
  const allPassed = Object.values(round).every((m) => m.phase === 'successful');
  return { rounds: tally.rounds + 1, passed: tally.passed + (allPassed ? 1 : 0), metrics };
}

type MetricStatus = 'running' | 'successful' | Exclude<Verdict, 'continue' | 'passed'>;

function metricStatus(analysis: Analysis, metric: MetricTally): MetricStatus {
  if (metric.failed > analysis.failureLimit) return 'failed';
  if (metric.inconclusive > analysis.inconclusiveLimit) return 'inconclusive';
  if (metric.consecutiveError > analysis.consecutiveErrorLimit) return 'error';
  if (metric.count >= analysis.count) return 'successful';
  return 'running';
}

/** The worst first: a failure aborts at once, as Argo Rollouts ends a run whose metric failed. */
const SEVERITY: readonly MetricStatus[] = ['failed', 'error', 'inconclusive'];

export function verdictOf(
  analysis: Analysis,
  tally: Tally,
): { readonly verdict: Verdict; readonly metric: string | null } {
  const statuses = Object.entries(tally.metrics).map(
    ([name, metric]) => [name, metricStatus(analysis, metric)] as const,
  );
  for (const worst of SEVERITY) {
    const found = statuses.find(([, status]) => status === worst);
    if (found) return { verdict: worst as Verdict, metric: found[0] };
  }
  if (statuses.every(([, status]) => status === 'successful')) return { verdict: 'passed', metric: null };
  return { verdict: 'continue', metric: null };
}
