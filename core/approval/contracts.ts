import type { Provider } from '../config/schema';
import type { PipelineRequest, Route } from '../intake/types';

/**
 * The contracts of the approval gate (`functions/approval`): the event of the workflow's `.waitForTaskToken`
 * task, what the gate sends back to the workflow, the stored request, and the environment variables. The
 * workflow definition, the CDK construct and the local runtime build on these; change them only together.
 */

/** One test suite's result, as the approval page shows it. */
export interface ApprovalTestResult {
  readonly suite: string;
  readonly state: 'success' | 'failure' | 'skipped';
  readonly logUrl?: string;
}

/**
 * The payload of the approval task: `arn:aws:states:::lambda:invoke.waitForTaskToken` with
 * `Payload: { taskToken: $states.context.Task.Token, request, route, executionArn: $states.context.Execution.Id,
 * environment, image, tests }`. The task's `TimeoutSeconds` should be the environment's
 * `approval.timeoutSeconds`: the link expires at the same moment.
 */
export interface ApprovalTaskEvent {
  readonly taskToken: string;
  readonly request: PipelineRequest;
  readonly route: Route;
  readonly executionArn: string;
  /** The environment about to be deployed: one of `route.environments`, with an `approval`. */
  readonly environment: string;
  /** The image the build pushed. */
  readonly image?: { readonly uri?: string; readonly digest?: string };
  readonly tests?: readonly ApprovalTestResult[];
}

/** What the task function answers (Step Functions ignores it; tests and the local runtime read it). */
export interface ApprovalTaskResult {
  readonly approvalId: string;
  /** The approval page: `<STEPLINE_APPROVAL_URL>/approvals/<signed id>`. */
  readonly url: string;
  /** ISO 8601. */
  readonly expiresAt: string;
  /** Whether this invocation found the request already recorded (a retried invocation). */
  readonly existing: boolean;
}

/** The output the workflow's approval task gets on approval (`SendTaskSuccess`). */
export interface ApprovalGranted {
  readonly approved: true;
  readonly environment: string;
  readonly approvedBy: string;
  /** ISO 8601. */
  readonly approvedAt: string;
}

/** The error the approval task fails with on rejection (`SendTaskFailure`); its cause is `ApprovalRejectedCause` as JSON. */
export const APPROVAL_REJECTED_ERROR = 'Stepline.ApprovalRejected';

export interface ApprovalRejectedCause {
  readonly environment: string;
  readonly rejectedBy: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly rejectedAt: string;
}

export type ApprovalStatus = 'waiting' | 'approved' | 'rejected' | 'expired';

/** One approval request as the store keeps it. The task token never leaves the store but to Step Functions. */
export interface ApprovalRecord {
  readonly id: string;
  readonly taskToken: string;
  readonly executionArn: string;
  readonly provider: Provider;
  readonly repository: string;
  readonly commitSha: string;
  readonly commitMessage: string | null;
  readonly commitUrl: string | null;
  readonly ref: string;
  readonly environment: string;
  readonly approvers: readonly string[];
  readonly image: { readonly uri?: string; readonly digest?: string } | null;
  readonly tests: readonly ApprovalTestResult[];
  /** ISO 8601. */
  readonly requestedAt: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly status: ApprovalStatus;
  readonly decidedBy: string | null;
  /** ISO 8601. */
  readonly decidedAt: string | null;
  readonly reason: string | null;
  /** The login that pushed the commit (the delivery's sender); null when the host did not say. */
  readonly author?: string | null;
  /** Whether the author may decide their own deploy (the environment's `approval.allowSelfApproval`). */
  readonly allowSelfApproval?: boolean;
}

/** A decision to record: only a `waiting` request that has not expired takes one. */
export interface ApprovalDecision {
  readonly status: 'approved' | 'rejected';
  readonly by: string;
  /** ISO 8601. */
  readonly at: string;
  readonly reason: string | null;
}

/**
 * The store of approval requests (DynamoDB on AWS, SQLite locally). `decide` is the single-use guarantee: it
 * succeeds for one caller only, and only while the request waits and has not expired.
 */
export interface ApprovalStore {
  /** Records a new request; false when one with this id exists already (a retried task invocation). */
  create(record: ApprovalRecord): Promise<boolean>;
  /**
   * Gives a waiting, unexpired request the task token of a new attempt at the same gate (the run resumed after a
   * restart): the request keeps its id and its link. False when it does not wait any more.
   */
  retoken(id: string, taskToken: string, nowSeconds: number): Promise<boolean>;
  get(id: string): Promise<ApprovalRecord | null>;
  /** Moves a waiting, unexpired request to its decision; false when it is not waiting any more or has expired. */
  decide(id: string, decision: ApprovalDecision, nowSeconds: number): Promise<boolean>;
  /** Undoes `decide` when the workflow could not be told (throttled): the request waits again. */
  reopen(id: string, decision: ApprovalDecision): Promise<void>;
  /** Marks a request whose run no longer waits (timed out, stopped). */
  expire(id: string): Promise<void>;
  /** The requests that wait for a decision and have not expired at `nowSeconds` (the keeper heartbeats them). */
  listWaiting(nowSeconds: number): Promise<ApprovalRecord[]>;
}

/** How Step Functions is told: each answers `ok`, `gone` (the task no longer waits), or a reason to try again. */
export type CallbackOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'retry'; readonly reason: string };

export interface TaskCallbacks {
  succeed(taskToken: string, output: ApprovalGranted): Promise<CallbackOutcome>;
  fail(taskToken: string, error: string, cause: ApprovalRejectedCause): Promise<CallbackOutcome>;
  /** `SendTaskHeartbeat`: the request is still recorded and answerable. */
  heartbeat(taskToken: string): Promise<CallbackOutcome>;
}

/**
 * The gate's heartbeat (ADR 0036). The keeper (`functions/approval` `keeperHandler`) runs every
 * `intervalSeconds` and heartbeats every request that waits; the workflow's approval task sets `HeartbeatSeconds`
 * to `heartbeatSecondsFor(interval)`, so two missed runs of the keeper are tolerated and a gate whose request
 * nobody can answer any more (its record gone, the keeper failing) ends "approval lost" instead of waiting for days.
 */
export const APPROVAL_KEEPER = {
  /** The keeper's schedule on AWS. */
  awsIntervalSeconds: 300,
  /** The keeper's period in the local runtime. */
  localIntervalSeconds: 20,
} as const;

/** `HeartbeatSeconds` of the approval task for a keeper that runs every `intervalSeconds`. */
export function heartbeatSecondsFor(intervalSeconds: number): number {
  return intervalSeconds * 3;
}

/** The approvals table's sparse index of waiting requests: attribute `waiting` = "1" while a request waits. */
export const APPROVALS_WAITING_INDEX = 'waiting';

/** The error a gate ends with when the keeper stops heartbeating it (`States.HeartbeatTimeout` in the workflow). */
export const APPROVAL_LOST_ERROR = 'Stepline.ApprovalLost';

/** The environment variables of `functions/approval`. */
export const APPROVAL_ENV = {
  /**
   * DynamoDB table of approval requests (AWS); partition key `id` (S), TTL attribute `ttl`, and a sparse global
   * secondary index `APPROVALS_WAITING_INDEX` (partition key `waiting` (S), projection ALL) of the waiting ones.
   */
  table: 'STEPLINE_APPROVALS_TABLE',
  /** Public base URL of the approval pages: the HTTP API's URL on AWS, the local server's locally. */
  baseUrl: 'STEPLINE_APPROVAL_URL',
  /** Secrets Manager secret (ARN or name) with the signing keys: a string, or `{"current": "…", "previous": "…"}`. */
  keySecret: 'STEPLINE_APPROVAL_KEY_SECRET',
  /** Without a secret: the signing keys, comma-separated, current first (local runtime, tests). */
  keys: 'STEPLINE_APPROVAL_KEYS',
  /**
   * How the approver is identified: `sign-in` (default: the Git host's OAuth sign-in, `SIGN_IN_ENV`), or
   * `header` (a trusted header set by an authenticating proxy in front of the pages). The local runtime composes
   * its own (its local identity where no sign-in is set up).
   */
  identity: 'STEPLINE_APPROVER_IDENTITY',
  /** For `header`: the header name; default `x-forwarded-user`. */
  header: 'STEPLINE_APPROVER_HEADER',
  /**
   * The queue of comment commands (`/approve`, `/reject`; docs/adr/0039), which the webhook function sends each
   * verified command to and the approval commands function consumes. Set on the webhook function.
   */
  commandQueueUrl: 'STEPLINE_APPROVAL_COMMANDS_QUEUE_URL',
  /** Step Functions endpoint override (the local runtime's). */
  sfnEndpoint: 'SFN_ENDPOINT',
} as const;
