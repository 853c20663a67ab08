import { checkRunPoster } from './check-runs';
import type { DeliveryOutcome, StatusResult, StatusSubject } from './contracts';
import { StatusDeliveryError } from './errors';
import {
  createDeploymentRequest,
  DIALECTS,
  deploymentStatusRequest,
  findRunDeployment,
  GITHUB_DEPLOYMENT_FINAL,
  type HostDialect,
  type HostResponse,
  type HostStatus,
  type HostTransport,
  listDeploymentStatusesRequest,
  listDeploymentsRequest,
} from './hosts';
import { insightRequests } from './insights';
import type { DeploymentUpdate, StatusPlan, StatusUpdate } from './plan';
import { ok, type Poster, type Send } from './poster';
import { truncate } from './text';

/**
 * Carries out a `StatusPlan` against one host through its transport. Never throws for the host's sake: every
 * status that could not be delivered becomes a `failed` outcome in the result, so that the caller logs and
 * counts it and the pipeline goes on.
 */

export interface DeliverOptions {
  readonly executionArn: string | null;
  /** The context prefix; closing open statuses touches only contexts under it. */
  readonly contextPrefix: string;
  /** The environments of the run: a final report closes their open GitHub deployments. */
  readonly environments?: readonly string[];
  /** The full ref, for a subject that does not carry it, read only when the host needs it (GitLab). */
  readonly fullRef?: () => Promise<string | null>;
  /** The clock of check runs' `started_at` and `completed_at`. Default: now. */
  readonly now?: () => Date;
}

/** A few words on why the host refused: its message (hosts put no secrets there), else the status code. */
function refusal(response: HostResponse): string {
  const body = response.body as { message?: unknown; error?: { message?: unknown } } | null;
  const message = typeof body?.message === 'string' ? body.message : body?.error?.message;
  return typeof message === 'string' ? `HTTP ${response.status}: ${truncate(message, 200)}` : `HTTP ${response.status}`;
}

function failed(context: string, state: string, error: StatusDeliveryError | HostResponse): DeliveryOutcome {
  if (error instanceof StatusDeliveryError) {
    return { context, state, outcome: 'failed', httpStatus: error.httpStatus, error: truncate(error.message, 200) };
  }
  return { context, state, outcome: 'failed', httpStatus: error.status, error: refusal(error) };
}

/** The subject statuses are posted with: it takes the full ref once GitLab has called the short one ambiguous. */
interface Target {
  subject: StatusSubject;
  /** The full ref when the subject does not carry it (a build event's subject): read once, when needed. */
  readonly fullRef?: () => Promise<string | null>;
}

async function withFullRef(target: Target): Promise<StatusSubject | null> {
  const { subject } = target;
  const fullRef = subject.fullRef ?? (await target.fullRef?.().catch(() => null)) ?? null;
  if (!fullRef || fullRef === subject.ref) return null;
  return { ...subject, ref: fullRef, fullRef };
}

async function postStatus(
  send: Send,
  dialect: HostDialect,
  target: Target,
  update: StatusUpdate,
): Promise<DeliveryOutcome> {
  const state = dialect.hostState(update.state);
  let response = await send(dialect.statusRequest(target.subject, update));
  if (!(response instanceof StatusDeliveryError) && !ok(response) && dialect.ambiguousRef(response)) {
    const retried = await withFullRef(target);
    if (retried) {
      target.subject = retried;
      response = await send(dialect.statusRequest(retried, update));
    }
  }
  if (response instanceof StatusDeliveryError) return failed(update.context, state, response);
  if (ok(response)) return { context: update.context, state, outcome: 'delivered', httpStatus: response.status };
  if (dialect.unchanged(response)) {
    return { context: update.context, state, outcome: 'unchanged', httpStatus: response.status };
  }
  return failed(update.context, state, response);
}

async function readBack(send: Send, dialect: HostDialect, subject: StatusSubject): Promise<HostStatus[] | string> {
  const response = await send(dialect.listRequest(subject));
  if (response instanceof StatusDeliveryError) return response.message;
  if (!ok(response)) return refusal(response);
  return dialect.parseList(response.body);
}

async function findDeployment(
  send: Send,
  subject: StatusSubject,
  environment: string,
  executionArn: string | null,
): Promise<number | null | HostResponse | StatusDeliveryError> {
  const response = await send(listDeploymentsRequest(subject, environment));
  if (response instanceof StatusDeliveryError || !ok(response)) return response;
  return findRunDeployment(response.body, executionArn);
}

async function postDeployment(
  send: Send,
  subject: StatusSubject,
  update: DeploymentUpdate,
  executionArn: string | null,
): Promise<{ outcome: DeliveryOutcome | null; id?: number }> {
  const context = `deployment:${update.environment}`;
  const state = update.state;
  let id = await findDeployment(send, subject, update.environment, executionArn);
  if (id === null) {
    if (!update.createIfMissing) return { outcome: null };
    const created = await send(createDeploymentRequest(subject, update, executionArn));
    if (created instanceof StatusDeliveryError) return { outcome: failed(context, state, created) };
    const createdId = (created.body as { id?: unknown } | null)?.id;
    if (created.status !== 201 || typeof createdId !== 'number') return { outcome: failed(context, state, created) };
    id = createdId;
  }
  if (typeof id !== 'number') return { outcome: failed(context, state, id) };
  const request = deploymentStatusRequest(subject, id, update);
  const response = await send(request);
  const hostState = String((request.body as { state: string }).state);
  if (response instanceof StatusDeliveryError) return { outcome: failed(context, hostState, response), id };
  if (!ok(response)) return { outcome: failed(context, hostState, response), id };
  return { outcome: { context, state: hostState, outcome: 'delivered', httpStatus: response.status }, id };
}

/** Closes this run's GitHub deployments that are still open in the given environments. */
async function closeDeployments(
  send: Send,
  subject: StatusSubject,
  environments: readonly string[],
  executionArn: string | null,
  description: string,
  logUrl: string | null,
): Promise<DeliveryOutcome[]> {
  const outcomes: DeliveryOutcome[] = [];
  for (const environment of environments) {
    const id = await findDeployment(send, subject, environment, executionArn);
    if (id === null) continue;
    const context = `deployment:${environment}`;
    if (typeof id !== 'number') {
      outcomes.push(failed(context, 'error', id));
      continue;
    }
    const latest = await send(listDeploymentStatusesRequest(subject, id));
    if (latest instanceof StatusDeliveryError || !ok(latest)) {
      outcomes.push(failed(context, 'error', latest));
      continue;
    }
    const state = Array.isArray(latest.body) ? (latest.body[0] as { state?: unknown } | undefined)?.state : undefined;
    if (typeof state === 'string' && GITHUB_DEPLOYMENT_FINAL.has(state)) continue;
    const update: DeploymentUpdate = {
      environment,
      state: 'cancelled',
      description,
      logUrl,
      environmentUrl: null,
      createIfMissing: false,
    };
    const response = await send(deploymentStatusRequest(subject, id, update));
    if (response instanceof StatusDeliveryError || !ok(response)) outcomes.push(failed(context, 'error', response));
    else outcomes.push({ context, state: 'error', outcome: 'delivered', httpStatus: response.status });
  }
  return outcomes;
}

/** A suite's Code Insights report and annotations: one outcome, `report:<id>`, delivered or failed. */
async function postInsights(
  send: Send,
  subject: StatusSubject,
  update: StatusUpdate,
  prefix: string,
): Promise<DeliveryOutcome[]> {
  const requests = insightRequests(subject, update, prefix);
  if (!requests.length) return [];
  const context = `report:${update.context}`;
  const state = update.state === 'success' ? 'PASSED' : 'FAILED';
  for (const request of requests) {
    const response = await send(request);
    if (response instanceof StatusDeliveryError || !ok(response)) return [failed(context, state, response)];
  }
  return [{ context, state, outcome: 'delivered' }];
}

function underPrefix(context: string, prefix: string): boolean {
  return context === prefix || context.startsWith(`${prefix}/`);
}

export function summarize(
  subject: StatusSubject,
  outcomes: readonly DeliveryOutcome[],
  extra: Partial<Pick<StatusResult, 'deploymentId' | 'skippedReason'>> = {},
): StatusResult {
  return {
    provider: subject.provider,
    repository: subject.repository,
    sha: subject.sha,
    outcomes,
    delivered: outcomes.filter((o) => o.outcome !== 'failed').length,
    failed: outcomes.filter((o) => o.outcome === 'failed').length,
    ...extra,
  };
}

/** Posts what the plan asks for; see the module comment. */
export async function deliver(
  subject: StatusSubject,
  plan: StatusPlan,
  transport: HostTransport,
  options: DeliverOptions,
): Promise<StatusResult> {
  const dialect = DIALECTS[subject.provider];
  const send: Send = async (request) => {
    try {
      return await transport.send(request);
    } catch (error) {
      if (error instanceof StatusDeliveryError) return error;
      const reason = error instanceof Error ? error.message : String(error);
      return new StatusDeliveryError(`could not reach ${subject.provider}: ${reason}`, undefined, { cause: error });
    }
  };
  const outcomes: DeliveryOutcome[] = [];
  const target: Target = { subject, ...(options.fullRef ? { fullRef: options.fullRef } : {}) };
  const poster: Poster =
    transport.checks && subject.provider === 'github'
      ? checkRunPoster(send, subject, options.executionArn, options.now ?? (() => new Date()))
      : {
          hostState: (state) => dialect.hostState(state),
          post: (update) => postStatus(send, dialect, target, update),
          read: () => readBack(send, dialect, subject),
        };
  let updates = plan.updates;
  if (plan.onlyIfOpen && updates.length) {
    const current = await poster.read();
    if (typeof current === 'string') {
      // Without knowing whether the step already finished, a progress update could overwrite its result.
      for (const update of updates) {
        outcomes.push({
          context: update.context,
          state: poster.hostState(update.state),
          outcome: 'failed',
          error: `not posted: could not read the commit's statuses (${truncate(current, 150)})`,
        });
      }
      updates = [];
    } else {
      const finished = new Set(current.filter((s) => !s.open).map((s) => s.context));
      updates = updates.filter((update) => !finished.has(update.context));
    }
  }
  for (const update of updates) outcomes.push(await poster.post(update));
  const posted = new Set(updates.map((u) => u.context));

  if (plan.settle?.length) {
    // Results the run knows: post those still open (a lost or late build event), leave those already final.
    const current = await poster.read();
    const finished =
      typeof current === 'string' ? new Set<string>() : new Set(current.filter((s) => !s.open).map((s) => s.context));
    for (const update of plan.settle) {
      if (finished.has(update.context)) continue;
      outcomes.push(await poster.post(update));
      posted.add(update.context);
    }
  }

  if (subject.provider === 'bitbucket') {
    // Code Insights (ADR 0092): a suite that ended gets a TEST report, its failures as annotations.
    const ended = [...updates, ...(plan.settle ?? [])].filter((u) => posted.has(u.context));
    for (const update of ended) outcomes.push(...(await postInsights(send, subject, update, options.contextPrefix)));
  }

  let deploymentId: number | undefined;
  if (plan.deployment && subject.provider === 'github') {
    const result = await postDeployment(send, subject, plan.deployment, options.executionArn);
    if (result.outcome) outcomes.push(result.outcome);
    deploymentId = result.id;
  }

  if (plan.closeOpen) {
    const current = await poster.read();
    const targetUrl = plan.updates[0]?.targetUrl ?? null;
    const shorterUrls = plan.updates[0]?.shorterUrls;
    if (typeof current === 'string') {
      outcomes.push({ context: `${options.contextPrefix}/*`, state: 'read', outcome: 'failed', error: current });
    } else {
      for (const status of current) {
        if (!status.open || posted.has(status.context) || !underPrefix(status.context, options.contextPrefix)) continue;
        const close: StatusUpdate = {
          context: status.context,
          state: plan.closeOpen.state,
          description: plan.closeOpen.description,
          targetUrl,
          ...(shorterUrls ? { shorterUrls } : {}),
        };
        outcomes.push(await poster.post(close));
      }
    }
    if (subject.provider === 'github' && options.environments?.length) {
      outcomes.push(
        ...(await closeDeployments(
          send,
          subject,
          options.environments,
          options.executionArn,
          plan.closeOpen.description,
          targetUrl,
        )),
      );
    }
  }
  return summarize(subject, outcomes, deploymentId === undefined ? {} : { deploymentId });
}
