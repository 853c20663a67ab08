import {
  type ExecutionListItem,
  paginateGetExecutionHistory,
  paginateListExecutions,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { HistoryEventLike } from '../../core/insight/backfill';

/**
 * The ended executions of a state machine and their histories, as delivery insight's backfill reads them
 * (`stepline metrics dora --aws --backfill`, ADR 0118), through the SDK's paginators:
 * - ListExecutions (`maxResults` up to 1,000 per page, `nextToken` to the next): every execution of the state machine
 *   still listed (Step Functions keeps a Standard execution's history for 90 days after it closes); those still
 *   RUNNING, or PENDING_REDRIVE (a redrive about to run them again), are left for a later backfill;
 * - GetExecutionHistory with `includeExecutionData: true` (up to 1,000 events per page): the events with their
 *   inputs and outputs, among them the status Task's `TaskScheduled` events whose
 *   `taskScheduledEventDetails.parameters` (a JSON string) carry the report that core/insight/backfill.ts reads.
 * Both are throttled per account (GetExecutionHistory's bucket is the smaller); the client's retry strategy retries
 * a throttled call, nothing here does.
 */

/** The statuses of an execution that has not ended, or is about to run again. */
const NOT_ENDED = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** Page sizes: the API's largest. */
const PAGE_SIZE = 1000;

/** The ended executions of `stateMachineArn`, newest first (ListExecutions' order). */
export async function* endedExecutions(client: SFNClient, stateMachineArn: string): AsyncGenerator<ExecutionListItem> {
  for await (const page of paginateListExecutions(
    { client, pageSize: PAGE_SIZE },
    { stateMachineArn, maxResults: PAGE_SIZE },
  )) {
    for (const execution of page.executions ?? []) {
      if (execution.status && !NOT_ENDED.has(execution.status)) yield execution;
    }
  }
}

/** Every event of an execution's history, oldest first, with its data, in the shape backfill reads. */
export async function executionHistory(client: SFNClient, executionArn: string): Promise<HistoryEventLike[]> {
  const events: HistoryEventLike[] = [];
  for await (const page of paginateGetExecutionHistory(
    { client, pageSize: PAGE_SIZE },
    { executionArn, includeExecutionData: true, maxResults: PAGE_SIZE },
  )) {
    for (const event of page.events ?? []) {
      events.push({
        timestamp: event.timestamp ?? 0,
        type: event.type ?? '',
        ...(event.taskScheduledEventDetails ? { taskScheduledEventDetails: event.taskScheduledEventDetails } : {}),
      });
    }
  }
  return events;
}
