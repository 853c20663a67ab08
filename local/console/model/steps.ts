import type { StateRun } from './status';

/**
 * The steps of a canary or blue-green rollout in one environment, and each step's analysis (issue 18, ADR 0067,
 * 0068), read from the run's history for the pipeline view: which step (its label, weight and pause), whether it
 * held, was promoted past, was aborted or waits for a person, and how many analysis measurements passed, failed,
 * were inconclusive or errored.
 *
 * The workflow keeps the step in `$deployed` (assigned by Deploy and by NextStep, the deploy function's `step`) and
 * the analysis in `$measured` and `$verdict` (assigned by Analyze); the history has them in each state's exit
 * (`assignedVariables`). Pure: no DOM.
 */

export type StepStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export interface AnalysisCounts {
  /** Measurements planned (`count`), or null when the step only pauses. */
  readonly count: number | null;
  /** Rounds measured so far. */
  readonly rounds: number;
  /** Rounds in which every metric was successful (the status's "checks passed"). */
  readonly passed: number;
  /** Measurements, over all metrics, that failed, were inconclusive or errored. */
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
  /** The last verdict: continue, passed, failed, error, inconclusive; null before the first measurement. */
  readonly verdict: string | null;
  /** Per metric: its name and its counts, for a title. */
  readonly metrics: readonly { readonly name: string; readonly summary: string }[];
}

export interface RolloutStep {
  readonly index: number;
  readonly total: number;
  readonly strategy: 'canary' | 'blueGreen';
  /** `canary 10%`, `preview`, `switched`. */
  readonly label: string;
  readonly weight: number;
  readonly pauseSeconds: number;
  readonly status: StepStatus;
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** Null when the step has no analysis (it holds its pause). */
  readonly analysis: AnalysisCounts | null;
}

type Loose = Record<string, unknown>;

function obj(value: unknown): Loose | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
}

/** A variable a run assigned, parsed; undefined when it assigned none of that name. */
function assigned(run: StateRun, name: string): unknown {
  const text = run.assigned?.[name];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const live = (runs: readonly StateRun[]): StateRun[] =>
  runs.filter((r) => !r.superseded).sort((a, b) => a.enteredAt - b.enteredAt || a.enteredId - b.enteredId);

function countsOf(tally: Loose | undefined, verdict: unknown, count: number | null): AnalysisCounts {
  const metrics = Object.entries(obj(tally?.['metrics']) ?? {}).map(([name, raw]) => ({ name, m: obj(raw) ?? {} }));
  const sum = (field: string): number => metrics.reduce((total, { m }) => total + num(m[field]), 0);
  return {
    count,
    rounds: num(tally?.['rounds']),
    passed: num(tally?.['passed']),
    failed: sum('failed'),
    inconclusive: sum('inconclusive'),
    error: sum('error'),
    verdict: typeof verdict === 'string' ? verdict : null,
    metrics: metrics.map(({ name, m }) => ({
      name,
      summary: `${num(m['successful'])} successful, ${num(m['failed'])} failed, ${num(m['inconclusive'])} inconclusive, ${num(m['error'])} errors of ${num(m['count'])}`,
    })),
  };
}

/**
 * The steps of one environment's rollout, from the runs of its states (`runs(name)`, this environment's Map item
 * only), oldest first; empty for a rolling deployment. `ended` says whether the execution is over.
 */
export function rolloutSteps(runs: (state: string) => readonly StateRun[], ended: boolean): RolloutStep[] {
  // Each Deploy or NextStep that answered a step starts it, when it exits.
  const starts = live([...runs('Deploy'), ...runs('NextStep')])
    .map((run) => ({ run, step: obj(obj(assigned(run, 'deployed'))?.['step']) }))
    .filter((s): s is { run: StateRun; step: Loose } => s.step !== undefined && s.run.exitedAt !== undefined);
  if (starts.length === 0) return [];
  const analyses = live(runs('Analyze')).filter((r) => r.exitedAt !== undefined);
  const asks = live(runs('AskPerson'));
  const rollbacks = live(runs('Rollback'));
  const done = live([...runs('Release'), ...runs('ReportDeployed')]);
  return starts.map(({ run, step }, i) => {
    const startedAt = run.exitedAt as number;
    const next = starts[i + 1]?.run;
    const until = next?.enteredAt ?? Number.POSITIVE_INFINITY;
    const within = (r: StateRun): boolean => r.enteredAt >= startedAt && r.enteredAt <= until;
    const measured = analyses.filter(within);
    const last = measured.at(-1);
    const analysis = obj(step['analysis']);
    const counts = analysis
      ? countsOf(
          last ? obj(assigned(last, 'measured')) : undefined,
          last ? assigned(last, 'verdict') : undefined,
          typeof analysis['count'] === 'number' ? analysis['count'] : null,
        )
      : null;
    const aborted = rollbacks.find(within);
    const asking = asks.find((r) => within(r) && r.exitedAt === undefined && !r.failing);
    const promoted = next !== undefined || done.some(within);
    const status: StepStatus = aborted
      ? 'failed'
      : promoted
        ? 'succeeded'
        : asking
          ? 'waiting'
          : ended
            ? 'cancelled'
            : 'running';
    const endedAt = aborted
      ? aborted.enteredAt
      : next
        ? next.enteredAt
        : promoted
          ? (done.find(within)?.enteredAt ?? null)
          : null;
    return {
      index: num(step['index']),
      total: num(step['total']),
      strategy: step['strategy'] === 'blueGreen' ? 'blueGreen' : 'canary',
      label: typeof step['label'] === 'string' ? step['label'] : `step ${i + 1}`,
      weight: num(step['weight']),
      pauseSeconds: num(step['pauseSeconds']),
      status,
      startedAt,
      endedAt: status === 'cancelled' ? null : endedAt,
      analysis: counts,
    };
  });
}
