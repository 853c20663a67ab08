import type { KubernetesObject } from '../../core/deploy/types';
import { decideConvergence, managedWorkloads } from '../../core/gitops/converge';
import type { Runtime } from '../runtime';
import type { BuildDocument } from '../services/codebuild';
import { detailsOf, type HistoryEventLike, iterationsOf, type StateVisit, stateVisits, timeOf } from './history';
import { duration } from './progress';
import type { Terminal } from './terminal';
import { type Category, pipelineTimeline, type Timeline } from './timeline';

/**
 * What the demo prints once the run has ended: the execution's history, one row per state visit, and the summary
 * (commit, image, tests, environments reached, where the time went, the commit statuses, the console's URL). Both
 * are read from the runtime's state, after the fact, so they say the same as `stepline executions show|history`.
 */

export interface SuiteResult {
  readonly suite: string;
  readonly status: string;
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly logUrl: string;
}

export interface EnvironmentResult {
  readonly name: string;
  readonly reached: boolean;
  readonly namespace: string | null;
  /** The revision Stepline applied; null for a GitOps delivery, which applies nothing (ADR 0103). */
  readonly revision: number | null;
  /** `available/wanted` replicas of each workload, read from the simulated cluster. */
  readonly replicas: readonly string[];
  readonly approvedBy: string | null;
  /** A GitOps delivery: what Stepline wrote to the configuration repository, and what its controller did with it. */
  readonly gitops: GitOpsResult | null;
}

export interface GitOpsResult {
  /** The configuration repository, as the delivery names it (`local:hello-deploy`), and its branch. */
  readonly repository: string;
  readonly branch: string;
  /** The commit Stepline made there (null when it opened a pull request instead). */
  readonly commit: string | null;
  readonly pullRequest: string | null;
  /** `Application argocd/hello-staging`, `Kustomization flux-system/apps`. */
  readonly controller: string;
  /** The controller's state at the commit, read from the cluster now: `Application "…" is Synced and Healthy at …`. */
  readonly state: string;
}

export interface DemoSummary {
  readonly status: string;
  readonly execution: { readonly name: string; readonly arn: string };
  readonly repository: string;
  readonly branch: string;
  readonly commit: { readonly sha: string; readonly message: string };
  readonly image: { readonly reference: string; readonly digest: string; readonly builtWith: string } | null;
  readonly tests: readonly SuiteResult[];
  readonly environments: readonly EnvironmentResult[];
  /** From the webhook to the end of the execution. */
  readonly durationMs: number;
  readonly timeline: Timeline;
  /** The failing step and its reason, from the execution's error and cause. */
  readonly failure: {
    readonly error: string;
    readonly step: string | null;
    readonly suite: string | null;
    readonly environment: string | null;
    readonly reason: string;
    readonly logUrl: string | null;
  } | null;
  readonly statuses: readonly { readonly context: string; readonly state: string; readonly description: string }[];
  readonly consoleUrl: string;
  readonly eventCount: number;
  readonly history: readonly StateVisit[];
}

function parse(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function variable(build: BuildDocument, name: string): string | null {
  return build.environment.environmentVariables.find((v) => v.name === name)?.value ?? null;
}

/** Reads the summary of a run that has ended. `sentAt`: when the webhook was sent. */
// size-exception(function): reads each part of the demo's summary from the run's record and history in turn; splitting
// it is left to the demo's owners (issue 13)
export async function collectSummary(runtime: Runtime, executionArn: string, sentAt: number): Promise<DemoSummary> {
  const execution = runtime.stores.executions.getExecution(executionArn);
  if (!execution) throw new Error(`the runtime has no execution ${executionArn}`);
  const events = runtime.stores.executions.history(executionArn) as unknown as HistoryEventLike[];
  const input = parse(execution.input);
  const request = (input['request'] ?? {}) as Record<string, unknown>;
  const route = (input['route'] ?? {}) as Record<string, unknown>;
  const commit = (request['commit'] ?? {}) as Record<string, unknown>;
  const repository = String(((request['repository'] ?? {}) as Record<string, unknown>)['fullName'] ?? '');
  const sha = String(commit['sha'] ?? '');

  const builds = runtime.stores.builds
    .list({ executionArn, limit: 100 })
    .map((b) => runtime.codebuild.get(b.id))
    .filter((b): b is BuildDocument => b !== undefined)
    .sort((a, b) => a.startTime - b.startTime);

  const imageBuild = builds.find((b) => variable(b, 'STEPLINE_STEP') === 'build' && b.buildStatus === 'SUCCEEDED');
  const digest = imageBuild?.exportedEnvironmentVariables.find((v) => v.name === 'IMAGE_DIGEST')?.value;
  const log = imageBuild ? runtime.stores.builds.logText(imageBuild.id) : '';
  const image =
    imageBuild && digest
      ? {
          reference: `${variable(imageBuild, 'IMAGE_REPOSITORY_URI') ?? ''}@${digest}`,
          digest,
          builtWith: /stepline-build-image: .* is sha256:/.test(log)
            ? 'an OCI image built with buildah'
            : 'no image was built (buildah is not installed): the SHA-256 of the source at the commit',
        }
      : null;

  const tests = builds
    .filter((b) => variable(b, 'STEPLINE_STEP') === 'test')
    .map((b) => {
      const reports = runtime.codebuild.reports(b.id);
      const count = (key: 'FAILED' | 'ERROR' | 'SKIPPED') => reports.reduce((n, r) => n + r.statusCounts[key], 0);
      const total = reports.reduce((n, r) => n + r.total, 0);
      const failed = count('FAILED') + count('ERROR');
      const skipped = count('SKIPPED');
      return {
        suite: variable(b, 'STEPLINE_SUITE') ?? '?',
        status: b.buildStatus,
        total,
        passed: total - failed - skipped,
        failed,
        skipped,
        logUrl: b.logs.deepLink,
      };
    });

  // Environments: each Promote iteration's Deploy result, and whether it reported the deploy done.
  const iterations = iterationsOf(events);
  const approvals = await runtime.approvals.list({ executionArn });
  const routeEnvironments = (Array.isArray(route['environments']) ? route['environments'] : []) as Record<
    string,
    unknown
  >[];
  const environments = routeEnvironments.map((env, index): EnvironmentResult => {
    const scope = `Promote[${index}]`;
    const inside = events.filter((e) => iterations.get(e.id)?.[0] === scope);
    let deployed: Record<string, unknown> | null = null;
    let reached = false;
    let state = '';
    for (const e of inside) {
      const details = detailsOf(e);
      if (e.type.endsWith('StateEntered')) state = String(details['name']);
      if (e.type === 'TaskSucceeded' && state === 'Deploy') {
        deployed = (parse(details['output'])['Payload'] ?? null) as Record<string, unknown> | null;
      }
      if (e.type === 'TaskStateExited' && String(details['name']) === 'ReportDeployed') reached = true;
    }
    const watch = (deployed?.['watch'] ?? []) as WatchedLike[];
    const gitops = gitopsResult(runtime, watch[0]);
    const replicas = (gitops ? workloadsOf(runtime, watch[0] as WatchedLike) : watch).flatMap((w) => {
      const live = runtime.cluster?.object(w.apiVersion, w.kind, w.namespace, w.name) as Record<string, unknown> | null;
      if (!live) return [];
      const spec = (live['spec'] ?? {}) as Record<string, unknown>;
      const status = (live['status'] ?? {}) as Record<string, unknown>;
      return [
        `${w.kind.toLowerCase()}/${w.name} ${Number(status['availableReplicas'] ?? 0)}/${Number(spec['replicas'] ?? 1)} available`,
      ];
    });
    const name = String(env['name']);
    const approval = approvals.find((a) => a.environment === name && a.status === 'approved');
    return {
      name,
      reached,
      namespace: deployed ? String(deployed['namespace']) : null,
      revision: deployed && !gitops ? Number(deployed['revision']) : null,
      replicas,
      approvedBy: approval?.decidedBy ?? null,
      gitops,
    };
  });

  const ended = events.find((e) => /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(e.type));
  const timeline = pipelineTimeline(events, builds, sentAt);
  let failure: DemoSummary['failure'] = null;
  if (execution.status !== 'SUCCEEDED') {
    const cause = parse(execution.cause);
    const reason =
      typeof cause['reason'] === 'string' && cause['reason']
        ? cause['reason']
        : typeof cause['errorMessage'] === 'string'
          ? cause['errorMessage']
          : (execution.cause ?? '');
    const step = typeof cause['step'] === 'string' ? cause['step'] : null;
    const suite = typeof cause['suite'] === 'string' ? cause['suite'] : null;
    failure = {
      error: execution.error ?? execution.status,
      step,
      suite,
      environment: typeof cause['environment'] === 'string' ? cause['environment'] : null,
      reason:
        reason && reason !== execution.cause ? reason : failureReason(step, suite, builds, tests, runtime) || reason,
      logUrl: typeof cause['logUrl'] === 'string' ? cause['logUrl'] : null,
    };
  }

  return {
    status: execution.status,
    execution: { name: execution.name, arn: execution.arn },
    repository,
    branch: String(((request['ref'] ?? {}) as Record<string, unknown>)['name'] ?? ''),
    commit: { sha, message: String(commit['message'] ?? '') },
    image,
    tests,
    environments,
    durationMs: (ended ? timeOf(ended) : Date.now()) - sentAt,
    timeline,
    failure,
    statuses: runtime.stores.statuses
      .latest('github', repository, sha)
      .map((s) => ({ context: s.context, state: s.state, description: s.description ?? '' })),
    consoleUrl: `${runtime.url}/executions/${encodeURIComponent(executionArn)}`,
    eventCount: events.length,
    history: stateVisits(events),
  };
}

/** A reason for a failed build or test step when the workflow's cause has none: the failed phase, the failed tests. */
function failureReason(
  step: string | null,
  suite: string | null,
  builds: readonly BuildDocument[],
  tests: readonly SuiteResult[],
  runtime: Runtime,
): string {
  const build = builds.find(
    (b) =>
      variable(b, 'STEPLINE_STEP') === step &&
      (step !== 'test' || variable(b, 'STEPLINE_SUITE') === suite) &&
      b.buildStatus !== 'SUCCEEDED',
  );
  if (!build) return '';
  const result = tests.find((t) => t.suite === suite);
  if (step === 'test' && result && result.failed > 0) {
    const failed = runtime.codebuild
      .reports(build.id)
      .flatMap((r) => r.cases)
      .filter((c) => c.status === 'FAILED' || c.status === 'ERROR')
      .map((c) => `"${c.name}"`);
    return `${result.failed} of ${result.total} tests failed: ${failed.slice(0, 3).join(', ')}${failed.length > 3 ? ', …' : ''}`;
  }
  const phase = build.phases.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
  const context = phase?.contexts?.find((c) => c.message)?.message;
  return phase
    ? `${phase.phaseType} ${phase.phaseStatus}${context ? `: ${context}` : ''}`
    : `the build ended ${build.buildStatus}`;
}

// ------------------------------------------------------------------------------------------------ printing

function rows(terminal: Terminal, table: string[][], indent = '  '): void {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  table.forEach((row, index) => {
    const text = row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
    terminal.line(`${indent}${index === 0 ? terminal.paint('dim', text) : text}`);
  });
}

/** The history, one row per state visit, times from the start of the execution. */
export function printHistory(terminal: Terminal, summary: DemoSummary, commandHint: string): void {
  const start = summary.history[0]?.enteredAt ?? 0;
  terminal.line();
  terminal.line(
    terminal.paint('bold', `History: ${summary.eventCount} events in ${summary.history.length} state visits`),
  );
  terminal.line(terminal.paint('dim', `  every event: ${commandHint}`));
  rows(terminal, [
    ['#', 'AT', 'TOOK', 'STATE', 'TYPE', 'RUNS', 'RESULT'],
    ...summary.history.map((v) => [
      String(v.id),
      `+${((v.enteredAt - start) / 1000).toFixed(3)}s`,
      v.exitedAt === null ? '-' : duration(v.exitedAt - v.enteredAt),
      v.path,
      v.type,
      v.resource ?? '',
      v.outcome.startsWith('failed') || v.outcome.startsWith('aborted') ? terminal.paint('fail', v.outcome) : v.outcome,
    ]),
  ]);
}

const OVERHEAD_PARTS: readonly [Category, string][] = [
  ['intake', 'intake'],
  ['source', 'checkouts'],
  ['build-setup', 'build setup'],
  ['build-task', 'build tasks'],
  ['status', 'status reports'],
  ['deploy', 'deploys'],
  ['coordination', 'locks'],
  ['engine', 'engine'],
];

export function printSummary(terminal: Terminal, summary: DemoSummary, consoleNote: string): void {
  const ok = summary.status === 'SUCCEEDED';
  const field = (name: string, value: string): void => {
    const [first, ...rest] = value.split('\n');
    terminal.line(`  ${name.padEnd(13)} ${first}`);
    for (const more of rest) terminal.line(`${' '.repeat(16)}${more.trimStart()}`);
  };
  terminal.line();
  terminal.line(terminal.paint('bold', 'Summary'));
  field(
    'result',
    ok
      ? `${terminal.paint('ok', `SUCCEEDED in ${duration(summary.durationMs)}`)} (webhook to the last status)`
      : terminal.paint(
          'fail',
          `${summary.status} after ${duration(summary.durationMs)}: ${summary.failure?.error ?? ''}`,
        ),
  );
  if (summary.failure) {
    const where = [
      summary.failure.step,
      summary.failure.suite ? `suite ${summary.failure.suite}` : null,
      summary.failure.environment ? `environment ${summary.failure.environment}` : null,
    ]
      .filter(Boolean)
      .join(', ');
    field('failed step', `${where || 'pipeline'}: ${summary.failure.reason || '(no reason given)'}`);
    if (summary.failure.logUrl) field('log', summary.failure.logUrl);
  }
  field('execution', summary.execution.name);
  field(
    'commit',
    `${summary.commit.sha.slice(0, 7)} "${summary.commit.message}" on ${summary.branch} of ${summary.repository}`,
  );
  field('image', summary.image ? `${summary.image.reference}\n${summary.image.builtWith}` : 'not built');
  field(
    'tests',
    summary.tests.length
      ? summary.tests
          .map(
            (t) =>
              `${t.suite}: ${t.passed} passed${t.failed ? `, ${t.failed} failed` : ''}${t.skipped ? `, ${t.skipped} skipped` : ''}${t.status === 'SUCCEEDED' ? '' : ` (${t.status})`}`,
          )
          .join(' · ')
      : 'none ran',
  );
  field(
    'environments',
    summary.environments.length
      ? summary.environments
          .map((e) =>
            e.reached
              ? `${e.name}: ${e.gitops ? gitopsLine(e.gitops) : `revision ${e.revision} in namespace ${e.namespace}`}${e.replicas.length ? `, ${e.replicas.join(', ')}` : ''}${e.approvedBy ? `, approved by ${e.approvedBy}` : ''}`
              : `${e.name}: not reached`,
          )
          .join('\n')
      : 'none',
  );
  const t = summary.timeline.byCategory;
  const parts = OVERHEAD_PARTS.filter(([c]) => t[c] >= 1)
    .map(([c, label]) => `${label} ${duration(t[c])}`)
    .join(', ');
  field(
    'time',
    `${duration(t.commands)} in buildspec commands, ${duration(t.rollout)} in rollouts, ` +
      `${t.approval >= 1 ? `${duration(t.approval)} at the approval gate, ` : ''}` +
      `${duration(summary.timeline.overhead - t.approval)} Stepline\n(${parts})`,
  );
  field(
    'statuses',
    summary.statuses.length
      ? `${summary.statuses.map((s) => `${s.context} ${s.state}`).join(' · ')}\n(as the local Git host sink received them)`
      : 'none',
  );
  field('console', `${summary.consoleUrl}\n${consoleNote}`);
}

interface WatchedLike {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly gitops?: {
    readonly repository: string;
    readonly branch: string;
    readonly commit: string | null;
    readonly pullRequest: { readonly url: string } | null;
  };
}

/** A GitOps delivery's outcome (ADR 0103): the commit it made, and its controller's state at it, read now. */
function gitopsResult(runtime: Runtime, watched: WatchedLike | undefined): GitOpsResult | null {
  const gitops = watched?.gitops;
  if (!watched || !gitops) return null;
  const live = runtime.cluster?.object(watched.apiVersion, watched.kind, watched.namespace, watched.name) as
    | KubernetesObject
    | null
    | undefined;
  const controller = `${watched.kind} ${watched.namespace ? `${watched.namespace}/` : ''}${watched.name}`;
  return {
    repository: gitops.repository,
    branch: gitops.branch,
    commit: gitops.commit,
    pullRequest: gitops.pullRequest?.url ?? null,
    controller,
    state: !live
      ? `${controller} is not on the cluster`
      : gitops.commit
        ? decideConvergence(live, gitops.commit).reason
        : `${controller}: waits for the pull request to be merged`,
  };
}

/** The workloads a GitOps controller manages (its own replicas say nothing of the service). */
function workloadsOf(runtime: Runtime, watched: WatchedLike): readonly WatchedLike[] {
  const live = runtime.cluster?.object(watched.apiVersion, watched.kind, watched.namespace, watched.name);
  return live ? managedWorkloads(live as KubernetesObject) : [];
}

/** `commit 1a2b3c4d5e6f to local:hello-deploy main (the configuration repository); Application "…" is Synced…`. */
function gitopsLine(g: GitOpsResult): string {
  const change = g.commit ? `commit ${g.commit.slice(0, 12)}` : `pull request ${g.pullRequest ?? '(none)'}`;
  return `handed to GitOps, ${change} to ${g.repository} ${g.branch} (the configuration repository); ${g.state}`;
}

/** The summary as one JSON document (`stepline demo --json`). */
export function summaryJson(summary: DemoSummary): Record<string, unknown> {
  const start = summary.history[0]?.enteredAt ?? 0;
  return {
    ...summary,
    history: summary.history.map((v) => ({
      ...v,
      at: v.enteredAt - start,
      tookMs: v.exitedAt === null ? null : v.exitedAt - v.enteredAt,
    })),
  };
}
