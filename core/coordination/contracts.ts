/**
 * Run coordination: which run of a branch is the newest (supersede), and who may deploy to an environment now
 * (one deployment at a time, never an older commit over a newer one).
 *
 * Every run gets a sequence number when it registers, in the order the deliveries were accepted for its
 * repository. A newer run of the same concurrency key (provider, repository, ref) supersedes the older one as long
 * as that one has not started deploying. An environment remembers the sequence of the last run that deployed to
 * it; a run with a lower sequence is overtaken and never deploys there.
 */

/** What the workflow sends when a run starts. */
export interface RegisterRequest {
  readonly action: 'register';
  readonly executionArn: string;
  /** Route.concurrencyKey: `<provider>:<repository>:<full ref>`. */
  readonly concurrencyKey: string;
  /** `<provider>:<repository>`: sequences are ordered per repository. */
  readonly repositoryKey: string;
  /** Milliseconds since the epoch; tests and the local runtime pass their clock. */
  readonly now?: number;
}

export interface RegisterResult {
  readonly sequence: number;
  /**
   * The older run of the same key that this one supersedes and that has not started deploying: the caller
   * stops it. Null when there is none.
   */
  readonly superseded: { readonly executionArn: string; readonly sequence: number } | null;
}

/** The gate before an environment: take its deploy lock. */
export interface EnterRequest {
  readonly action: 'enter';
  readonly executionArn: string;
  readonly sequence: number;
  readonly concurrencyKey: string;
  /** `<provider>:<repository>:<environment>`. */
  readonly environmentKey: string;
  /** Whether this is the first environment of the run: only then can the run still be superseded. */
  readonly first: boolean;
  /** How long the lock is held at most before another run may take it (the environment's deadline and a margin). */
  readonly leaseSeconds: number;
  readonly now?: number;
}

export type EnterOutcome =
  /** The lock is this run's: deploy. */
  | { readonly outcome: 'acquired' }
  /** Another run holds the lock: try again later. */
  | { readonly outcome: 'busy'; readonly holder: string; readonly leaseExpiresAt: number }
  /** A newer run of the same branch exists and this one has not deployed anywhere: end cancelled. */
  | { readonly outcome: 'superseded'; readonly by: string }
  /** A newer run already deployed to this environment: end cancelled, never deploy the older commit over it. */
  | { readonly outcome: 'overtaken'; readonly by: string };

/** After an environment: release its lock; on success, the environment records this run as deployed. */
export interface LeaveRequest {
  readonly action: 'leave';
  readonly executionArn: string;
  readonly sequence: number;
  readonly environmentKey: string;
  readonly deployed: boolean;
  readonly now?: number;
}

export interface LeaveResult {
  /** False when the lock was not this run's any more (its lease expired and another run took it). */
  readonly released: boolean;
}

export type CoordinationRequest = RegisterRequest | EnterRequest | LeaveRequest;

/** The state of one concurrency key (a branch, a tag, a pull request) as the store keeps it. */
export interface KeyState {
  readonly latestSequence: number;
  readonly latestExecutionArn: string;
  /** Sequence of the newest run of this key that started deploying; 0 when none did. */
  readonly deployingSequence: number;
}

/** The state of one environment as the store keeps it. */
export interface EnvironmentState {
  readonly holder: string | null;
  readonly holderSequence: number;
  readonly leaseExpiresAt: number;
  readonly lastDeployedSequence: number;
  readonly lastDeployedExecutionArn: string | null;
}

export const EMPTY_ENVIRONMENT: EnvironmentState = {
  holder: null,
  holderSequence: 0,
  leaseExpiresAt: 0,
  lastDeployedSequence: 0,
  lastDeployedExecutionArn: null,
};

/**
 * The environment variables of `functions/coordination` (read by its settings module, set by the RunCoordination
 * construct). Its Step Functions client, which stops superseded runs, takes its endpoint from the SDK's own
 * variables; the local runtime builds its SQLite store and its client itself.
 */
export const COORDINATION_ENV = {
  /** DynamoDB table of run coordination; partition key `pk` (S). */
  table: 'STEPLINE_COORDINATION_TABLE',
} as const;

/** Error names `functions/coordination` throws; the workflow Retries or Catches on them. */
export const COORDINATION_ERRORS = {
  /** Another run holds the environment: Retry with backoff (the message names the holder). */
  environmentBusy: 'Stepline.EnvironmentBusy',
  /** The store changed under too many concurrent writers: Retry. */
  contention: 'CoordinationContention',
  /** The event is not a coordination request (a workflow definition error). */
  invalidRequest: 'CoordinationRequestInvalid',
  /** A newer run of the same branch exists and this one has not deployed anywhere: end cancelled. */
  superseded: 'Stepline.Superseded',
  /** A newer run already deployed to the environment: end cancelled, never deploy the older commit over it. */
  overtaken: 'Stepline.Overtaken',
} as const;

/** The error a superseded run is stopped with (StopExecution) or fails its environment gate with. */
export const SUPERSEDED_ERROR = COORDINATION_ERRORS.superseded;
