import { contextName, STATUS_CONTEXT_PREFIX, statusContexts } from '../contracts/status';
import type { PipelineRequest, Route, RouteEnvironment } from '../intake/types';
import type { TestFailure } from './checks';
import type { FailedStep, PipelineStep, StatusEvent, StatusSubject, StepDetail, StepState } from './contracts';
import type { ConsoleLinks } from './links';
import { humanDuration, plural } from './text';

/** The context prefix when none is configured. */
export const DEFAULT_CONTEXT_PREFIX = STATUS_CONTEXT_PREFIX;

/** One commit status to post, in Stepline's words; `hosts.ts` turns it into each host's request. */
export interface StatusUpdate {
  readonly context: string;
  readonly state: StepState;
  /** Full text; each host's limit is applied when the request is made. */
  readonly description: string;
  readonly targetUrl: string | null;
  /**
   * Shorter links to the same run, in order of preference, for a host whose limit `targetUrl` passes (GitLab
   * refuses a `target_url` over 255 characters): the run's console page, then its short link through the
   * platform's redirect route. A host sends the first that fits, or no link.
   */
  readonly shorterUrls?: readonly string[];
  /** Test failures at file and line: annotations of its check run (GitHub as an App, ADR 0091). */
  readonly failures?: readonly TestFailure[];
}

/** A GitHub deployment status to post (other hosts have no deployments). */
export interface DeploymentUpdate {
  readonly environment: string;
  readonly state: Exclude<StepState, 'skipped'>;
  readonly description: string;
  readonly logUrl: string | null;
  readonly environmentUrl: string | null;
  /** Create the deployment when this run has none for the environment yet. */
  readonly createIfMissing: boolean;
}

/** Everything one event asks of the Git host. */
export interface StatusPlan {
  readonly updates: readonly StatusUpdate[];
  readonly deployment: DeploymentUpdate | null;
  /**
   * When set, after the updates: every context under the prefix that is still open (pending or running) on the
   * commit gets this state and description, and (GitHub) every open deployment of this run is closed.
   */
  readonly closeOpen: { readonly state: 'cancelled'; readonly description: string } | null;
  /** Post an update only when its context is not already finished on the host (late, unordered events). */
  readonly onlyIfOpen: boolean;
  /**
   * Results the run knows of steps that report through their own events (build, tests): after the updates, each
   * one whose context is still open on the host (or absent) is posted, before `closeOpen` closes what is left.
   */
  readonly settle?: readonly StatusUpdate[];
}

export interface PlanOptions {
  readonly links: ConsoleLinks | null;
  readonly contextPrefix?: string;
}

/**
 * What a status needs to know of the commit, from the request. A GitLab merge request from a fork reports to the
 * fork, its source project: GitLab documents that a status of a commit in a merge request "must target the commit
 * in the merge request's source branch", and a status posted to the target project makes an external pipeline the
 * merge request does not show (docs/adr/0090).
 */
export function subjectOf(request: PipelineRequest): StatusSubject {
  const pr = request.pullRequest;
  const repository =
    request.provider === 'gitlab' && pr?.fork && pr.head.repository.includes('/')
      ? pr.head.repository
      : request.repository.fullName;
  return {
    provider: request.provider,
    repository,
    sha: pr?.head.sha ?? request.commit.sha,
    ref: pr?.head.ref ?? request.ref.name,
    fullRef: pr ? `refs/heads/${pr.head.ref}` : request.ref.fullName,
    pullRequest: pr?.number ?? null,
  };
}

/** The context of a step: `stepline`, `stepline/build`, `stepline/test/<suite>`, `stepline/deploy/<environment>`. */
export const contextOf = contextName;

/** Every context a route declares, in the order the steps run: what a skipped run marks as passed. */
export function declaredContexts(route: Route, prefix: string): string[] {
  return statusContexts(route, prefix);
}

/** "in phase BUILD: exit 2", "in phase BUILD", "exit 2", with the reason after a semicolon. */
function failureParticulars(detail: StepDetail | undefined): string {
  if (!detail) return '';
  let text = '';
  if (detail.phase && detail.exitCode !== undefined) text = ` in phase ${detail.phase}: exit ${detail.exitCode}`;
  else if (detail.phase) text = ` in phase ${detail.phase}`;
  else if (detail.exitCode !== undefined) text = `: exit ${detail.exitCode}`;
  const reason = detail.reason?.trim();
  if (reason) return text ? `${text}; ${reason}` : `: ${reason}`;
  return text;
}

function withReason(text: string, detail: StepDetail | undefined): string {
  const reason = detail?.reason?.trim();
  if (!reason) return text;
  // The intake words its skip reason "skipped: no changes under …"; say it once.
  return reason.toLowerCase().startsWith(`${text.toLowerCase()}:`) ? reason : `${text}: ${reason}`;
}

function stepLabel(failed: FailedStep): string {
  switch (failed.step) {
    case 'build':
      return 'build';
    case 'test':
      return `test suite ${failed.suite ?? ''}`.trim();
    case 'approval':
      return `approval for ${failed.environment ?? 'an environment'}`;
    case 'deploy':
      return `deploy to ${failed.environment ?? 'an environment'}`;
  }
}

function environmentOf(route: Route, name: string | undefined): RouteEnvironment | undefined {
  return route.environments.find((env) => env.name === name);
}

/** The description of a build or test step (also what `functions/build-events` posts). */
export function describeBuild(
  step: 'build' | 'test',
  state: StepState,
  suite: string,
  detail: StepDetail | undefined,
): string {
  if (state === 'skipped') return withReason('skipped', detail);
  if (state === 'cancelled') return withReason('cancelled', detail);
  if (step === 'build') {
    if (state === 'pending') return 'waiting to build';
    if (state === 'running') return detail?.phase ? `building: ${detail.phase}` : 'building';
    if (state === 'success') return withReason('image built', detail);
    return `build failed${failureParticulars(detail)}`;
  }
  if (state === 'pending') return `suite ${suite} waiting`;
  if (state === 'running') return detail?.phase ? `testing ${suite}: ${detail.phase}` : `testing ${suite}`;
  if (state === 'success') return withReason(`suite ${suite} passed`, detail);
  return `suite ${suite} failed${failureParticulars(detail)}`;
}

/** The description of an event's own context. */
export function describe(event: StatusEvent): string {
  const { step, state, detail, route } = event;
  const suite = event.suite ?? '';
  const env = event.environment ?? '';
  if (state === 'skipped') return withReason('skipped', detail);
  if (state === 'cancelled') return withReason('cancelled', detail);
  switch (step) {
    case 'pipeline': {
      if (state === 'pending') return 'queued';
      if (state === 'running') return 'running';
      if (state === 'success') {
        const parts = ['built'];
        if (route.tests.length) parts.push(`${plural(route.tests.length, 'test suite')} passed`);
        if (route.environments.length) parts.push(`deployed to ${route.environments.map((e) => e.name).join(', ')}`);
        return withReason(`passed: ${parts.join(', ')}`, detail);
      }
      const failed = detail?.failedStep;
      if (failed?.step === 'approval') return withReason(`not approved for ${failed.environment ?? 'deploy'}`, detail);
      if (failed) return `failed at ${stepLabel(failed)}${failureParticulars(detail)}`;
      return `failed${failureParticulars(detail)}`;
    }
    case 'build':
    case 'test':
      return describeBuild(step, state, suite, detail);
    case 'approval': {
      const approval = detail?.approval;
      if (approval?.outcome === 'approved') return `approved by ${approval.by ?? 'someone'}; deploying to ${env}`;
      if (approval?.outcome === 'rejected') {
        const who = `rejected${approval.by ? ` by ${approval.by}` : ''}`;
        // The workflow words its reason "rejected by <who>: <why>" (for the run's own status): say who once.
        const reason = detail?.reason?.trim();
        if (reason?.toLowerCase().startsWith(who.toLowerCase())) return `not approved: ${reason}`;
        return withReason(`not approved: ${who}`, detail);
      }
      if (approval?.outcome === 'lost')
        return 'not approved: the approval request was lost; push again or redrive the run';
      if (approval?.outcome === 'timed-out' || state === 'failure') {
        const timeout = environmentOf(route, env)?.approval?.timeoutSeconds;
        const within = timeout ? `no decision within ${humanDuration(timeout)}` : 'no decision in time';
        return withReason(`not approved: ${within}`, detail);
      }
      const approvers = environmentOf(route, env)?.approval?.approvers ?? [];
      const who = approvers.length ? ` by ${approvers.join(', ')}` : '';
      return `waiting for approval${who} to deploy to ${env}`;
    }
    case 'deploy':
      if (state === 'pending') return withReason(`waiting to deploy to ${env}`, detail);
      if (state === 'running') return withReason(`deploying to ${env}`, detail);
      if (state === 'success') return withReason(`deployed to ${env}`, detail);
      return `deploy to ${env} failed${failureParticulars(detail)}`;
  }
}

/** The state the event's own context takes: an approval gate is never the deploy's success. */
function contextState(event: StatusEvent): StepState {
  if (event.step !== 'approval') return event.state;
  if (event.state === 'cancelled') return 'cancelled';
  const outcome = event.detail?.approval?.outcome;
  if (outcome === 'rejected' || outcome === 'timed-out' || outcome === 'lost' || event.state === 'failure') {
    return 'failure';
  }
  return 'pending';
}

/** The run's own links other than `targetUrl`: its console page, then its short link (see `StatusUpdate.shorterUrls`). */
export function shorterUrlsOf(
  executionArn: string | null,
  links: ConsoleLinks | null,
  targetUrl: string | null,
): readonly string[] {
  if (!executionArn || !links) return [];
  const urls = [links.execution(executionArn), links.runLink(executionArn)];
  return urls.filter((url): url is string => url !== null && url !== targetUrl);
}

function targetUrlOf(event: StatusEvent, links: ConsoleLinks | null): string | null {
  const detail = event.detail;
  if (event.step === 'approval' && detail?.approval?.outcome === 'waiting' && detail.approval.url) {
    return detail.approval.url;
  }
  if ((event.step === 'build' || event.step === 'test') && detail?.logUrl) return detail.logUrl;
  if (event.executionArn && links) return links.execution(event.executionArn);
  return event.request.commit.url;
}

function deploymentOf(event: StatusEvent, description: string, links: ConsoleLinks | null): DeploymentUpdate | null {
  if (event.request.provider !== 'github') return null;
  if (event.step !== 'approval' && event.step !== 'deploy') return null;
  if (!event.environment || event.state === 'skipped') return null;
  const env = environmentOf(event.route, event.environment);
  const logUrl = event.executionArn && links ? links.execution(event.executionArn) : null;
  const base = { environment: event.environment, description, logUrl, environmentUrl: env?.url ?? null };
  if (event.step === 'approval') {
    const outcome = event.detail?.approval?.outcome;
    if (event.state === 'cancelled') return { ...base, state: 'cancelled', createIfMissing: false };
    if (outcome === 'rejected' || outcome === 'timed-out' || event.state === 'failure') {
      return { ...base, state: 'failure', createIfMissing: false };
    }
    if (outcome === 'approved') return { ...base, state: 'pending', createIfMissing: true };
    return { ...base, state: 'pending', createIfMissing: true };
  }
  const state = event.state;
  return { ...base, state, createIfMissing: state !== 'cancelled' };
}

/**
 * What one status event asks of the Git host (pure; `reporter.ts` carries it out):
 * - its own context's status;
 * - a run that starts (pipeline pending): every context the route declares, pending;
 * - a skipped run: every declared context passes, described "skipped: <reason>";
 * - GitHub, approval and deploy steps: the environment's deployment status;
 * - a final failure or cancellation: every context still open on the commit gets closed.
 */
export function planStatus(event: StatusEvent, options: PlanOptions): StatusPlan {
  const prefix = options.contextPrefix ?? DEFAULT_CONTEXT_PREFIX;
  const description = describe(event);
  const targetUrl = targetUrlOf(event, options.links);
  const shorterUrls = shorterUrlsOf(event.executionArn, options.links, targetUrl);
  const link = shorterUrls.length ? { targetUrl, shorterUrls } : { targetUrl };
  if (event.step === 'pipeline' && event.state === 'skipped') {
    const updates = declaredContexts(event.route, prefix).map((context) => ({
      context,
      state: 'skipped' as const,
      description,
      ...link,
    }));
    return { updates, deployment: null, closeOpen: null, onlyIfOpen: false };
  }
  if (event.step === 'pipeline' && event.state === 'pending') {
    // A run that starts opens every context it will report on, so that required checks show up at once.
    const pending = (step: PipelineStep, names: { suite?: string; environment?: string }): StatusUpdate => ({
      context: contextOf(prefix, step, names),
      state: 'pending',
      description: describe({ ...event, step, ...names }),
      ...link,
    });
    const updates = [
      pending('pipeline', {}),
      pending('build', {}),
      ...event.route.tests.map((suite) => pending('test', { suite: suite.name })),
      ...event.route.environments.map((env) => pending('deploy', { environment: env.name })),
    ];
    return { updates, deployment: null, closeOpen: null, onlyIfOpen: false };
  }
  const context = contextOf(prefix, event.step, { suite: event.suite, environment: event.environment });
  const failures = event.step === 'test' ? event.detail?.failures : undefined;
  const updates: StatusUpdate[] = [
    { context, state: contextState(event), description, ...link, ...(failures?.length ? { failures } : {}) },
  ];
  const final = event.step === 'pipeline' && (event.state === 'failure' || event.state === 'cancelled');
  const closeOpen = final ? { state: 'cancelled' as const, description: `stopped: run ${description}` } : null;
  const ended = final || (event.step === 'pipeline' && event.state === 'success');
  const settle = ended ? settled(event, prefix, options.links) : [];
  return {
    updates,
    deployment: deploymentOf(event, description, options.links),
    closeOpen,
    onlyIfOpen: false,
    ...(settle.length ? { settle } : {}),
  };
}

/** The final report's known build and test results, as the statuses their own events would have posted. */
function settled(event: StatusEvent, prefix: string, links: ConsoleLinks | null): StatusUpdate[] {
  return (event.detail?.finished ?? []).map((step) => {
    const suite = step.suite ?? '';
    const detail = {
      ...(step.phase ? { phase: step.phase } : {}),
      ...(step.exitCode !== undefined ? { exitCode: step.exitCode } : {}),
      ...(step.reason ? { reason: step.reason } : {}),
    };
    const targetUrl = step.logUrl ?? (event.executionArn && links ? links.execution(event.executionArn) : null);
    const shorterUrls = shorterUrlsOf(event.executionArn, links, targetUrl);
    return {
      context: contextOf(prefix, step.step, { suite }),
      state: step.state,
      description: describeBuild(step.step, step.state, suite, detail),
      targetUrl,
      ...(shorterUrls.length ? { shorterUrls } : {}),
    };
  });
}
