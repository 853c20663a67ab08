/**
 * Why a run failed, in words a person reads (issue 17): the step, the environment or suite, the reason, and, for a
 * failed build or test build, the last meaningful lines of the phase that failed (a `git clone` that could not
 * reach the repository, the compiler's error, the failing test). The console's banner and `stepline executions
 * show` both use it. Pure: no DOM, no I/O; the caller fetches the phase's log.
 */

import { causeObject } from '../../../core/status/cause';

export { failedEnvironmentOf } from '../../../core/status/cause';

/** What this module reads of a build (the console's `BuildSummary`, or the runtime API's build, mapped). */
export interface BuildLike {
  readonly id: string;
  readonly status: string;
  /** The workflow step that started it: `build`, `test`. */
  readonly step: string | null;
  readonly suite: string | null;
  readonly phases: readonly {
    readonly name: string;
    readonly status: string | null;
    readonly messages: readonly string[];
  }[];
}

export interface RunFailure {
  /** The error name: `Stepline.BuildFailed`, `States.TaskFailed`, `Lambda.Unknown`. */
  readonly error: string;
  readonly step: string | null;
  readonly environment: string | null;
  readonly suite: string | null;
  /** One sentence; empty when nothing better than the error name is known. */
  readonly reason: string;
  readonly logUrl: string | null;
  /** The failed build and phase, whose log has the lines that say why. */
  readonly build: { readonly id: string; readonly phase: string | null } | null;
  /** A stack trace or other detail, shown folded. */
  readonly detail: string | null;
}

type Loose = Record<string, unknown>;

const parseCause = (cause: string | null): Loose | null => causeObject(cause);

const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);

const FAILED_PHASE = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

/**
 * The pipeline step of a build: `build` or `test`. Sources name it as the build's STEPLINE_STEP variable says
 * (`build`, `test`) or by the workflow state that started it (`Build`, `RunSuite`).
 */
export function buildStep(step: string | null): string | null {
  if (step === null) return null;
  const lower = step.toLowerCase();
  return lower === 'runsuite' ? 'test' : lower;
}

/** The build a failed step ran, and the phase of it that failed. */
export function failedBuildOf(
  builds: readonly BuildLike[],
  step: string | null,
  suite: string | null,
): { build: BuildLike; phase: string | null } | null {
  const candidates = builds.filter(
    (b) =>
      b.status !== 'SUCCEEDED' &&
      b.status !== 'IN_PROGRESS' &&
      (step === null || buildStep(b.step) === step) &&
      (suite === null || b.suite === suite),
  );
  const build = candidates.at(-1);
  if (!build) return null;
  const phase = build.phases.find((p) => p.status !== null && FAILED_PHASE.has(p.status));
  return { build, phase: phase?.name ?? null };
}

/**
 * The failure of a run from its error and cause (what the workflow's Fail state or a task's error said) and its
 * builds. A cause that is JSON gives its `reason` (or a Lambda error's `errorType: errorMessage`, its stack folded);
 * other text is the reason itself. A failed build with no reason of its own gets its failed phase's message
 * ("could not clone …", "Error while executing command: npm test. Reason: exit status 1").
 */
export function failureOf(
  execution: { readonly status: string; readonly error: string | null; readonly cause: string | null },
  builds: readonly BuildLike[] = [],
): RunFailure | null {
  if (execution.status === 'RUNNING' || execution.status === 'SUCCEEDED') return null;
  if (!execution.error && !execution.cause) return null;
  const parsed = parseCause(execution.cause);
  const step = str(parsed?.['step']);
  const suite = str(parsed?.['suite']);
  let reason = str(parsed?.['reason']) ?? '';
  let detail: string | null = null;
  if (!parsed && execution.cause) reason = execution.cause.trim();
  if (!reason && parsed) {
    const message = str(parsed['errorMessage']) ?? str(parsed['message']);
    const type = str(parsed['errorType']);
    if (message) reason = type && !message.startsWith(type) ? `${type}: ${message}` : message;
    const trace = parsed['trace'] ?? parsed['stackTrace'] ?? parsed['stack'];
    if (Array.isArray(trace)) detail = trace.map(String).join('\n');
    else if (typeof trace === 'string') detail = trace;
  }
  const failed = step === 'build' || step === 'test' ? failedBuildOf(builds, step, suite) : null;
  // A build that failed before any command: the workflow gives its failed phase's message as the reason; the phase
  // says where.
  const phaseOf = failed ? failed.build.phases.find((p) => p.name === failed.phase) : undefined;
  if (
    reason &&
    failed?.phase &&
    phaseOf?.messages.some((m) => m.trim() === reason) &&
    !reason.startsWith(failed.phase)
  ) {
    reason = `${failed.phase}: ${reason}`;
  }
  if (!reason && failed) {
    const phase = failed.build.phases.find((p) => p.name === failed.phase);
    const message = phase?.messages.find((m) => m.trim());
    reason = message ? `${failed.phase}: ${message}` : `the ${step} failed in phase ${failed.phase ?? 'unknown'}`;
  }
  return {
    error: execution.error ?? execution.status,
    step,
    environment: str(parsed?.['environment']),
    suite,
    reason,
    logUrl: str(parsed?.['logUrl']),
    build: failed ? { id: failed.build.id, phase: failed.phase } : null,
    detail,
  };
}

/** `[Container] 2026/12/05 07:38:57.031 ` and CodeBuild's own bookkeeping lines, which say nothing about the cause. */
const CONTAINER = /^\[Container\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? /;
const BOOKKEEPING =
  /^(Entering phase|Phase complete|Phase context status code|Running command|Build (failed|succeeded|stopped|timed out)|Cloning |Waiting for|Processing environment|Moving to directory|Selecting |Registering|Expanding |Setting HTTP|Skipping )/;

/** The last `max` lines of a phase's log that say something: no blank lines, no bookkeeping, no ANSI colours. */
export function meaningfulLines(log: string, max = 5): string[] {
  const lines: string[] = [];
  for (const raw of log.split(/\r?\n/)) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '').trimEnd();
    if (!line.trim()) continue;
    const text = line.replace(CONTAINER, '');
    if (text !== line && BOOKKEEPING.test(text)) continue;
    lines.push(text.length > 300 ? `${text.slice(0, 299)}…` : text);
  }
  return lines.slice(-max);
}

/** A state's (or a run's) cause as a person reads it. */
export interface CauseView {
  /** The sentence: a Lambda error's `errorType: errorMessage`, the `reason` of a Stepline cause, or the text. */
  readonly summary: string;
  /** The other facts of a JSON cause, flat (`step: build`, `logUrl: …`), strings as they are. */
  readonly fields: readonly (readonly [string, string])[];
  /** A stack trace, one frame per line. */
  readonly trace: string | null;
}

const SUMMARY_KEYS = ['errorMessage', 'message', 'reason'];
const TRACE_KEYS = ['trace', 'stackTrace', 'stack'];

/**
 * A cause without its JSON escapes: `{"errorType":"Error","errorMessage":"boom","trace":["Error: boom","  at …"]}`
 * reads "Error: boom" with its trace below, one frame a line; `{"step":"build","reason":"…"}` reads the reason
 * with `step: build` beside it; text stays text.
 */
export function causeView(cause: string | null | undefined): CauseView | null {
  if (cause === null || cause === undefined || cause.trim() === '') return null;
  const parsed = parseCause(cause);
  if (!parsed) return { summary: cause.trim(), fields: [], trace: null };
  // A CodeBuild task's cause is the build: its failed phase and that phase's message say why.
  const build = parsed['Build'] && typeof parsed['Build'] === 'object' ? (parsed['Build'] as Loose) : null;
  if (build && Array.isArray(build['Phases'])) {
    const phase = (build['Phases'] as Loose[]).find((p) => FAILED_PHASE.has(String(p['PhaseStatus'])));
    const contexts = Array.isArray(phase?.['Contexts']) ? (phase['Contexts'] as Loose[]) : [];
    const message = contexts.map((c) => str(c['Message'])).find(Boolean);
    const fields: (readonly [string, string])[] = [
      ['build', String(build['Id'] ?? build['Arn'] ?? '')],
      ['status', String(build['BuildStatus'] ?? '')],
    ];
    const link = str((build['Logs'] as Loose | undefined)?.['DeepLink']);
    if (link) fields.push(['log', link]);
    return {
      summary: phase
        ? `${String(phase['PhaseType'])} ${String(phase['PhaseStatus'])}${message ? `: ${message}` : ''}`
        : `build ${String(build['BuildStatus'] ?? 'failed')}`,
      fields: fields.filter(([, v]) => v),
      trace: null,
    };
  }
  const key = SUMMARY_KEYS.find((k) => str(parsed[k]));
  const type = str(parsed['errorType']);
  let summary = key ? (str(parsed[key]) as string) : '';
  if (type && !summary.startsWith(type)) summary = summary ? `${type}: ${summary}` : type;
  const traceKey = TRACE_KEYS.find((k) => parsed[k] !== undefined);
  const raw = traceKey ? parsed[traceKey] : undefined;
  const trace = Array.isArray(raw) ? raw.map(String).join('\n') : typeof raw === 'string' ? raw : null;
  const fields = Object.entries(parsed)
    .filter(([k, v]) => k !== key && k !== 'errorType' && k !== traceKey && v !== null && v !== undefined && v !== '')
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const);
  return { summary, fields, trace };
}
