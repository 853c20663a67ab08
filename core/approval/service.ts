import type { StatusEvent } from '../status/contracts';
import { type Person, type Refusal, refusalOf } from './approvers';
import {
  APPROVAL_REJECTED_ERROR,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStore,
  type ApprovalTaskEvent,
  type ApprovalTaskResult,
  type TaskCallbacks,
} from './contracts';
import { accessOf } from './decision';
import { ApprovalRequestError } from './errors';
import { approvalIdFor, signApprovalId, verifyApprovalId } from './token';

/**
 * The approval gate's three calls, over ports: record a request and post its pending status (the workflow's
 * task), show a request (GET of the link), and decide it (POST of the link).
 */

export interface ApprovalDeps {
  readonly store: ApprovalStore;
  /** Signing keys, current first. */
  readonly keys: readonly string[];
  /** Seconds since the epoch. */
  readonly now: () => number;
}

export interface RequestDeps extends ApprovalDeps {
  /** Base URL of the approval pages, without a trailing slash. */
  readonly baseUrl: string;
  /** Posts the pending status with the link; must not throw (status reporting never fails the pipeline). */
  readonly postStatus: (event: StatusEvent) => Promise<unknown>;
}

export interface DecideDeps extends ApprovalDeps {
  readonly callbacks: TaskCallbacks;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The link of a request. */
export function approvalUrl(baseUrl: string, id: string, expiresAt: number, keys: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${signApprovalId(id, expiresAt, keys)}`;
}

/**
 * The request of a gate, recorded once: its id comes from the execution and the environment, so a retried
 * invocation finds it, and a run resumed at its gate (a new task token) keeps it, with its id and its link, by
 * giving it the new token. A gate whose request was decided or expired already (a redriven run asks again) gets a
 * new one, whose id also covers the token.
 */
async function recordOnce(
  record: ApprovalRecord,
  deps: RequestDeps,
): Promise<{ stored: ApprovalRecord; created: boolean }> {
  if (await deps.store.create(record)) return { stored: record, created: true };
  const existing = await deps.store.get(record.id);
  if (!existing || existing.taskToken === record.taskToken) return { stored: existing ?? record, created: false };
  if (existing.status === 'waiting' && (await deps.store.retoken(record.id, record.taskToken, deps.now()))) {
    return { stored: { ...existing, taskToken: record.taskToken }, created: false };
  }
  const again: ApprovalRecord = {
    ...record,
    id: approvalIdFor(`${record.executionArn}|${record.environment}|${record.taskToken}`, deps.keys),
  };
  if (await deps.store.create(again)) return { stored: again, created: true };
  return { stored: (await deps.store.get(again.id)) ?? again, created: false };
}

/**
 * Records the request (once per gate, see `recordOnce`), then posts `stepline/deploy/<env>` pending "waiting for
 * approval" with the link (and, on GitHub, a pending deployment).
 */
export async function requestApproval(event: ApprovalTaskEvent, deps: RequestDeps): Promise<ApprovalTaskResult> {
  if (typeof event.taskToken !== 'string' || event.taskToken.length === 0) {
    throw new ApprovalRequestError('approval task event: taskToken is missing');
  }
  const env = event.route?.environments?.find((e) => e.name === event.environment);
  if (!env) {
    throw new ApprovalRequestError(`approval task event: environment "${event.environment}" is not in the route`);
  }
  if (!env.approval) {
    throw new ApprovalRequestError(`approval task event: environment "${event.environment}" asks for no approval`);
  }
  const now = deps.now();
  const id = approvalIdFor(`${event.executionArn}|${env.name}`, deps.keys);
  const request = event.request;
  const record: ApprovalRecord = {
    id,
    taskToken: event.taskToken,
    executionArn: event.executionArn,
    provider: request.provider,
    repository: request.repository.fullName,
    commitSha: request.pullRequest?.head.sha ?? request.commit.sha,
    commitMessage: request.commit.message?.split('\n')[0]?.slice(0, 200) ?? null,
    commitUrl: request.commit.url,
    ref: request.ref.name,
    environment: env.name,
    approvers: [...env.approval.approvers],
    image: event.image ?? null,
    tests: [...(event.tests ?? [])],
    requestedAt: iso(now),
    expiresAt: now + env.approval.timeoutSeconds,
    status: 'waiting',
    decidedBy: null,
    decidedAt: null,
    reason: null,
    author: request.sender?.login && request.sender.login !== 'unknown' ? request.sender.login : null,
    allowSelfApproval: env.approval.allowSelfApproval === true,
  };
  const { stored, created } = await recordOnce(record, deps);
  const url = approvalUrl(deps.baseUrl, stored.id, stored.expiresAt, deps.keys);
  if (stored.status === 'waiting') {
    await deps.postStatus({
      request,
      route: event.route,
      executionArn: event.executionArn,
      step: 'approval',
      environment: env.name,
      state: 'pending',
      detail: { approval: { outcome: 'waiting', url, expiresAt: iso(stored.expiresAt) } },
    });
  }
  return { approvalId: stored.id, url, expiresAt: iso(stored.expiresAt), existing: !created };
}

/** Why a link cannot be used, with the record where there is one. */
export type LinkProblem =
  | { readonly kind: 'malformed' }
  | { readonly kind: 'forged' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'expired'; readonly record: ApprovalRecord | null }
  | { readonly kind: 'decided'; readonly record: ApprovalRecord };

export type ApprovalView =
  | LinkProblem
  | {
      readonly kind: 'open';
      readonly record: ApprovalRecord;
      readonly person: Person | null;
      /** Null when the person may decide. */
      readonly refusal: Refusal | null;
    };

/** Who is looking or deciding, as the front door established it. */
export interface Viewer {
  readonly person: Person | null;
  /** Team entries checked at sign-in, and whether the person belongs to each. */
  readonly teams?: Readonly<Record<string, boolean>>;
}

/** Finds the request of a signed link, or says why the link cannot be used. */
export async function resolveLink(
  signed: string,
  deps: ApprovalDeps,
): Promise<LinkProblem | { kind: 'ok'; record: ApprovalRecord }> {
  const verified = verifyApprovalId(signed, deps.keys);
  if (!verified.ok) return { kind: verified.reason };
  const record = await deps.store.get(verified.id);
  if (!record) return verified.expiresAt <= deps.now() ? { kind: 'expired', record: null } : { kind: 'unknown' };
  const access = accessOf(record, deps.now());
  if (access.kind === 'decided') return access;
  if (access.kind === 'expired') return { kind: 'expired', record };
  return { kind: 'ok', record };
}

/** What the page shows for a link. */
export async function viewApproval(signed: string, viewer: Viewer, deps: ApprovalDeps): Promise<ApprovalView> {
  const resolved = await resolveLink(signed, deps);
  if (resolved.kind !== 'ok') return resolved;
  const { record } = resolved;
  return {
    kind: 'open',
    record,
    person: viewer.person,
    refusal: refusalOf(gateOf(record), viewer.person, viewer.teams),
  };
}

export type DecisionResult =
  | LinkProblem
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'forbidden'; readonly record: ApprovalRecord; readonly refusal: Refusal }
  | { readonly kind: 'approved' | 'rejected'; readonly record: ApprovalRecord }
  | { readonly kind: 'retry'; readonly reason: string };

export interface DecisionInput extends Viewer {
  readonly signedId: string;
  readonly action: string | undefined;
  readonly reason?: string;
}

/** The rules of a gate, from its record. */
export function gateOf(record: ApprovalRecord) {
  return { approvers: record.approvers, author: record.author ?? null, allowSelfApproval: record.allowSelfApproval };
}

/**
 * Decides a request: checks the link, the approver, records the decision once (conditional write), then tells
 * Step Functions. When Step Functions says the task no longer waits, the request is marked expired; when it
 * cannot be reached, the decision is undone so that the approver can try again.
 */
export async function decideApproval(input: DecisionInput, deps: DecideDeps): Promise<DecisionResult> {
  if (input.action !== 'approve' && input.action !== 'reject') {
    return { kind: 'invalid', message: 'the form must say decision=approve or decision=reject' };
  }
  const resolved = await resolveLink(input.signedId, deps);
  if (resolved.kind !== 'ok') return resolved;
  const { record } = resolved;
  const refusal = refusalOf(gateOf(record), input.person, input.teams);
  if (refusal) return { kind: 'forbidden', record, refusal };

  const now = deps.now();
  const reason = input.reason?.trim().slice(0, 500) || null;
  const decision: ApprovalDecision = {
    status: input.action === 'approve' ? 'approved' : 'rejected',
    by: input.person?.login ?? 'anonymous',
    at: iso(now),
    reason,
  };
  if (!(await deps.store.decide(record.id, decision, now))) {
    const current = await deps.store.get(record.id);
    if (current && (current.status === 'approved' || current.status === 'rejected')) {
      return { kind: 'decided', record: current };
    }
    return { kind: 'expired', record: current };
  }
  const outcome =
    decision.status === 'approved'
      ? await deps.callbacks.succeed(record.taskToken, {
          approved: true,
          environment: record.environment,
          approvedBy: decision.by,
          approvedAt: decision.at,
        })
      : await deps.callbacks.fail(record.taskToken, APPROVAL_REJECTED_ERROR, {
          environment: record.environment,
          rejectedBy: decision.by,
          reason: reason ?? 'no reason given',
          rejectedAt: decision.at,
        });
  if (outcome.kind === 'gone') {
    await deps.store.expire(record.id);
    return { kind: 'expired', record: { ...record, status: 'expired' } };
  }
  if (outcome.kind === 'retry') {
    await deps.store.reopen(record.id, decision);
    return { kind: 'retry', reason: outcome.reason };
  }
  const decided: ApprovalRecord = {
    ...record,
    status: decision.status,
    decidedBy: decision.by,
    decidedAt: decision.at,
    reason: decision.reason,
  };
  return { kind: decision.status, record: decided };
}

export interface KeepDeps {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

/** What one run of the keeper did. */
export interface KeepResult {
  /** Requests whose task was heartbeaten. */
  readonly kept: number;
  /** Requests whose task no longer waits (timed out, stopped, answered elsewhere): marked expired. */
  readonly gone: number;
  /** Heartbeats that failed for another reason (throttling, an outage): tried again at the next run. */
  readonly failed: number;
  /** The reasons of the failures, one per failed request, without tokens. */
  readonly reasons: readonly string[];
}

/**
 * One run of the keeper: heartbeat the task of every request that waits, so the workflow's `HeartbeatSeconds`
 * ends only gates whose request is lost. A request whose task is gone is marked expired, which also closes its page.
 */
export async function keepApprovalsAlive(deps: KeepDeps): Promise<KeepResult> {
  const waiting = await deps.store.listWaiting(deps.now());
  let kept = 0;
  let gone = 0;
  const reasons: string[] = [];
  for (const record of waiting) {
    const outcome = await deps.callbacks.heartbeat(record.taskToken);
    if (outcome.kind === 'ok') kept += 1;
    else if (outcome.kind === 'gone') {
      await deps.store.expire(record.id);
      gone += 1;
    } else reasons.push(`${record.id}: ${outcome.reason}`);
  }
  return { kept, gone, failed: reasons.length, reasons };
}
