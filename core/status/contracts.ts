import type { Provider } from '../config/schema';
import type { PipelineRequest, Route } from '../intake/types';

/**
 * The contracts of the status functions: what the workflow (and the event rules) hand to `functions/status`,
 * `functions/build-events` and `functions/execution-events`, what they answer, and the names of the environment
 * variables they read. The workflow definition, the CDK constructs and the local runtime all build on these
 * shapes; change them only together.
 *
 * Status reporting never fails the pipeline: every function here answers normally even when no status could be
 * delivered, and says so in its result (and in a log line and a metric).
 */

/** A step of the pipeline that has a status of its own on the commit. */
export type PipelineStep = 'pipeline' | 'build' | 'test' | 'approval' | 'deploy';

/**
 * The state of a step, in Stepline's words. Each host has its own vocabulary (see `core/status/hosts.ts`):
 *
 * | Stepline  | GitHub status | GitHub deployment | GitLab   | Bitbucket  |
 * | --------- | ------------- | ----------------- | -------- | ---------- |
 * | pending   | pending       | queued / pending  | pending  | INPROGRESS |
 * | running   | pending       | in_progress       | running  | INPROGRESS |
 * | success   | success       | success           | success  | SUCCESSFUL |
 * | failure   | failure       | failure           | failed   | FAILED     |
 * | cancelled | error         | error             | canceled | STOPPED    |
 * | skipped   | success       | (none)            | success  | SUCCESSFUL |
 *
 * `skipped` is reported as a success so that required checks never wait for a run that path filters skipped.
 */
export type StepState = 'pending' | 'running' | 'success' | 'failure' | 'cancelled' | 'skipped';

/** Which step of a run failed, so that the final report can name it. */
export interface FailedStep {
  readonly step: Exclude<PipelineStep, 'pipeline'>;
  readonly suite?: string;
  readonly environment?: string;
}

/** What an approval gate came to, for `step: 'approval'` events. */
export interface ApprovalDetail {
  /**
   * `waiting`: the request is open (state `pending`); the others end the gate. `lost`: its keeper stopped
   * heartbeating it (the request can no longer be answered), ADR 0036.
   */
  readonly outcome: 'waiting' | 'approved' | 'rejected' | 'timed-out' | 'lost';
  /** The page where the approver decides (state `pending`): becomes the status's link. */
  readonly url?: string;
  /** Who decided. */
  readonly by?: string;
  /** When a waiting request expires (ISO 8601). */
  readonly expiresAt?: string;
}

/** Optional facts about a step that make its description useful ("build failed in phase BUILD: exit 2"). */
export interface StepDetail {
  /** The CodeBuild phase the step is in, or failed in (`INSTALL`, `BUILD`, ...). */
  readonly phase?: string;
  /** The exit code of the failing command, when known. */
  readonly exitCode?: number;
  /** A short human reason: "superseded by 1a2b3c4", "rollout timed out; rolled back", "no changes under api/**". */
  readonly reason?: string;
  /** A link to the step's logs (CodeBuild's CloudWatch deep link, the local build log). Build and test statuses link here. */
  readonly logUrl?: string;
  /** For `step: 'pipeline'`, state `failure`: the step that failed. */
  readonly failedStep?: FailedStep;
  /** For `step: 'approval'`. */
  readonly approval?: ApprovalDetail;
  /**
   * For `step: 'test'`: the failed tests at file and line, from the suite's JUnit reports. A GitHub App shows them as
   * annotations of the suite's check run (ADR 0091); commit statuses have no place for them.
   */
  readonly failures?: readonly {
    readonly path: string;
    readonly line: number;
    readonly message: string;
    readonly title?: string;
  }[];
  /**
   * For a final pipeline report (`success`, `failure`, `cancelled`): the build and test results the run knows.
   * Their contexts are normally settled by CodeBuild's own events (`functions/build-events`), which can arrive
   * after the final report or not at all; the final report settles every one of them that is still open, before it
   * closes what is left, so a suite that passed never ends "stopped".
   */
  readonly finished?: readonly FinishedStep[];
}

/** A build or test result the workflow knows, as a final report carries it (see `StepDetail.finished`). */
export interface FinishedStep {
  readonly step: 'build' | 'test';
  /** Required for `test`. */
  readonly suite?: string;
  readonly state: 'success' | 'failure';
  readonly phase?: string;
  readonly exitCode?: number;
  /** Why it failed, where no exit status says it (a source CodeBuild could not fetch). */
  readonly reason?: string;
  readonly logUrl?: string;
}

/**
 * The event of `functions/status`: the workflow invokes it (Lambda invoke, not `.waitForTaskToken`) at each step.
 *
 * Contexts (GitHub `context`, GitLab `name`, Bitbucket `name`; Bitbucket's `key` is derived from it):
 * - `step: 'pipeline'` → `stepline` (the overall status); with state `skipped`, every context the route declares;
 * - `step: 'build'` → `stepline/build`;
 * - `step: 'test'` (with `suite`) → `stepline/test/<suite>`;
 * - `step: 'approval'` and `step: 'deploy'` (with `environment`) → `stepline/deploy/<environment>`; on GitHub
 *   also a Deployment of the commit to that environment and its deployment statuses.
 *
 * A final pipeline report in state `failure` or `cancelled` also closes every context of the run that is still
 * pending on the commit (read back from the host), so that no commit is left pending.
 */
export interface StatusEvent {
  readonly request: PipelineRequest;
  readonly route: Route;
  /** The execution's ARN: the target URL links to it. Null only for a run that never started (path filters). */
  readonly executionArn: string | null;
  readonly step: PipelineStep;
  /** Required for `step: 'test'`. */
  readonly suite?: string;
  /** Required for `step: 'approval'` and `step: 'deploy'`. */
  readonly environment?: string;
  readonly state: StepState;
  readonly detail?: StepDetail;
}

/** What happened to one status (or deployment status) that the function tried to post. */
export interface DeliveryOutcome {
  /** The context (GitHub), name (GitLab, Bitbucket), or `deployment:<environment>` for a GitHub deployment status. */
  readonly context: string;
  /** The host's state that was sent (`pending`, `failed`, `SUCCESSFUL`, `in_progress`, ...). */
  readonly state: string;
  /**
   * `delivered`: the host accepted it. `unchanged`: the host already had it (GitLab refuses a transition to the
   * state a status is already in). `failed`: it could not be delivered after the retries; see `error`.
   */
  readonly outcome: 'delivered' | 'unchanged' | 'failed';
  /** The host's last HTTP status, when there was an answer. */
  readonly httpStatus?: number;
  /** Why it failed, in a few words (never a token or a body). */
  readonly error?: string;
}

/** The result of `functions/status` (and of the two event functions): always returned, never thrown. */
export interface StatusResult {
  readonly provider: Provider;
  readonly repository: string;
  readonly sha: string;
  readonly outcomes: readonly DeliveryOutcome[];
  /** Counts of `outcomes` by outcome. */
  readonly delivered: number;
  readonly failed: number;
  /** The GitHub deployment the event created or updated, if any. */
  readonly deploymentId?: number;
  /** Set when nothing was posted on purpose, with the reason ("no token for gitlab", "status reporting disabled"). */
  readonly skippedReason?: string;
}

/**
 * The least a status needs to know about the commit: what the workflow's build environment variables carry
 * (see `BUILD_ENV`), and what `subjectOf(request)` makes of a `PipelineRequest`.
 */
export interface StatusSubject {
  readonly provider: Provider;
  /** `owner/name`, GitLab `group/sub/name`, Bitbucket `workspace/slug`. */
  readonly repository: string;
  readonly sha: string;
  /** Branch or tag name (`main`, `v1.2.0`); for a pull request, its source branch. */
  readonly ref: string;
  /**
   * The same ref in full (`refs/heads/main`, `refs/tags/v1.2.0`), when known: GitLab refuses a short ref that
   * names both a branch and a tag ("Ref is ambiguous"), and then takes the full one.
   */
  readonly fullRef?: string | null;
  /** The pull request's number, when the run is for one. */
  readonly pullRequest: number | null;
}

/**
 * The environment variables the workflow sets on every CodeBuild build it starts (`EnvironmentVariablesOverride`,
 * type PLAINTEXT), so that `functions/build-events` can tell which run and which step a CodeBuild event is about.
 * None of them is secret. When `STEPLINE_PROVIDER`, `STEPLINE_REPOSITORY` or `STEPLINE_COMMIT` is missing, the
 * function reads them from the execution's input with `DescribeExecution` (ADR 0031).
 */
export const BUILD_ENV = {
  /** Required: the ARN of the pipeline execution that started the build. */
  executionArn: 'STEPLINE_EXECUTION_ARN',
  /** Required: `build` or `test`. */
  step: 'STEPLINE_STEP',
  /** Required for `test`: the suite's name. */
  suite: 'STEPLINE_SUITE',
  /** `github` | `gitlab` | `bitbucket`. */
  provider: 'STEPLINE_PROVIDER',
  /** The repository's full name. */
  repository: 'STEPLINE_REPOSITORY',
  /** The commit SHA (40 hex digits). */
  commit: 'STEPLINE_COMMIT',
  /** The branch or tag name (for a pull request, its source branch). */
  ref: 'STEPLINE_REF',
  /** The pull request's number, when the run is for one. */
  pullRequest: 'STEPLINE_PULL_REQUEST',
} as const;

/**
 * The environment variables of the status functions (`functions/status`, `functions/build-events`,
 * `functions/execution-events`) and of the approval task function, which posts statuses too. The CDK constructs
 * set them; `functions/status/settings.ts` reads them, the one reader those functions share; the local runtime
 * reads the same names from its own environment.
 */
export const STATUS_ENV = {
  /** `aws` (default) or `local`: which console the status links point to. */
  consoleKind: 'STEPLINE_CONSOLE',
  /** For `local`: the local console's base URL, e.g. `http://127.0.0.1:8080`. */
  consoleUrl: 'STEPLINE_CONSOLE_URL',
  /** For `aws`: the region of the executions; default `AWS_REGION`. */
  region: 'AWS_REGION',
  /**
   * The base URL of the platform's redirect route to a run (`GET <base>/runs/{name}`), for statuses whose console
   * link is longer than the host takes (GitLab: 255 characters). Unset: such a status goes without a link.
   */
  runLinkUrl: 'STEPLINE_RUN_LINK_URL',
  /** For the redirect route's function: the ARN of the pipeline state machine whose executions it links to. */
  runLinkStateMachineArn: 'STEPLINE_RUN_LINK_STATE_MACHINE_ARN',
  /** Context prefix, default `stepline`: two installations on one repository can report side by side. */
  contextPrefix: 'STEPLINE_STATUS_CONTEXT',
  /** API base URLs. Defaults: `https://api.github.com`, `https://gitlab.com/api/v4`, `https://api.bitbucket.org/2.0`. */
  githubApiUrl: 'STEPLINE_GITHUB_API_URL',
  gitlabApiUrl: 'STEPLINE_GITLAB_API_URL',
  bitbucketApiUrl: 'STEPLINE_BITBUCKET_API_URL',
  /**
   * Secrets Manager secret (ARN or name) holding the Git host tokens as JSON (see `adapters/githost/tokens.ts`):
   * `{"github": "ghp_…", "gitlab": {"token": "glpat-…", "scheme": "private-token"}, "bitbucket": {"username": "…", "appPassword": "…"}}`.
   */
  tokensSecret: 'STEPLINE_GITHOST_TOKENS_SECRET',
  /** Without a secret: the tokens from the environment (local runtime, tests). */
  githubToken: 'STEPLINE_GITHUB_TOKEN',
  gitlabToken: 'STEPLINE_GITLAB_TOKEN',
  bitbucketToken: 'STEPLINE_BITBUCKET_TOKEN',
  /**
   * A GitHub App instead of a GitHub token (ADR 0091): its id and PEM private key. Statuses then go through the
   * Checks API. In the secret: `{"github": {"appId": "123456", "privateKey": "-----BEGIN RSA PRIVATE KEY-----…"}}`.
   */
  githubAppId: 'STEPLINE_GITHUB_APP_ID',
  githubAppPrivateKey: 'STEPLINE_GITHUB_APP_PRIVATE_KEY',
  /** Bitbucket app password: with `STEPLINE_BITBUCKET_USERNAME`, sent as Basic auth. */
  bitbucketUsername: 'STEPLINE_BITBUCKET_USERNAME',
  bitbucketAppPassword: 'STEPLINE_BITBUCKET_APP_PASSWORD',
  /** Per-request timeout in ms (default 5000), retries after the first try (default 3), longest wait honoured (default 20000). */
  httpTimeoutMs: 'STEPLINE_GITHOST_TIMEOUT_MS',
  httpRetries: 'STEPLINE_GITHOST_RETRIES',
  maxRetryWaitMs: 'STEPLINE_GITHOST_MAX_WAIT_MS',
  /** Powertools: the metrics namespace (default `Stepline`) and service name. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Metric names the status functions emit (Powertools, namespace `Stepline`, dimension `provider`). */
export const STATUS_METRICS = {
  delivered: 'StatusDelivered',
  failed: 'StatusDeliveryFailed',
  skipped: 'StatusSkipped',
} as const;

/** The `detail-type`s of the EventBridge events the two event functions take. */
export const CODEBUILD_DETAIL_TYPES = ['CodeBuild Build Phase Change', 'CodeBuild Build State Change'] as const;
export const EXECUTION_DETAIL_TYPE = 'Step Functions Execution Status Change';

/** One CodeBuild environment variable, as the events list them. */
export interface CodeBuildEventVariable {
  readonly name: string;
  readonly type?: string;
  readonly value: string;
}

/** One phase of a build, as `additional-information.phases` lists them. */
export interface CodeBuildEventPhase {
  readonly 'phase-type': string;
  readonly 'phase-status'?: string;
  readonly 'phase-context'?: readonly string[];
  readonly 'start-time'?: string;
  readonly 'end-time'?: string;
  readonly 'duration-in-seconds'?: number;
}

/**
 * The `detail` of CodeBuild's "Build Phase Change" and "Build State Change" events (source `aws.codebuild`), the
 * fields this code reads. Phase changes carry `completed-phase*`; state changes carry `current-phase*`.
 */
export interface CodeBuildEventDetail {
  readonly 'build-status': string;
  readonly 'project-name': string;
  readonly 'build-id': string;
  readonly 'completed-phase'?: string;
  readonly 'completed-phase-status'?: string;
  readonly 'completed-phase-context'?: string;
  readonly 'current-phase'?: string;
  readonly 'current-phase-context'?: string;
  readonly 'additional-information'?: {
    readonly 'build-complete'?: boolean;
    readonly environment?: { readonly 'environment-variables'?: readonly CodeBuildEventVariable[] };
    readonly logs?: { readonly 'deep-link'?: string; readonly 'group-name'?: string; readonly 'stream-name'?: string };
    readonly phases?: readonly CodeBuildEventPhase[];
  };
}

/** An EventBridge event, as Lambda receives it from a rule. */
export interface EventBridgeEnvelope<TType extends string, TDetail> {
  readonly version?: string;
  readonly id: string;
  readonly 'detail-type': TType;
  readonly source: string;
  readonly account?: string;
  readonly time: string;
  readonly region: string;
  readonly resources?: readonly string[];
  readonly detail: TDetail;
}

export type CodeBuildEvent = EventBridgeEnvelope<(typeof CODEBUILD_DETAIL_TYPES)[number], CodeBuildEventDetail>;

/**
 * The `detail` of Step Functions' "Step Functions Execution Status Change" event (source `aws.states`).
 * `input` is the execution's input as a JSON string; it is null when it was too large for the event
 * (`inputDetails.included: false`), and then the function reads it with `DescribeExecution`.
 */
export interface ExecutionEventDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | string;
  readonly startDate?: number;
  readonly stopDate?: number | null;
  readonly input?: string | null;
  readonly inputDetails?: { readonly included: boolean };
  readonly output?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
}

export type ExecutionEvent = EventBridgeEnvelope<typeof EXECUTION_DETAIL_TYPE, ExecutionEventDetail>;

/** The result of `functions/build-events` and `functions/execution-events`: a `StatusResult`, or why none. */
export type EventResult = StatusResult | { readonly ignored: string };
