import type { Provider } from '../config/schema';
import type { ParkedDelivery } from '../contracts/parking';
import type { Incident } from '../insight/contracts';
import type { CommentCommand } from './comments';
import type { RerunRequest } from './rerun';
import type { ExecutionInput, PipelineRequest } from './types';

/**
 * The ports of the intake: what it needs from the world, declared here and implemented in adapters/ (aws/ and
 * local/). The webhook function's factory takes them, so that tests and the local runtime pass their own.
 */

/** The secrets one provider's deliveries may be signed with. */
export interface WebhookSecrets {
  readonly current: string;
  /** The secret being rotated out, still accepted; null when no rotation is under way. */
  readonly previous: string | null;
}

export interface WebhookSecretSource {
  /**
   * The secrets for a provider; null when none is configured for it (its deliveries are then refused with 401).
   * Throws `SecretsUnavailableError` when the secrets cannot be read.
   */
  get(provider: Provider): Promise<WebhookSecrets | null>;
}

export interface StartRequest {
  /** The execution name (see `executionName`): the same for a redelivery. */
  readonly name: string;
  readonly input: ExecutionInput;
  /** `input` already serialized, when the caller has it (the starter then sends it as is). */
  readonly inputJson?: string;
}

export type StartResult =
  | { readonly outcome: 'started'; readonly executionArn: string }
  /** An execution of this name exists already: the delivery was seen before. */
  | { readonly outcome: 'duplicate'; readonly executionArn: string };

export interface WorkflowStarter {
  /**
   * Starts the pipeline execution. Answers `duplicate` when an execution of that name exists; throws
   * `WorkflowUnavailableError` when it cannot start it after its own retries.
   */
  start(request: StartRequest): Promise<StartResult>;
}

export interface ParkingQueue {
  /** Stores the delivery durably for a later replay. Throws `ParkingError` when it cannot. */
  park(delivery: ParkedDelivery): Promise<void>;
}

/** A parking queue that can also be drained in process (the local runtime's store; SQS drives replay on AWS). */
export interface ParkingStore extends ParkingQueue {
  /** The oldest parked deliveries first. */
  list(limit: number): Promise<readonly ParkedDelivery[]>;
  /** Removes a delivery once it has been started (or found started already). */
  remove(name: string): Promise<void>;
  /** Records a failed replay: the delivery stays parked. */
  recordFailure(name: string, reason: string): Promise<void>;
}

/**
 * Starts a re-run that GitHub's "Re-run" asked for (core/intake/rerun.ts): the input of `request.executionArn`
 * (DescribeExecution) as a new execution named `name` (StartExecution); `duplicate` when that name exists. Throws
 * when it cannot (the delivery is then answered 503).
 */
export interface RerunStarter {
  rerun(request: RerunRequest, name: string): Promise<StartResult>;
}

/** What a `CommitResolver` is asked: an abbreviated commit of a repository, with the request it came in. */
export interface CommitQuery {
  readonly provider: Provider;
  /** The repository the commit lives in (a pull request's source repository). */
  readonly repository: string;
  /** The abbreviated hash, as the delivery gave it. */
  readonly commit: string;
  readonly request: PipelineRequest;
}

/**
 * Resolves an abbreviated commit hash to the full one (Bitbucket's pull request events carry 12 hex digits):
 * through the host's commit API on AWS, through the repository itself where it is on this machine (the local
 * runtime). See core/intake/commits.ts and docs/adr/0090.
 */
export interface CommitResolver {
  /** The full SHA, or null when the host does not know the commit. Throws when the host cannot be asked now. */
  resolve(query: CommitQuery): Promise<string | null>;
}

/**
 * Where the incidents that issue events describe are written (ADR 0099): the deployments store, DynamoDB on AWS
 * (PutItem only) and the runtime's SQLite file locally. Throws when it cannot; the delivery is then answered 503.
 */
export interface IncidentSink {
  putIncident(incident: Incident): Promise<void>;
}

/**
 * Where a comment command goes to be decided (docs/adr/0039): the approval function's queue on AWS, the function
 * itself locally. Throws when it cannot take the command; the delivery is then answered 503.
 */
export interface ApprovalCommandQueue {
  submit(command: CommentCommand): Promise<void>;
}
