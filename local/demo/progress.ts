import type {
  AppliedObject,
  DeployResult,
  RollbackResult,
  RolloutResult,
  WatchedObject,
} from '../../core/deploy/contracts';
import type { BuildDocument, TestReport } from '../services/codebuild';
import type { LogChunk } from '../store';
import { detailsOf, type HistoryEventLike, IterationTracker, timeOf } from './history';
import type { Terminal } from './terminal';

/**
 * The live view of one pipeline run in the terminal: one line per thing that happened (a build phase, a test
 * suite's result, an apply, a change in a rollout's replicas, an approval), each with the time since the webhook
 * and the step it belongs to, and on a terminal a status line of what runs now.
 *
 * It reads the runtime's event stream (`runtime.events`, the same events as `GET /api/events`): history events,
 * build phase changes, and function results (the deploy's applied objects, the rollout checks, the approval
 * request). Replica counts come from the simulated cluster between the deploy and the rollout's end.
 */

/** What the view reads besides the events. */
export interface ProgressSource {
  build(id: string): BuildDocument | undefined;
  reports(buildId: string): readonly TestReport[];
  logs(buildId: string): readonly LogChunk[];
  /** A live object of the simulated cluster; undefined when the target is a real cluster. */
  readonly object?: (apiVersion: string, kind: string, namespace: string, name: string) => unknown;
}

export interface RuntimeEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

interface RouteView {
  readonly environments: readonly { readonly name: string; readonly approvers: readonly string[] | null }[];
  readonly tests: readonly string[];
}

interface BuildView {
  readonly step: string;
  readonly label: string;
  readonly number: number;
  done: boolean;
}

/** Phases of the image build shown as they complete (the others only when they fail). */
const SHOWN_PHASES = new Set(['DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD']);
const FINAL_BUILD = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);
const LOG_TAIL_LINES = 12;
const STEP_WIDTH = 12;

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function variable(build: BuildDocument, name: string): string | null {
  return build.environment.environmentVariables.find((v) => v.name === name)?.value ?? null;
}

/** A failure message on one line, cut to a length that fits a terminal line. */
export function firstWords(message: string, max = 160): string {
  const text = message.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorMessage(result: unknown): string {
  const r = record(result);
  return String(r['errorMessage'] ?? r['message'] ?? 'no message');
}

function applied(objects: readonly AppliedObject[]): string {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.change, (counts.get(o.change) ?? 0) + 1);
  const kinds = objects.map((o) => o.kind).join(', ');
  const changes = [...counts].map(([change, n]) => `${n} ${change}`).join(', ');
  return `${objects.length} object${objects.length === 1 ? '' : 's'} (${kinds}): ${changes}`;
}

export class RunProgress {
  private executionArn: string | null = null;
  private readonly early: RuntimeEvent[] = [];
  private readonly iterations = new IterationTracker();
  private route: RouteView = { environments: [], tests: [] };
  private readonly builds = new Map<string, BuildView | null>();
  private readonly activities = new Map<string, string>();
  private environment: string | null = null;
  private readonly environmentStarted = new Map<string, number>();
  private readonly revisions = new Map<string, number>();
  private readonly watchers = new Map<string, { timer: NodeJS.Timeout; last: Map<string, string> }>();
  private ended = false;

  public constructor(
    private readonly terminal: Terminal,
    private readonly source: ProgressSource,
    /** The instant times are shown from (the webhook's), in milliseconds since the epoch. */
    private readonly since: number,
    private readonly options: {
      /** Called when an approval gate asks for a decision. */
      readonly onApproval?: (request: { id: string; url: string; environment: string }) => void;
      /** Milliseconds between two reads of the rollout's replicas. */
      readonly pollMs?: number;
    } = {},
  ) {}

  /** Starts showing the events of `executionArn`, including those that came before it was known. */
  public follow(executionArn: string): void {
    this.executionArn = executionArn;
    for (const event of this.early.splice(0)) this.handle(event);
  }

  /** Feeds one event of the runtime's stream. */
  public handle(event: RuntimeEvent): void {
    if (this.ended) return;
    if (this.executionArn === null) {
      this.early.push(event);
      return;
    }
    try {
      if (event.type === 'history' && event['executionArn'] === this.executionArn) {
        this.history(event['event'] as HistoryEventLike);
      } else if (event.type === 'build') {
        this.build(event);
      } else if (event.type === 'invoke') {
        this.invoke(event);
      }
    } catch (error) {
      this.line('stepline', this.terminal.paint('warn', `(could not show an event: ${(error as Error).message})`));
    }
  }

  /** Stops the rollout readers and the status line. */
  public close(): void {
    this.ended = true;
    for (const key of [...this.watchers.keys()]) this.stopWatching(key);
    this.activities.clear();
    this.terminal.status(null);
  }

  // ---------------------------------------------------------------------------------------------- output

  /** One line of the view; the lines of a multi-line `text` (an error's list of problems) are indented under it. */
  private line(step: string, text: string, at = Date.now()): void {
    const time = duration(at - this.since).padStart(7);
    const [first, ...rest] = text.split('\n');
    this.terminal.line(`${this.terminal.paint('dim', time)}  ${step.padEnd(STEP_WIDTH)} ${first}`);
    for (const more of rest) this.terminal.line(`${' '.repeat(STEP_WIDTH + 10)}${more}`);
  }

  private ok(text: string): string {
    return this.terminal.tty ? `${this.terminal.paint('ok', '✓')} ${text}` : `ok ${text}`;
  }

  private failed(text: string): string {
    return this.terminal.tty ? this.terminal.paint('fail', `✗ FAILED ${text}`) : `FAILED ${text}`;
  }

  private activity(key: string, text: string | null): void {
    if (text === null) this.activities.delete(key);
    else this.activities.set(key, text);
    this.terminal.status(this.activities.size ? [...this.activities.values()].join(' · ') : null);
  }

  // --------------------------------------------------------------------------------------------- history

  private history(event: HistoryEventLike): void {
    const scope = this.iterations.observe(event);
    const details = detailsOf(event);
    const at = timeOf(event);
    const promote = scope.find((s) => s.startsWith('Promote['));
    if (promote) this.environment = this.route.environments[Number(promote.slice(8, -1))]?.name ?? this.environment;
    const name = typeof details['name'] === 'string' ? details['name'] : '';
    switch (event.type) {
      case 'ExecutionStarted': {
        const input = record(parseJson(details['input']));
        const route = record(input['route']);
        const environments = Array.isArray(route['environments']) ? route['environments'] : [];
        this.route = {
          environments: environments.map((e) => {
            const env = record(e);
            const approval = env['approval'] ? record(env['approval']) : null;
            return {
              name: String(env['name']),
              approvers: approval ? ((approval['approvers'] as string[] | undefined) ?? []) : null,
            };
          }),
          tests: (Array.isArray(route['tests']) ? route['tests'] : []).map((t) => String(record(t)['name'])),
        };
        const skip = input['skip'] ? record(input['skip']) : null;
        this.line(
          'pipeline',
          skip
            ? `started, to be skipped: ${String(skip['reason'] ?? '')}`
            : `started: build, test ${this.route.tests.join(' and ') || '(no suites)'}, deploy to ${this.route.environments.map((e) => e.name).join(' then ') || '(no environment)'}`,
          at,
        );
        return;
      }
      case 'TaskStateEntered':
        if (name === 'Build') this.activity('build', 'build: starting');
        if (name === 'Enter' && this.environment) {
          this.environmentStarted.set(this.environment, at);
          this.activity('env', `${this.environment}: taking the deploy lock`);
        }
        if (name === 'Deploy' && this.environment) this.activity('env', `${this.environment}: applying the manifests`);
        if (name === 'Approve' && this.environment) this.activity('env', `${this.environment}: asking for approval`);
        if (name === 'Rollback' && this.environment) this.activity('env', `${this.environment}: rolling back`);
        return;
      case 'MapIterationStarted':
        if (String(details['name']) === 'Promote' && this.environment) {
          this.environmentStarted.set(this.environment, at);
        }
        return;
      case 'TaskSucceeded': {
        const output = record(parseJson(details['output']));
        if (output['approved'] === true && this.environment) {
          this.line(this.environment, this.ok(`approved by ${String(output['approvedBy'])}`), at);
          this.activity('env', null);
        }
        return;
      }
      case 'TaskFailed':
        if (String(details['error']) === 'Stepline.EnvironmentBusy' && this.environment) {
          this.line(this.environment, 'another run holds the deploy lock: waiting for it', at);
        }
        if (String(details['error']) === 'Stepline.ApprovalRejected' && this.environment) {
          const cause = record(parseJson(details['cause']));
          const reason = cause['reason'] ? `: ${String(cause['reason'])}` : '';
          this.line(this.environment, this.failed(`rejected by ${String(cause['rejectedBy'] ?? '?')}${reason}`), at);
          this.activity('env', null);
        }
        return;
      case 'TaskStateExited':
        if (name === 'ReportDeployed' && this.environment) {
          const started = this.environmentStarted.get(this.environment) ?? at;
          const revision = this.revisions.get(this.environment);
          this.line(
            this.environment,
            this.ok(`deployed${revision !== undefined ? ` revision ${revision}` : ''} in ${duration(at - started)}`),
            at,
          );
          this.activity('env', null);
        }
        return;
      case 'ExecutionSucceeded':
        this.line('pipeline', this.ok('SUCCEEDED'), at);
        this.close();
        return;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut': {
        const status = event.type.slice('Execution'.length).toUpperCase().replace('TIMEDOUT', 'TIMED_OUT');
        const error = details['error'] ? `: ${String(details['error'])}` : '';
        this.line(
          'pipeline',
          this.terminal.tty ? `${this.terminal.paint('fail', `✗ ${status}${error}`)}` : `${status}${error}`,
          at,
        );
        this.close();
        return;
      }
      default:
        if (event.type === 'WaitStateEntered' && name === 'WaitForRollout' && this.environment) {
          this.activity('env', `${this.environment}: rolling out`);
        }
        if (event.type === 'FailStateEntered' && name === 'NotApproved' && this.environment) {
          this.line(this.environment, this.failed('not approved'), at);
        }
    }
  }

  // ---------------------------------------------------------------------------------------------- builds

  private viewOf(buildId: string): BuildView | null {
    if (this.builds.has(buildId)) return this.builds.get(buildId) ?? null;
    const build = this.source.build(buildId);
    if (!build || variable(build, 'STEPLINE_EXECUTION_ARN') !== this.executionArn) {
      if (build) this.builds.set(buildId, null);
      return null;
    }
    const step = variable(build, 'STEPLINE_STEP') ?? 'build';
    const suite = variable(build, 'STEPLINE_SUITE');
    const view: BuildView = {
      step,
      label: step === 'test' && suite ? `test ${suite}` : step,
      number: build.buildNumber,
      done: false,
    };
    this.builds.set(buildId, view);
    if (step === 'build') this.activity('build', null);
    this.line(view.label, `started ${build.projectName} #${build.buildNumber} at ${shortVersion(build.sourceVersion)}`);
    return view;
  }

  private build(event: RuntimeEvent): void {
    const buildId = String(event['buildId']);
    const view = this.viewOf(buildId);
    if (!view || view.done) return;
    const build = this.source.build(buildId);
    if (!build) return;
    const status = String(event['buildStatus']);
    if (event['detailType'] === 'CodeBuild Build Phase Change' && typeof event['phase'] === 'string') {
      const phase = [...build.phases].reverse().find((p) => p.phaseType === event['phase']);
      const phaseStatus = String(event['phaseStatus'] ?? phase?.phaseStatus ?? '');
      const took = phase?.endTime !== undefined ? duration(phase.endTime - phase.startTime) : '';
      if (phaseStatus && phaseStatus !== 'SUCCEEDED') {
        const context = phase?.contexts?.find((c) => c.message)?.message ?? '';
        // A suite's report says more than its command line: keep only the exit status there.
        const shown = view.step === 'test' ? (/Reason: (.*)$/.exec(context)?.[1] ?? context) : context;
        const status = phaseStatus === 'FAILED' ? '' : ` (${phaseStatus})`;
        this.line(view.label, this.failed(`${event['phase']}${status} after ${took}${shown ? `: ${shown}` : ''}`));
      } else if (view.step === 'build' && SHOWN_PHASES.has(event['phase'])) {
        const what = event['phase'] === 'DOWNLOAD_SOURCE' ? 'DOWNLOAD_SOURCE (git clone)' : event['phase'];
        this.line(view.label, this.ok(`${what.padEnd(28)} ${took.padStart(6)}`));
      }
      const next = build.currentPhase;
      if (!FINAL_BUILD.has(status)) this.activity(buildId, `${view.label}: ${next}`);
      return;
    }
    if (!FINAL_BUILD.has(status)) return;
    view.done = true;
    this.activity(buildId, null);
    const took = build.endTime !== undefined ? duration(build.endTime - build.startTime) : '';
    if (view.step === 'build') {
      if (status === 'SUCCEEDED') {
        const digest = build.exportedEnvironmentVariables.find((v) => v.name === 'IMAGE_DIGEST')?.value;
        this.line(view.label, this.ok(`SUCCEEDED in ${took}${digest ? `: image ${digest.slice(0, 19)}…` : ''}`));
      } else {
        this.line(view.label, this.failed(`${status === 'FAILED' ? '' : `(${status}) `}after ${took}`));
        this.logTail(buildId, build);
      }
      return;
    }
    const reports = this.source.reports(buildId);
    const total = reports.reduce((n, r) => n + r.total, 0);
    const failed = reports.reduce((n, r) => n + r.statusCounts.FAILED + r.statusCounts.ERROR, 0);
    const skipped = reports.reduce((n, r) => n + r.statusCounts.SKIPPED, 0);
    const counts = total
      ? `${total - failed - skipped} passed${failed ? `, ${failed} failed` : ''}${skipped ? `, ${skipped} skipped` : ''}`
      : 'no test report';
    if (status === 'SUCCEEDED') {
      this.line(view.label, this.ok(`${counts} in ${took}`));
      return;
    }
    this.line(view.label, this.failed(`${status === 'FAILED' ? '' : `(${status}) `}${counts} in ${took}`));
    const cases = reports.flatMap((r) => r.cases).filter((c) => c.status === 'FAILED' || c.status === 'ERROR');
    for (const c of cases.slice(0, 5)) {
      this.terminal.line(
        `${' '.repeat(STEP_WIDTH + 10)}${this.terminal.paint('fail', '✗')} ${c.suite ? `${c.suite} › ` : ''}${c.name}${c.message ? `: ${firstWords(c.message)}` : ''}`,
      );
    }
    if (cases.length === 0) this.logTail(buildId, build);
  }

  /** The last lines of the failed phase's log. */
  private logTail(buildId: string, build: BuildDocument): void {
    const failed = build.phases.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
    const chunks = this.source.logs(buildId).filter((c) => !failed || c.phase === failed.phaseType);
    const lines = chunks
      .map((c) => c.text)
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (const text of lines.slice(-LOG_TAIL_LINES)) {
      this.terminal.line(`${' '.repeat(STEP_WIDTH + 10)}${this.terminal.paint('dim', `│ ${text}`)}`);
    }
  }

  // ------------------------------------------------------------------------------------------- functions

  private invoke(event: RuntimeEvent): void {
    const fn = String(event['function']);
    const result = event['result'];
    const error = typeof event['errorType'] === 'string' ? event['errorType'] : null;
    const env = this.environment;
    if (fn === 'stepline-deploy' && env) {
      if (error) {
        this.line(env, this.failed(`deploy: ${error}: ${errorMessage(result)}`));
        return;
      }
      const deployed = result as DeployResult;
      this.revisions.set(env, deployed.revision);
      // A GitOps delivery (ADR 0103) applies nothing: it names the commit or pull request it made.
      const gitops = deployed.watch[0]?.gitops;
      this.line(
        env,
        gitops
          ? `handed to GitOps: ${gitops.pullRequest ? `pull request ${gitops.pullRequest.url}` : `commit ${gitops.commit?.slice(0, 12)}`} on ${gitops.repository} ${gitops.branch}`
          : `applied revision ${deployed.revision} to namespace ${deployed.namespace}: ${applied(deployed.applied)}`,
      );
      this.watch(env, deployed.watch);
      return;
    }
    if (fn === 'stepline-rollout' && env) {
      if (error === 'Stepline.RolloutInProgress') {
        if (!this.source.object)
          this.line(env, `rollout: ${errorMessage(result).replace(/^Rollout in \S+ in progress: /, '')}`);
        return;
      }
      this.stopWatching(env);
      if (error === 'Stepline.StepReady') {
        // A canary or blue-green step's replicas are ready: it is measured next (ADR 0067).
        this.line(env, this.ok(`ready: ${errorMessage(result)}`));
        return;
      }
      if (error) {
        this.line(env, this.failed(`rollout: ${errorMessage(result)}`));
        return;
      }
      const rollout = result as RolloutResult;
      const reasons = rollout.objects.map((o) => o.reason).join('; ');
      if (rollout.state === 'done') this.line(env, this.ok(`rolled out: ${reasons || rollout.reason}`));
      else this.line(env, `rollout ${rollout.state}: ${rollout.reason}`);
      return;
    }
    if (fn === 'stepline-analysis' && env && !error) {
      // "canary 25% · 1/2 checks passed", and the verdict when it ends the step.
      const measured = record(result);
      const verdict = String(measured['verdict'] ?? '');
      const text = `analysis: ${String(measured['description'] ?? '')}`;
      if (verdict === 'failed' || verdict === 'error')
        this.line(env, this.failed(`${text}: ${String(measured['reason'] ?? '')}`));
      else this.line(env, verdict === 'passed' ? this.ok(text) : text);
      return;
    }
    if (fn === 'stepline-rollback' && env) {
      if (error) {
        this.line(env, this.failed(`rollback: ${errorMessage(result)}`));
        return;
      }
      const back = result as RollbackResult;
      this.line(
        env,
        `rolled back to revision ${back.revision} (commit ${back.commit.slice(0, 7)}): ${applied(back.applied)}`,
      );
      this.watch(env, back.watch);
      return;
    }
    if (fn === 'stepline-approval' && env && !error) {
      const request = record(result);
      const approvers = this.route.environments.find((e) => e.name === env)?.approvers ?? [];
      this.line(
        env,
        `${this.terminal.tty ? `${this.terminal.paint('warn', '⏸')} ` : ''}waiting for approval${approvers.length ? ` by ${approvers.join(' or ')}` : ''}: ${String(request['url'])}`,
      );
      this.activity('env', `${env}: waiting for approval`);
      this.options.onApproval?.({ id: String(request['approvalId']), url: String(request['url']), environment: env });
    }
  }

  // ------------------------------------------------------------------------------------------ rollouts

  /** Reads the watched workloads' replica counts from the simulated cluster and shows each change. */
  private watch(environment: string, objects: readonly WatchedObject[]): void {
    const object = this.source.object;
    if (!object) return;
    this.stopWatching(environment);
    const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
    if (workloads.length === 0) return;
    const last = new Map<string, string>();
    const read = (): void => {
      for (const w of workloads) {
        const live = record(object(w.apiVersion, w.kind, w.namespace ?? '', w.name));
        const spec = record(live['spec']);
        const status = record(live['status']);
        const wanted = Number(spec['replicas'] ?? 1);
        const updated = Number(status['updatedReplicas'] ?? 0);
        const ready = Number(status['readyReplicas'] ?? 0);
        const available = Number(status['availableReplicas'] ?? 0);
        const text = `${w.kind.toLowerCase()}/${w.name}: ${updated}/${wanted} updated, ${ready}/${wanted} ready, ${available}/${wanted} available`;
        const key = `${w.kind}/${w.namespace}/${w.name}`;
        if (last.get(key) !== text) {
          last.set(key, text);
          this.line(environment, `replicas ${text}`);
          this.activity('env', `${environment}: rolling out, ${available}/${wanted} available`);
        }
      }
    };
    read();
    const timer = setInterval(read, this.options.pollMs ?? 100);
    timer.unref();
    this.watchers.set(environment, { timer, last });
  }

  private stopWatching(environment: string): void {
    const watcher = this.watchers.get(environment);
    if (!watcher) return;
    clearInterval(watcher.timer);
    this.watchers.delete(environment);
  }
}

/** A build's source version as a person reads it: `refs/heads/main^{1a2b3c4…}` (ADR 0065) → `1a2b3c4`. */
export function shortVersion(version: string | undefined | null): string {
  if (!version) return '?';
  const pinned = /\^\{([0-9a-f]{7,40})\}$/.exec(version)?.[1];
  if (pinned) return pinned.slice(0, 7);
  return /^[0-9a-f]{40}$/.test(version) ? version.slice(0, 7) : version;
}
