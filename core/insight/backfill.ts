import type { StatusEvent } from '../status/contracts';
import { parseStatusEvent } from '../status/validate';
import { type CommitLog, type DeploymentRecord, type DeploymentStore, MAX_COMMITS } from './contracts';
import { deploymentRecord, isDeploymentEnd, streamOf } from './record';

/**
 * Backfill (`stepline metrics dora --backfill`): the records of runs that ended before delivery insight recorded
 * them, read from their execution histories. Each history holds the status Task's invocations as `TaskScheduled`
 * events whose `parameters` carry the `Payload` the status function was given (GetExecutionHistory with execution
 * data, as the Step Functions API Reference's HistoryEvent documents `taskScheduledEventDetails.parameters`): the
 * reports of environments' ends are found there, at the time they were scheduled, and made into records exactly as
 * the function makes them, oldest first, so that each knows its environment's previous deploy.
 */

/** A history event as GetExecutionHistory (and the local engine) gives it: the fields read here. */
export interface HistoryEventLike {
  readonly timestamp: Date | string | number;
  readonly type: string;
  readonly taskScheduledEventDetails?: { readonly parameters?: unknown };
}

export interface Report {
  readonly event: StatusEvent;
  readonly at: Date;
}

/** The reports of environments' ends in one execution's history, in order. */
export function reportsIn(history: readonly HistoryEventLike[]): Report[] {
  const reports: Report[] = [];
  for (const event of history) {
    if (event.type !== 'TaskScheduled') continue;
    let parameters = event.taskScheduledEventDetails?.parameters;
    try {
      if (typeof parameters === 'string') parameters = JSON.parse(parameters) as unknown;
      const payload = (parameters as { Payload?: unknown } | null)?.Payload;
      if (!payload || typeof payload !== 'object' || (payload as { step?: unknown }).step !== 'deploy') continue;
      const status = parseStatusEvent(payload);
      if (isDeploymentEnd(status)) reports.push({ event: status, at: new Date(event.timestamp) });
    } catch {
      // Not a status report (another function's payload), or parameters cut short: nothing to record.
    }
  }
  return reports;
}

export interface BackfillSummary {
  /** Records made and written. */
  readonly written: number;
  /** Reports that had a record already (recorded when they happened, or by an earlier backfill). */
  readonly existing: number;
}

const keyOf = (r: { stream: string; executionArn: string; result: string }): string =>
  `${r.stream}|${r.executionArn}|${r.result}`;

/**
 * Makes and writes the records of the reports that have none yet. Each report's environment history is the records
 * before it (those in the store and those made here), so a record's previous deploy and commits are what they would
 * have been had it been recorded live.
 */
export async function backfill(
  reports: readonly Report[],
  store: DeploymentStore,
  commits: CommitLog | null,
): Promise<BackfillSummary> {
  const existing = await store.list({});
  const known = new Set(existing.map(keyOf));
  const byStream = new Map<string, DeploymentRecord[]>();
  for (const record of existing) byStream.set(record.stream, [...(byStream.get(record.stream) ?? []), record]);
  let written = 0;
  let skipped = 0;
  for (const { event, at } of [...reports].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const stream = streamOf(event.request.provider, event.route.repository, event.environment as string);
    const result = event.state === 'success' ? 'succeeded' : 'failed';
    const key = keyOf({ stream, executionArn: event.executionArn as string, result });
    if (known.has(key)) {
      skipped++;
      continue;
    }
    const earlier = (byStream.get(stream) ?? []).filter((r) => Date.parse(r.deployedAt) < at.getTime());
    const previous =
      earlier
        .filter((r) => r.result === 'succeeded')
        .sort((a, b) => Date.parse(b.deployedAt) - Date.parse(a.deployedAt))[0] ?? null;
    const base = previous && previous.sha !== event.request.commit.sha ? previous.sha : null;
    let found = null;
    try {
      found = commits
        ? await commits.between({
            provider: event.request.provider,
            repository: event.request.repository.fullName,
            cloneUrl: event.request.repository.cloneUrl,
            base,
            head: event.request.commit.sha,
          })
        : null;
    } catch {
      found = null;
    }
    const record = deploymentRecord(event, at, {
      previousSha: previous?.sha ?? null,
      commits: found ? found.slice(0, MAX_COMMITS) : null,
    });
    await store.put(record);
    known.add(key);
    byStream.set(stream, [...(byStream.get(stream) ?? []), record]);
    written++;
  }
  return { written, existing: skipped };
}
