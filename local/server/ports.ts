import type { ApprovalRecord } from '../../core/approval/contracts';
import type { DecisionResult } from '../../core/approval/service';
import { SteplineError } from '../../core/errors';
import type { StartResult } from '../../core/intake/ports';
import type { ExecutionInput } from '../../core/intake/types';

/**
 * What the runtime API (`api.ts`) calls that the server does not own: the approval desk and the runs started by
 * hand, declared here as the server needs them. The runtime composes both and hands them in (local/runtime's
 * `ApprovalDesk` and `ManualRuns` satisfy these shapes); the server never imports the runtime (ADR 0105).
 */

/** An approval request as the API shows it: never its task token, with its page's signed link. */
export type ApprovalView = Omit<ApprovalRecord, 'taskToken'> & { readonly url: string };

/** The approvals as the console and the CLI see and decide them. */
export interface ApprovalsPort {
  /** Whom the console and the CLI decide as. */
  readonly identity: string;
  /** Changes the local identity; throws `TypeError` for something that is not a login. */
  setIdentity(login: string): string;
  /** Requests, newest first; only those of one status or execution when asked. */
  list(filter?: { status?: string; executionArn?: string }): Promise<ApprovalView[]>;
  get(id: string): Promise<ApprovalView | undefined>;
  decide(
    id: string,
    input: { action: string; as?: string | null; reason?: string },
  ): Promise<DecisionResult | { kind: 'unknown' }>;
}

/** A run by hand that cannot be started as asked: `code` is the HTTP status the API answers (404, 400, 409, 422). */
export class RunRefusedError extends SteplineError {
  public constructor(
    public readonly code: 'not_found' | 'invalid' | 'conflict' | 'ignored',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RunRefusedError';
  }
}

/** What a person asks for. */
export interface RunRequest {
  /** `owner/name`, or `provider:owner/name` where two providers configure the same name. */
  readonly repository: string;
  /** A branch, a tag, or a commit SHA (7 to 40 hex digits). */
  readonly ref: string;
  /** The commit to build; default: where `ref` points now (`git ls-remote`). */
  readonly sha?: string;
  /** With a SHA as `ref`: the branch or tag to route it as. Default: a branch whose head it is, else the default branch. */
  readonly routeAs?: string;
  /** Only these environments of the route, in the route's order. */
  readonly environments?: readonly string[];
  /** Who starts it (the run's sender: they may not approve its gates unless the environment allows it). */
  readonly by: string;
  /** Where the repository is cloned from. Default: the last run's, else the host's HTTPS URL. */
  readonly cloneUrl?: string;
}

/** A run by hand, started (or found started already: a redelivery). */
export interface StartedRun {
  readonly outcome: StartResult['outcome'];
  readonly executionArn: string;
  readonly name: string;
  readonly input: ExecutionInput;
}

/** Runs started by hand: `stepline run`, the console's Run and Re-run. */
export interface RunsPort {
  run(request: RunRequest): Promise<StartedRun>;
  rerun(executionArn: string, options: { readonly by: string; readonly fromFailed?: boolean }): Promise<StartedRun>;
}
