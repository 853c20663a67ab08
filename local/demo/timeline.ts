import { type HistoryEventLike, stateVisits, timeOf } from './history';

/**
 * Where the time of a pipeline run goes, from the webhook to the end of the execution: every instant is given to
 * one category, the first in `CATEGORIES` order that was busy then. Build phases run in parallel for the test
 * suites: counting each instant once (not summing durations) keeps the parts adding up to the whole.
 *
 * The run's own work is `commands` (inside buildspec commands) and `rollout` (waiting for Kubernetes, and the
 * rollout checks). Everything else is Stepline's orchestration overhead: intake, build setup and source checkout,
 * the functions (status reports, deploy, coordination, approval gate) and the engine's transitions.
 */

export const CATEGORIES = [
  'commands',
  'rollout',
  'approval',
  'source',
  'build-setup',
  'build-task',
  'deploy',
  'status',
  'coordination',
  'intake',
  'engine',
] as const;

export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_LABELS: Readonly<Record<Category, string>> = {
  commands: 'inside buildspec commands (install, pre_build, build, post_build)',
  rollout: 'rollout waits and rollout checks',
  approval: 'approval gate: request, decision, callback',
  source: 'build source checkout (git clone at the commit)',
  'build-setup': 'build setup and teardown (submit, queue, provision, artifacts, finalize)',
  'build-task': 'build tasks: StartBuild and noticing the end',
  deploy: 'deploy function (server-side apply)',
  status: 'status reports to the Git host',
  coordination: 'coordination (register, deploy locks)',
  intake: 'intake: webhook to ExecutionStarted',
  engine: 'engine: transitions, Choice and Map states, history',
};

/** The time of the run's own work, not Stepline's. */
export const WORK: readonly Category[] = ['commands', 'rollout'];

export interface BuildLike {
  readonly phases: readonly { readonly phaseType: string; readonly startTime: number; readonly endTime?: number }[];
}

export interface Interval {
  readonly category: Category;
  readonly start: number;
  readonly end: number;
}

export interface Timeline {
  /** Webhook sent (or ExecutionStarted) in milliseconds since the epoch. */
  readonly start: number;
  /** The execution's end (or the last event). */
  readonly end: number;
  readonly total: number;
  readonly byCategory: Readonly<Record<Category, number>>;
  /** `total` minus the run's own work (`WORK`). */
  readonly overhead: number;
}

const COMMAND_PHASES = new Set(['INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD']);
const ROLLOUT_STATES = new Set(['WaitForRollout', 'CheckRollout', 'WaitForRollback', 'CheckRollback']);
const DEPLOY_STATES = new Set(['Deploy', 'Rollback']);
const COORDINATION_STATES = new Set(['Register', 'Enter', 'Release', 'ReleaseAfterFailure']);

/** Gives every instant of `[start, end]` to the first category of `CATEGORIES` busy then; `engine` otherwise. */
export function account(start: number, end: number, intervals: readonly Interval[]): Record<Category, number> {
  const totals = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  if (end <= start) return totals;
  const rank = new Map(CATEGORIES.map((c, i) => [c, i]));
  const clipped = intervals
    .map((i) => ({ ...i, start: Math.max(start, i.start), end: Math.min(end, i.end) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => (rank.get(a.category) ?? 0) - (rank.get(b.category) ?? 0));
  const points = [...new Set([start, end, ...clipped.flatMap((i) => [i.start, i.end])])].sort((a, b) => a - b);
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k] as number;
    const b = points[k + 1] as number;
    const middle = (a + b) / 2;
    const owner = clipped.find((i) => i.start <= middle && middle < i.end);
    totals[owner?.category ?? 'engine'] += b - a;
  }
  return totals;
}

/** The categorized intervals of a pipeline run, from its history and its builds (BatchGetBuilds' documents). */
export function pipelineIntervals(
  events: readonly HistoryEventLike[],
  builds: readonly BuildLike[],
  sentAt: number | null = null,
): Interval[] {
  const intervals: Interval[] = [];
  const started = events.find((e) => e.type === 'ExecutionStarted');
  if (sentAt !== null && started) intervals.push({ category: 'intake', start: sentAt, end: timeOf(started) });
  const last = events.length > 0 ? timeOf(events[events.length - 1] as HistoryEventLike) : 0;
  for (const build of builds) {
    for (const phase of build.phases) {
      if (phase.endTime === undefined) continue;
      const category: Category = COMMAND_PHASES.has(phase.phaseType)
        ? 'commands'
        : phase.phaseType === 'DOWNLOAD_SOURCE'
          ? 'source'
          : 'build-setup';
      intervals.push({ category, start: phase.startTime, end: phase.endTime });
    }
  }
  for (const visit of stateVisits(events)) {
    const end = visit.exitedAt ?? last;
    let category: Category | null = null;
    if (ROLLOUT_STATES.has(visit.name)) category = 'rollout';
    else if (visit.name === 'Approve') category = 'approval';
    else if (visit.resource?.startsWith('codebuild')) category = 'build-task';
    else if (DEPLOY_STATES.has(visit.name)) category = 'deploy';
    else if (COORDINATION_STATES.has(visit.name)) category = 'coordination';
    else if (visit.name.startsWith('Report')) category = 'status';
    if (category) intervals.push({ category, start: visit.enteredAt, end });
  }
  return intervals;
}

/** The timeline of one run: from the webhook (when `sentAt` is given, else ExecutionStarted) to its end. */
export function pipelineTimeline(
  events: readonly HistoryEventLike[],
  builds: readonly BuildLike[],
  sentAt: number | null = null,
): Timeline {
  const started = events.find((e) => e.type === 'ExecutionStarted');
  const ended = events.find((e) => /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(e.type));
  const start = sentAt ?? (started ? timeOf(started) : 0);
  const end = ended ? timeOf(ended) : events.length ? timeOf(events[events.length - 1] as HistoryEventLike) : start;
  const byCategory = account(start, end, pipelineIntervals(events, builds, sentAt));
  const total = Math.max(0, end - start);
  const work = WORK.reduce((sum, c) => sum + byCategory[c], 0);
  return { start, end, total, byCategory, overhead: total - work };
}
