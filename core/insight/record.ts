import type { Provider } from '../config/schema';
import type { StatusEvent } from '../status/contracts';
import type { CommitTime, DeploymentRecord, FailureKind } from './contracts';

/**
 * A deployment record from the workflow's report of an environment's end (`step: 'deploy'`, state `success` or
 * `failure`): what the status function is handed anyway, so the record costs the workflow no state transition.
 * A failure's kind is read from the reason the workflow composes (statemachines/pipeline.asl.json, the Promote
 * Map): `test/unit/insight/reasons.test.ts` runs each failure path of the real definition and reads its reason.
 */

/** `<provider>:<repository>:<environment>`, as the deploy lock's key (ADR 0060). */
export function streamOf(provider: Provider, repository: string, environment: string): string {
  return `${provider}:${repository}:${environment}`;
}

/** Whether a status event is an environment's end: the one report per environment per run a record is made of. */
export function isDeploymentEnd(event: StatusEvent): boolean {
  return (
    event.step === 'deploy' &&
    typeof event.environment === 'string' &&
    event.executionArn !== null &&
    (event.state === 'success' || event.state === 'failure')
  );
}

/** "the canary 10% analysis failed: …", "the preview analysis was inconclusive and rejected by alice" (ADR 0067). */
const ANALYSIS = /^the .+? analysis (?:failed|errored|could not run|was inconclusive)\b/;
/** CheckRollback's success: "…; rolled back to 1a2b3c4". */
const ROLLED_BACK = /; rolled back to ([0-9a-f]{7,40})$/;
/** A rollback that failed, or did not roll out (ADR 0061). */
const NOT_RESTORED = /; not rolled back: |; the rollback to [0-9a-f]{7,40} did not roll out either$/;

/** What a failure report's reason says: the kind of failure, and the commit it was rolled back to. */
export function classifyFailure(reason: string): { kind: FailureKind; rolledBackTo: string | null } {
  const rolledBackTo = ROLLED_BACK.exec(reason)?.[1] ?? null;
  if (ANALYSIS.test(reason)) return { kind: 'canary-abort', rolledBackTo };
  if (rolledBackTo) return { kind: 'rolled-back', rolledBackTo };
  // No reason at all says nothing either way: counted as a failure of a deploy, never hidden.
  if (NOT_RESTORED.test(reason) || reason.trim() === '') return { kind: 'rollout-failed', rolledBackTo: null };
  // Errors caught before anything was applied release the lock without a rollback ("ManifestInvalid: …").
  return { kind: 'not-applied', rolledBackTo: null };
}

/** Whether a record is a deploy: something reached the cluster (every success, and every failure but `not-applied`). */
export function isDeploy(record: DeploymentRecord): boolean {
  return record.result === 'succeeded' || record.failure?.kind !== 'not-applied';
}

/** Whether a record is a failed deploy: the environment's change failed (a rollback, a failed rollout, an abort). */
export function isFailedDeploy(record: DeploymentRecord): boolean {
  return record.result === 'failed' && record.failure?.kind !== 'not-applied';
}

/** The record of an environment's end, reported at `at`. */
export function deploymentRecord(
  event: StatusEvent,
  at: Date,
  history: { readonly previousSha: string | null; readonly commits: readonly CommitTime[] | null },
): DeploymentRecord {
  if (!isDeploymentEnd(event)) throw new TypeError('not the end of an environment: no deployment record');
  const environment = event.environment as string;
  const failed = event.state === 'failure';
  const reason = event.detail?.reason ?? '';
  const failure = failed ? classifyFailure(reason) : null;
  return {
    stream: streamOf(event.request.provider, event.route.repository, environment),
    provider: event.request.provider,
    repository: event.route.repository,
    environment,
    executionArn: event.executionArn as string,
    sha: event.request.commit.sha,
    ref: event.request.ref.name,
    deployedAt: at.toISOString(),
    result: failed ? 'failed' : 'succeeded',
    failure: failure ? { kind: failure.kind, reason } : null,
    rolledBackTo: failure?.rolledBackTo ?? null,
    previousSha: history.previousSha,
    commits: history.commits,
  };
}

/** Seconds from each commit a successful deploy carried to the deploy (a commit dated after it counts for none). */
export function leadTimesOf(record: DeploymentRecord): number[] {
  if (record.result !== 'succeeded' || !record.commits) return [];
  const deployed = Date.parse(record.deployedAt);
  return record.commits
    .map((commit) => (deployed - Date.parse(commit.time)) / 1000)
    .filter((seconds) => Number.isFinite(seconds) && seconds >= 0);
}
