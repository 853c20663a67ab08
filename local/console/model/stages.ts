import type { ExecutionView, StateRun } from './status';
import { type RolloutStep, rolloutSteps } from './steps';

/**
 * A pipeline run as stages, left to right, the way GitHub Actions and GitLab draw a pipeline (issue 17, ADR 0077):
 * the build, the test suites, then each environment of the route with its approval gate, its deploy, its rollout
 * and (when one ran) its rollback. Each job has a status, a duration and what to open for its logs. Read from the
 * run's input (the route names the suites and the environments, in order) and its history (which states of the
 * pipeline definition ran, per Map item). Pure: no DOM.
 */

export type JobStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** What a job's "logs" link opens. */
export type JobLink =
  | { readonly kind: 'build'; readonly step: 'build' | 'test'; readonly suite?: string }
  | { readonly kind: 'deployment'; readonly environment: string }
  | { readonly kind: 'approval'; readonly environment: string }
  | { readonly kind: 'state'; readonly name: string };

export interface Job {
  readonly id: string;
  readonly name: string;
  readonly status: JobStatus;
  /** Milliseconds since the epoch; null when it has not started. */
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  /** A few words: "rejected by alice", "exit 2", "rolled back". */
  readonly note: string | null;
  readonly link: JobLink;
  /** A canary or blue-green rollout's steps, with their analyses (model/steps.ts); absent for a rolling one. */
  readonly steps?: readonly RolloutStep[];
}

export interface Stage {
  readonly id: string;
  readonly title: string;
  readonly kind: 'build' | 'tests' | 'environment';
  readonly status: JobStatus;
  readonly jobs: readonly Job[];
}

type Loose = Record<string, unknown>;

function obj(value: unknown): Loose | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
}

function parse(input: unknown): Loose | undefined {
  if (typeof input !== 'string') return obj(input);
  try {
    return obj(JSON.parse(input));
  } catch {
    return undefined;
  }
}

/** A job from the runs of the states that make it (in order), once the execution is `ended` or not. */
function jobOf(
  id: string,
  name: string,
  runs: readonly StateRun[],
  ended: boolean,
  link: JobLink,
  options: { waiting?: boolean; note?: string | null; lastDecides?: boolean } = {},
): Job {
  const live = runs.filter((r) => !r.superseded);
  if (live.length === 0) {
    return { id, name, status: ended ? 'skipped' : 'pending', startedAt: null, endedAt: null, note: null, link };
  }
  const startedAt = Math.min(...live.map((r) => r.enteredAt));
  const exits = live.map((r) => r.exitedAt);
  const running = live.some((r) => r.status === 'running');
  const bad = (r: StateRun | undefined): boolean => r?.status === 'failed' || r?.status === 'caught';
  // A loop (a rollout check caught and tried again) fails only if its last attempt did.
  const failed = options.lastDecides
    ? bad([...live].sort((a, b) => a.enteredAt - b.enteredAt || a.enteredId - b.enteredId).at(-1))
    : live.some(bad);
  const aborted = live.some((r) => r.status === 'aborted');
  const status: JobStatus = running
    ? options.waiting
      ? 'waiting'
      : 'running'
    : aborted
      ? 'cancelled'
      : failed
        ? 'failed'
        : 'succeeded';
  const endedAt = running ? null : Math.max(...exits.map((e, i) => e ?? live[i]?.enteredAt ?? startedAt));
  return { id, name, status, startedAt, endedAt, note: options.note ?? null, link };
}

/** The stage's status from its jobs: the first that is failed, then running or waiting, then pending, else done. */
function stageStatus(jobs: readonly Job[]): JobStatus {
  const order: JobStatus[] = ['failed', 'cancelled', 'running', 'waiting', 'pending'];
  for (const s of order) if (jobs.some((j) => j.status === s)) return s;
  if (jobs.length > 0 && jobs.every((j) => j.status === 'skipped')) return 'skipped';
  return 'succeeded';
}

/** A gate's words from its failure: "rejected by alice: not today", "not approved in time". */
function gateNote(runs: readonly StateRun[]): string | null {
  const failed = runs.find((r) => r.status === 'caught' || r.status === 'failed');
  if (!failed) return null;
  const cause = parse(failed.cause);
  if (typeof cause?.['rejectedBy'] === 'string') {
    return `rejected by ${cause['rejectedBy']}${typeof cause['reason'] === 'string' && cause['reason'] ? `: ${cause['reason']}` : ''}`;
  }
  return failed.error === 'States.Timeout' || failed.error === 'States.HeartbeatTimeout'
    ? 'not approved in time'
    : 'not approved';
}

/**
 * The stages of a pipeline run, or an empty list when the execution is not one (its input has no `route`).
 * `executionStatus` tells a job that never started whether it still may (`pending`) or will not (`skipped`).
 */
export function pipelineStages(input: unknown, view: ExecutionView, executionStatus: string): Stage[] {
  const route = obj(parse(input)?.['route']);
  if (!route) return [];
  const ended = executionStatus !== 'RUNNING';
  const top = (name: string): StateRun[] => view.states.get(name)?.runs.filter((r) => r.container === 0) ?? [];
  const inside = (map: string, state: string, index: number): StateRun[] => {
    const containers = new Set(
      top(map)
        .filter((r) => !r.superseded)
        .map((r) => r.enteredId),
    );
    return (view.states.get(state)?.runs ?? []).filter((r) => containers.has(r.container) && r.iteration === index);
  };
  const stages: Stage[] = [];

  // A run that promotes an image built before (a re-run from the failed environment, ADR 0106) builds nothing: its
  // build and the tests that did not run again are those of the run that built the image.
  const prebuilt = obj(parse(input)?.['prebuilt']);
  const builtBy = typeof prebuilt?.['from'] === 'string' ? String(prebuilt['from']).split(':').at(-1) : null;
  const reused = (job: Job): Job =>
    prebuilt && job.startedAt === null
      ? {
          ...job,
          status: 'succeeded',
          note: builtBy ? `reused from ${builtBy}` : 'reused',
          link: { kind: 'state', name: 'ImageGiven' },
        }
      : job;
  const build = reused(jobOf('build', 'Build image', top('Build'), ended, { kind: 'build', step: 'build' }));
  stages.push({ id: 'build', title: 'Build', kind: 'build', status: stageStatus([build]), jobs: [build] });

  const suites = Array.isArray(route['tests']) ? (route['tests'] as unknown[]) : [];
  if (suites.length > 0) {
    const jobs = suites.map((raw, index) => {
      const name = String(obj(raw)?.['name'] ?? `suite ${index + 1}`);
      const job = jobOf(`test:${name}`, name, inside('Test', 'RunSuite', index), ended, {
        kind: 'build',
        step: 'test',
        suite: name,
      });
      const passed = Array.isArray(prebuilt?.['tests'])
        ? (prebuilt['tests'] as unknown[]).some((t) => obj(t)?.['suite'] === name && obj(t)?.['state'] === 'success')
        : false;
      return passed ? reused(job) : job;
    });
    stages.push({ id: 'tests', title: 'Tests', kind: 'tests', status: stageStatus(jobs), jobs });
  }

  const environments = Array.isArray(route['environments']) ? (route['environments'] as unknown[]) : [];
  environments.forEach((raw, index) => {
    const env = obj(raw) ?? {};
    const name = String(env['name'] ?? `environment ${index + 1}`);
    const runs = (state: string): StateRun[] => inside('Promote', state, index);
    const jobs: Job[] = [];
    if (env['approval']) {
      const gate = [...runs('Approve'), ...runs('ReportApprovalRejected')];
      jobs.push(
        jobOf(
          `gate:${name}`,
          'Approval',
          gate,
          ended,
          { kind: 'approval', environment: name },
          { waiting: true, note: gateNote(gate) },
        ),
      );
    }
    const lock = runs('LockNotTaken');
    jobs.push(
      jobOf(
        `deploy:${name}`,
        'Deploy',
        [...runs('Enter'), ...runs('Deploy'), ...lock],
        ended,
        {
          kind: 'deployment',
          environment: name,
        },
        { note: lock.length > 0 ? 'environment busy' : null },
      ),
    );
    const rollout = [...runs('WaitForRollout'), ...runs('CheckRollout')];
    const rollback = [...runs('Rollback'), ...runs('WaitForRollback'), ...runs('CheckRollback')];
    const rolloutJob = jobOf(
      `rollout:${name}`,
      'Rollout',
      rollout,
      ended,
      { kind: 'deployment', environment: name },
      { lastDecides: true },
    );
    // A rollout whose check was caught (it failed or missed its deadline) failed, even though the state was left.
    const checked: Job =
      rollback.length > 0 && rolloutJob.status === 'succeeded' ? { ...rolloutJob, status: 'failed' } : rolloutJob;
    const steps = rolloutSteps(runs, ended);
    jobs.push(steps.length > 0 ? { ...checked, ...stepsJob(steps) } : checked);
    if (rollback.length > 0) {
      jobs.push(
        jobOf(
          `rollback:${name}`,
          'Rollback',
          rollback,
          ended,
          { kind: 'deployment', environment: name },
          { note: 'to the last good revision' },
        ),
      );
    }
    const status =
      runs('DeployFailed').length > 0 && !jobs.some((j) => j.status === 'failed') ? 'failed' : stageStatus(jobs);
    stages.push({ id: `env:${name}`, title: name, kind: 'environment', status, jobs });
  });
  return stages;
}

/** A canary or blue-green rollout's job: its steps, its name after the strategy, its status from its last step. */
function stepsJob(steps: readonly RolloutStep[]): Partial<Job> {
  const strategy = steps[0]?.strategy === 'blueGreen' ? 'Blue-green' : 'Canary';
  // A step ready to be measured leaves the rollout check caught (Stepline.StepReady): while the steps go on, the
  // rollout is theirs to tell.
  const last = steps.at(-1)?.status;
  const status: JobStatus | undefined = last === 'succeeded' ? undefined : last;
  const total = steps.at(-1)?.total ?? steps.length;
  return {
    name: strategy,
    steps,
    ...(status ? { status } : {}),
    note: `${total} step${total === 1 ? '' : 's'}`,
  };
}
