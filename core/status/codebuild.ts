import type { Provider } from '../config/schema';
import { PROVIDERS } from '../config/schema';
import {
  BUILD_ENV,
  type CodeBuildEvent,
  type CodeBuildEventPhase,
  type StatusSubject,
  type StepDetail,
  type StepState,
} from './contracts';
import type { ConsoleLinks } from './links';
import { CODEBUILD_PHASES } from './phases';
import { contextOf, describeBuild, type StatusPlan, shorterUrlsOf } from './plan';

/**
 * From a CodeBuild "Build Phase Change" or "Build State Change" event to the status of the build or test step
 * it belongs to (pure). Which run and step a build is about comes from the environment variables the workflow
 * gives each build (`BUILD_ENV`); the events list them under `additional-information.environment`.
 */

export { CODEBUILD_PHASES } from './phases';

const FAILED_PHASE = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'CLIENT_ERROR']);

/** The build a CodeBuild event is about, as the workflow labelled it. */
export interface BuildRun {
  readonly executionArn: string;
  readonly step: 'build' | 'test';
  readonly suite?: string;
  /** Null when the build's variables do not carry the commit: read it from the execution's input. */
  readonly subject: StatusSubject | null;
}

/** The step's state and facts, as one event tells them. */
export interface BuildProgress {
  readonly state: StepState;
  readonly detail: StepDetail;
}

function variables(event: CodeBuildEvent): Map<string, string> {
  const list = event.detail['additional-information']?.environment?.['environment-variables'] ?? [];
  return new Map(list.filter((v) => v.type === undefined || v.type === 'PLAINTEXT').map((v) => [v.name, v.value]));
}

/** Which run and step a build belongs to; a reason to ignore it when the workflow did not start it. */
export function buildRunOf(event: CodeBuildEvent): BuildRun | { readonly ignored: string } {
  const vars = variables(event);
  const executionArn = vars.get(BUILD_ENV.executionArn);
  if (!executionArn) return { ignored: `build has no ${BUILD_ENV.executionArn}: not started by a Stepline run` };
  const step = vars.get(BUILD_ENV.step);
  if (step !== 'build' && step !== 'test') {
    return { ignored: `${BUILD_ENV.step} is "${step ?? ''}", expected "build" or "test"` };
  }
  const suite = vars.get(BUILD_ENV.suite);
  if (step === 'test' && !suite) return { ignored: `test build without ${BUILD_ENV.suite}` };
  const provider = vars.get(BUILD_ENV.provider);
  const repository = vars.get(BUILD_ENV.repository);
  const sha = vars.get(BUILD_ENV.commit);
  const pr = Number.parseInt(vars.get(BUILD_ENV.pullRequest) ?? '', 10);
  const subject: StatusSubject | null =
    provider && (PROVIDERS as readonly string[]).includes(provider) && repository && sha && /^[0-9a-f]{40}$/i.test(sha)
      ? {
          provider: provider as Provider,
          repository,
          sha,
          ref: vars.get(BUILD_ENV.ref) ?? '',
          pullRequest: Number.isInteger(pr) ? pr : null,
        }
      : null;
  return { executionArn, step, ...(step === 'test' ? { suite } : {}), subject };
}

/** "exit status 2" in a phase's context → 2. */
export function exitCodeOf(contexts: readonly string[] | string | undefined): number | undefined {
  const text = typeof contexts === 'string' ? contexts : (contexts ?? []).join(' ');
  const match = /exit status (\d+)/i.exec(text);
  return match ? Number(match[1]) : undefined;
}

function firstFailedPhase(phases: readonly CodeBuildEventPhase[]): CodeBuildEventPhase | undefined {
  return phases.find((phase) => phase['phase-status'] !== undefined && FAILED_PHASE.has(phase['phase-status']));
}

function nextPhase(completed: string): string | undefined {
  const index = CODEBUILD_PHASES.indexOf(completed as (typeof CODEBUILD_PHASES)[number]);
  return index >= 0 ? CODEBUILD_PHASES[index + 1] : undefined;
}

/**
 * What the event says about the step, or null when it says nothing new:
 * - a phase change into a phase → `running` "building: INSTALL" (the phase now running);
 * - any failed phase so far (later phases still run after a failure) → `failure` "in phase BUILD: exit 2";
 * - a state change to SUCCEEDED / FAILED / STOPPED / TIMED_OUT / FAULT → the final state.
 */
export function buildProgressOf(event: CodeBuildEvent): BuildProgress | null {
  const detail = event.detail;
  const info = detail['additional-information'];
  const logUrl = info?.logs?.['deep-link'];
  const base = logUrl ? { logUrl } : {};
  const phases = info?.phases ?? [];
  const failedPhase = firstFailedPhase(phases);
  const failure = (phase: string | undefined, contexts: readonly string[] | string | undefined, reason?: string) => {
    const exitCode = exitCodeOf(contexts);
    return {
      state: 'failure' as const,
      detail: {
        ...base,
        ...(phase ? { phase } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(reason ? { reason } : {}),
      },
    };
  };

  if (event['detail-type'] === 'CodeBuild Build State Change') {
    switch (detail['build-status']) {
      case 'IN_PROGRESS':
        return { state: 'running', detail: { ...base, phase: detail['current-phase'] ?? 'SUBMITTED' } };
      case 'SUCCEEDED':
        return { state: 'success', detail: base };
      case 'STOPPED':
        return { state: 'cancelled', detail: { ...base, reason: 'build stopped' } };
      case 'TIMED_OUT':
        return failure(failedPhase?.['phase-type'], failedPhase?.['phase-context'], 'timed out');
      default:
        return failedPhase
          ? failure(failedPhase['phase-type'], failedPhase['phase-context'])
          : failure(detail['current-phase'], detail['current-phase-context']);
    }
  }

  const completed = detail['completed-phase'] ?? '';
  const status = detail['completed-phase-status'] ?? '';
  if (FAILED_PHASE.has(status)) return failure(completed, detail['completed-phase-context']);
  if (status === 'STOPPED') return { state: 'cancelled', detail: { ...base, reason: 'build stopped' } };
  if (failedPhase) return failure(failedPhase['phase-type'], failedPhase['phase-context']);
  if (info?.['build-complete']) return null;
  const next = nextPhase(completed);
  if (!next || next === 'COMPLETED') return null;
  return { state: 'running', detail: { ...base, phase: next } };
}

/** The plan for one build event: running updates only where the step is not finished on the host already. */
export function planBuildProgress(
  run: BuildRun,
  progress: BuildProgress,
  contextPrefix: string,
  links: ConsoleLinks | null = null,
): StatusPlan {
  const context = contextOf(contextPrefix, run.step, { suite: run.suite });
  const targetUrl = progress.detail.logUrl ?? null;
  const shorterUrls = shorterUrlsOf(run.executionArn, links, targetUrl);
  return {
    updates: [
      {
        context,
        state: progress.state,
        description: describeBuild(run.step, progress.state, run.suite ?? '', progress.detail),
        targetUrl,
        ...(shorterUrls.length ? { shorterUrls } : {}),
      },
    ],
    deployment: null,
    closeOpen: null,
    onlyIfOpen: progress.state === 'running',
  };
}
