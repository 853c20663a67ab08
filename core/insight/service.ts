import type { StatusEvent } from '../status/contracts';
import { type CommitLog, type CommitTime, type DeploymentRecord, type DeploymentStore, MAX_COMMITS } from './contracts';
import { deploymentRecord, isDeploymentEnd, isFailedDeploy, leadTimesOf, streamOf } from './record';

/**
 * The one write of delivery insight: when the workflow reports an environment's end, the status function records it
 * (ADR 0097). One Query of the environment's newest records (its previous successful deploy, the failed stretch it
 * may end), at most one read of the commit log, one write. What it answers is what the function emits as metrics.
 */

/** How many of a stream's newest records are read to find its previous successful deploy and failed stretch. */
export const RECENT_RECORDS = 50;

export interface Recorded {
  readonly record: DeploymentRecord;
  /** The same report came again (a retried Task): nothing was written. */
  readonly duplicate: boolean;
  /** Seconds from each commit to this deploy (a successful one's). */
  readonly leadTimes: readonly number[];
  /** A successful deploy that ended a failed stretch: seconds since its first failed deploy. */
  readonly restoredAfter: number | null;
}

export class DeploymentRecorder {
  public constructor(
    private readonly store: DeploymentStore,
    private readonly commits: CommitLog | null,
  ) {}

  /** Records an environment's end; null for any other report. */
  public async record(event: StatusEvent, at: Date): Promise<Recorded | null> {
    if (!isDeploymentEnd(event)) return null;
    const stream = streamOf(event.request.provider, event.route.repository, event.environment as string);
    const recent = await this.store.recent(stream, RECENT_RECORDS);
    const result = event.state === 'success' ? 'succeeded' : 'failed';
    const latest = recent[0];
    // The Task is retried on Lambda's service errors: the same report twice is one record.
    if (latest && latest.executionArn === event.executionArn && latest.result === result) {
      return { record: latest, duplicate: true, leadTimes: [], restoredAfter: null };
    }
    const previous = recent.find((r) => r.result === 'succeeded') ?? null;
    const commits = await this.commitsOf(event, previous?.sha ?? null);
    const record = deploymentRecord(event, at, { previousSha: previous?.sha ?? null, commits });
    await this.store.put(record);
    return { record, duplicate: false, leadTimes: leadTimesOf(record), restoredAfter: restoredAfter(record, recent) };
  }

  private async commitsOf(event: StatusEvent, base: string | null): Promise<readonly CommitTime[] | null> {
    if (!this.commits) return null;
    try {
      const found = await this.commits.between({
        provider: event.request.provider,
        repository: event.request.repository.fullName,
        cloneUrl: event.request.repository.cloneUrl,
        base: base === event.request.commit.sha ? null : base,
        head: event.request.commit.sha,
      });
      return found ? found.slice(0, MAX_COMMITS) : null;
    } catch {
      // A Git host that does not answer costs the record its commits, never the record.
      return null;
    }
  }
}

/** For a successful deploy: the seconds since the first failed deploy of the stretch it ends, if it ends one. */
export function restoredAfter(record: DeploymentRecord, newestFirst: readonly DeploymentRecord[]): number | null {
  if (record.result !== 'succeeded') return null;
  let first: DeploymentRecord | null = null;
  for (const earlier of newestFirst) {
    if (earlier.result === 'succeeded') break;
    if (isFailedDeploy(earlier)) first = earlier;
  }
  return first ? (Date.parse(record.deployedAt) - Date.parse(first.deployedAt)) / 1000 : null;
}
