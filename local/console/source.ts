/**
 * `ConsoleDataSource`: everything the web console reads and does, as one small interface that the local runtime
 * implements (over its SQLite store, its CodeBuild, its approval desk) and that `engineConsoleSource` implements
 * directly over a local `Engine` (for tests, and as a base that the runtime can add to).
 *
 * Conventions:
 * - Times are ISO-8601 strings (they cross HTTP as they are).
 * - Executions are named by their ARN.
 * - Every read may be async; an unknown execution, build or approval answers `undefined`, never throws.
 * - The optional members are sections of the console: when a source has no builds (statuses, approvals,
 *   deployments), the console does not show that section.
 * - Actions throw a `ConsoleActionError` (errors.ts) with a code the HTTP layer turns into a status: `not_found`
 *   404, `conflict` 409 (stopping a finished run, redriving a running one), `forbidden` 403, `invalid` 400.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
];

/** What a pipeline execution builds: from its input (`request`), when it is a Stepline pipeline run. */
export interface PipelineContext {
  /** `github`, `gitlab`, `bitbucket`. */
  readonly provider: string | null;
  /** `owner/name`. */
  readonly repository: string | null;
  readonly repositoryUrl: string | null;
  /** `branch`, `tag` or `pull_request`. */
  readonly refKind: 'branch' | 'tag' | 'pull_request' | null;
  /** Branch or tag name; for a pull request, its head branch. */
  readonly ref: string | null;
  readonly pullRequest: { readonly number: number; readonly title: string; readonly url: string | null } | null;
  /** 40 hex digits. */
  readonly commit: string | null;
  readonly commitMessage: string | null;
  readonly commitUrl: string | null;
  readonly sender: string | null;
}

/** One row of the executions list (ListExecutions plus what the run builds). */
export interface ExecutionSummary extends PipelineContext {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: string;
  readonly stopDate: string | null;
  readonly redriveCount: number;
}

/** DescribeExecution, plus the pipeline context. Input and output are JSON text. */
export interface ExecutionDetail extends ExecutionSummary {
  readonly input: string;
  readonly output: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly redriveStatus: 'REDRIVABLE' | 'NOT_REDRIVABLE';
}

export interface ExecutionQuery {
  readonly status?: ExecutionStatus;
  /** `owner/name`, exactly. */
  readonly repository?: string;
  /** At most this many (the console asks for 50). */
  readonly limit: number;
  /** The `next` of the previous page. */
  readonly next?: string;
}

export interface ExecutionPage {
  /** Newest first. */
  readonly executions: readonly ExecutionSummary[];
  /** Opaque; null on the last page. */
  readonly next: string | null;
  /** The repositories that have executions, for the filter (all pages). */
  readonly repositories: readonly string[];
}

/** One event as GetExecutionHistory returns it (`timestamp` as an ISO string, details as in local/engine/types.ts). */
export interface HistoryEventJson {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: string;
  readonly type: string;
  readonly [details: string]: unknown;
}

export interface HistoryQuery {
  /** Only events with an id greater than this (default 0). */
  readonly after?: number;
  /** At most this many (the console asks for 1,000 at a time). */
  readonly limit: number;
}

export interface HistoryPage {
  /** Oldest first. */
  readonly events: readonly HistoryEventJson[];
  /** The execution's status when the page was read. */
  readonly status: ExecutionStatus;
  /** Whether events after the last one returned exist now. */
  readonly more: boolean;
}

export type BuildPhaseStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'IN_PROGRESS' | 'STOPPED' | null;

export interface BuildPhase {
  /** CodeBuild's phase names: SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD, BUILD, ... */
  readonly name: string;
  readonly status: BuildPhaseStatus;
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly durationSeconds: number | null;
  /** Messages CodeBuild attached to the phase (why it failed). */
  readonly messages: readonly string[];
}

export interface BuildSummary {
  readonly id: string;
  readonly projectName: string;
  /** `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `FAULT`, `STOPPED`, `TIMED_OUT`. */
  readonly status: string;
  /** The workflow state that started it (`Build`, `RunSuite`) and, for a test build, the suite. */
  readonly step: string | null;
  readonly suite: string | null;
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly phases: readonly BuildPhase[];
}

export interface BuildLog {
  readonly buildId: string;
  /** The phase asked for, or null for the whole log. */
  readonly phase: string | null;
  readonly text: string;
  /** Whether the build has ended (no more text will come). */
  readonly complete: boolean;
}

/** A commit status the run posted (to the local sink or a real host). */
export interface CommitStatusView {
  readonly context: string;
  /** The host's own word: `pending`, `success`, `failure`, `running`, `SUCCESSFUL`, ... */
  readonly state: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly createdAt: string;
}

export type ApprovalState = 'waiting' | 'approved' | 'rejected' | 'expired' | string;

/** An approval gate of a run. Never carries the task token. */
export interface ApprovalView {
  readonly id: string;
  readonly executionArn: string;
  readonly environment: string;
  readonly repository: string;
  readonly commitSha: string;
  readonly ref: string;
  readonly status: ApprovalState;
  readonly approvers: readonly string[];
  readonly requestedAt: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly reason: string | null;
  /** The signed approval page (approve/reject links), when there is one. */
  readonly url: string | null;
}

export interface ApprovalDecisionInput {
  readonly decision: 'approve' | 'reject';
  /**
   * Who decides: the name the console's header showed when the button was pressed; null for the source's own
   * identity. Checked against the gate's approvers by the source.
   */
  readonly by: string | null;
  readonly reason?: string;
}

/** What a run deployed (or was to deploy) to one environment, and where to look at it. */
export interface DeploymentView {
  readonly environment: string;
  /** `pending`, `deploying`, `deployed`, `failed`, `rolled back`, `skipped`. */
  readonly status: string;
  /** The environment's own URL (the service), from the configuration. */
  readonly url: string | null;
  readonly namespace: string | null;
  readonly cluster: string | null;
  /** The Kubernetes objects applied, each with a link (the API server's, kubectl's view) where there is one. */
  readonly objects: readonly { readonly kind: string; readonly name: string; readonly link: string | null }[];
}

/** A change the console shows live. Sources send as many as they like; the console coalesces them. */
export type ConsoleChange =
  | { readonly kind: 'execution'; readonly executionArn: string; readonly status?: ExecutionStatus }
  | { readonly kind: 'history'; readonly executionArn: string; readonly eventId: number }
  | { readonly kind: 'build'; readonly executionArn: string | null; readonly buildId: string }
  | { readonly kind: 'approval'; readonly executionArn: string | null; readonly approvalId: string }
  | { readonly kind: 'status'; readonly executionArn: string | null };

export interface ConsoleDataSource {
  /** Executions, newest first, filtered and paginated. */
  listExecutions(query: ExecutionQuery): Promise<ExecutionPage> | ExecutionPage;
  describeExecution(executionArn: string): Promise<ExecutionDetail | undefined> | ExecutionDetail | undefined;
  /** GetExecutionHistory, oldest first, from `after`. */
  getHistory(executionArn: string, query: HistoryQuery): Promise<HistoryPage | undefined> | HistoryPage | undefined;
  /** The definition the execution runs (after substitutions), parsed. */
  getDefinition(executionArn: string): Promise<unknown> | unknown;

  /** The builds a run started, oldest first. */
  listBuilds?(executionArn: string): Promise<readonly BuildSummary[]> | readonly BuildSummary[];
  /** A build's log, whole or of one phase. */
  getBuildLog?(buildId: string, phase: string | null): Promise<BuildLog | undefined> | BuildLog | undefined;
  /** The commit statuses a run posted, oldest first. */
  listStatuses?(executionArn: string): Promise<readonly CommitStatusView[]> | readonly CommitStatusView[];
  /** Approval gates: of one run, or all of one status (`waiting` for the pending ones). */
  listApprovals?(filter: {
    readonly executionArn?: string;
    readonly status?: string;
  }): Promise<readonly ApprovalView[]> | readonly ApprovalView[];
  /** What a run deployed, per environment. */
  listDeployments?(executionArn: string): Promise<readonly DeploymentView[]> | readonly DeploymentView[];

  /** StopExecution. */
  stopExecution(executionArn: string, details: { error?: string; cause?: string }): Promise<void> | void;
  /** RedriveExecution. */
  redriveExecution(executionArn: string): Promise<void> | void;
  /** Approve or reject a gate, as its page would. Answers the gate after the decision. */
  decideApproval?(id: string, input: ApprovalDecisionInput): Promise<ApprovalView> | ApprovalView;
  /** Whom this console decides as (the local runtime's one identity), shown in its header. */
  identity?(): string;
  /** Changes that identity; throws `ConsoleActionError('invalid', …)` for something that is not a login. */
  setIdentity?(login: string): string;

  /** Calls `listener` on every change; returns a function that stops it. */
  subscribe(listener: (change: ConsoleChange) => void): () => void;
}
