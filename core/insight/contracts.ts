import type { Provider } from '../config/schema';

/**
 * Delivery insight (ADR 0097): the records the four keys are computed from, the ports that keep and feed them, and
 * the names the functions, the CDK app and the local runtime share. A deployment record is written once per
 * environment per run, by the status function when the workflow reports that environment's end (success, or failure
 * with its reason); incidents come from the Git host's issues and, optionally, CloudWatch alarms.
 */

/** A commit and the time it was made (the committer date, as `git log --format=%cI` prints it), ISO 8601. */
export interface CommitTime {
  readonly sha: string;
  readonly time: string;
}

/**
 * Why a deploy failed, read from the reason the workflow gives its failure report (ADR 0061, 0067):
 * - `canary-abort`: a canary or blue-green analysis failed, errored, could not run, or a person rejected an
 *   inconclusive one, and the environment was rolled back;
 * - `rolled-back`: the deploy or its rollout failed and the last good revision was re-applied and rolled out;
 * - `rollout-failed`: the deploy or its rollout failed and no rollback restored the environment (there was none to
 *   roll back to, it failed, or it did not roll out);
 * - `not-applied`: refused before anything reached the cluster (invalid manifests, the cluster not found): no change
 *   was deployed, so it is neither a deploy nor a failure of one.
 */
export type FailureKind = 'canary-abort' | 'rolled-back' | 'rollout-failed' | 'not-applied';

export const FAILURE_KINDS: readonly FailureKind[] = ['canary-abort', 'rolled-back', 'rollout-failed', 'not-applied'];

/** One environment's end in one run. */
export interface DeploymentRecord {
  /** `<provider>:<repository>:<environment>`, the deploy lock's key: the stream of deploys of one environment. */
  readonly stream: string;
  readonly provider: Provider;
  /** The configured repository's name (the route's). */
  readonly repository: string;
  readonly environment: string;
  readonly executionArn: string;
  /** The commit deployed (40 hex digits). */
  readonly sha: string;
  /** The branch or tag. */
  readonly ref: string;
  /** When the workflow reported the environment's end, ISO 8601. */
  readonly deployedAt: string;
  readonly result: 'succeeded' | 'failed';
  /** For a failed one: what kind of failure, and the workflow's reason. */
  readonly failure: { readonly kind: FailureKind; readonly reason: string } | null;
  /** The commit the environment was rolled back to (7 hex digits, as the workflow names it), or null. */
  readonly rolledBackTo: string | null;
  /** The commit of the environment's previous successful deploy: the base of `commits`. Null for the first one. */
  readonly previousSha: string | null;
  /**
   * The commits this deploy carried: the deployed commit and every commit since `previousSha`, newest first, with
   * their times. Null when they could not be read (no repository on this machine, the Git host did not answer).
   */
  readonly commits: readonly CommitTime[] | null;
}

/** An incident: a Git host issue labelled `incident`, or a CloudWatch alarm in ALARM (ADR 0097). */
export interface Incident {
  /** `github:owner/name#12`, `alarm:<alarm name>@<time it went to ALARM>`. */
  readonly id: string;
  readonly source: 'issue' | 'alarm';
  readonly provider: Provider | null;
  /** The configured repository's name, when known. */
  readonly repository: string | null;
  /** The environment it happened in, when it says. */
  readonly environment: string | null;
  readonly title: string;
  readonly openedAt: string;
  /** Null while it is open. */
  readonly resolvedAt: string | null;
  /**
   * When the issue lost its `incident` label (the update time; ADR 0112): a withdrawn incident is kept, and
   * counts for no change failure and no time to restore until the label is put back (the write that follows replaces
   * it without this field). Absent or null: it counts.
   */
  readonly withdrawnAt?: string | null;
  /** What it names as its cause: commits (full or at least 7 hex digits) and execution names or ARNs. */
  readonly commits: readonly string[];
  readonly executions: readonly string[];
}

/** What the records are read by: one stream, newest first; or every record in a window. */
export interface DeploymentQuery {
  /** Records deployed at or after this time (ISO 8601). */
  readonly since?: string;
  readonly environment?: string;
  readonly repository?: string;
}

/** Where deployment records and incidents are kept: DynamoDB on AWS, the runtime's SQLite file locally. */
export interface DeploymentStore {
  /** The newest records of one stream, newest first, at most `limit`. */
  recent(stream: string, limit: number): Promise<readonly DeploymentRecord[]>;
  /** Writes a record; a record of the same stream, execution, result and time replaces it. */
  put(record: DeploymentRecord): Promise<void>;
  /** Every record that matches, oldest first. */
  list(query: DeploymentQuery): Promise<readonly DeploymentRecord[]>;
  /** Opens, updates or resolves an incident (by id). */
  putIncident(incident: Incident): Promise<void>;
  /** Incidents opened at or after `since` (ISO 8601), or still open; oldest first. */
  incidents(since?: string): Promise<readonly Incident[]>;
}

/** What a commit log is asked: the commits reachable from `head` and not from `base`, with their times. */
export interface CommitRange {
  readonly provider: Provider;
  /** The repository's full name at the host. */
  readonly repository: string;
  /** Its clone URL: a repository on this machine answers for itself. */
  readonly cloneUrl: string;
  /** The environment's previously deployed commit; null: `head` alone. */
  readonly base: string | null;
  readonly head: string;
}

/**
 * Reads commit times: git itself for a repository on this machine, the Git host's compare API otherwise. Answers
 * null when it cannot tell (the record is then written without commits, and counts for no lead time).
 */
export interface CommitLog {
  between(range: CommitRange): Promise<readonly CommitTime[] | null>;
}

/** The most commits a record keeps (the oldest beyond it are left out, and the record says so by its count). */
export const MAX_COMMITS = 250;

/** The environment variable of the status function that names the deployments table (AWS). */
export const INSIGHT_ENV = {
  /** The DynamoDB table of deployment records and incidents; unset: no records are written. */
  table: 'STEPLINE_DEPLOYMENTS_TABLE',
} as const;

/**
 * The metrics the status function emits per deploy (namespace `Stepline`, dimensions `service` and `environment`),
 * from which the CloudWatch dashboard charts the four keys: deploys per day (`DeploySucceeded`, Sum), change failure
 * rate (`ChangeFailure` / `Deploy`, Sum), lead time (`LeadTimeForChanges`, p50 and p90: one value per commit),
 * time to restore (`TimeToRestore`, p50: one value per failed stretch ended by a successful deploy).
 */
export const INSIGHT_METRICS = {
  deploy: 'Deploy',
  deploySucceeded: 'DeploySucceeded',
  changeFailure: 'ChangeFailure',
  leadTime: 'LeadTimeForChanges',
  timeToRestore: 'TimeToRestore',
  /** A record that could not be written (the store refused): the pipeline goes on, the figures miss a deploy. */
  recordFailed: 'DeploymentRecordFailed',
} as const;
