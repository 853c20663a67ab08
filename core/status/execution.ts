import type { ExecutionInput } from '../intake/types';
import type { ExecutionEvent, StatusEvent } from './contracts';
import type { ConsoleLinks } from './links';
import { planStatus, type StatusPlan } from './plan';
import { truncate } from './text';

/**
 * From a Step Functions "Execution Status Change" event to the run's final status (pure). The workflow reports
 * its own end; this is the safety net for the ends it cannot report: ABORTED (StopExecution, superseded),
 * TIMED_OUT (the state machine's own timeout) and FAILED without a report (a failure in the failure path).
 * The overall status is posted only where it is still open, and every context of the run still pending on the
 * commit is closed, so that no commit is left pending.
 */

export const FINAL_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** Whether the event needs a final status; the reason to ignore it otherwise. */
export function executionEndOf(event: ExecutionEvent): { readonly ignored: string } | null {
  const status = event.detail?.status;
  if (!FINAL_STATUSES.has(status)) return { ignored: `execution status ${status} needs no final status` };
  return null;
}

/** The reason the run ended, in a few words: "timed out", "stopped: superseded by 1a2b3c4", "States.TaskFailed". */
export function endReasonOf(event: ExecutionEvent): string {
  const { status, error, cause } = event.detail;
  if (status === 'TIMED_OUT') return 'timed out';
  const said = [error, cause].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  if (status === 'ABORTED') return said.length ? `stopped: ${truncate(said.join(': '), 100)}` : 'stopped';
  return said.length ? truncate(said.join(': '), 100) : 'the execution failed';
}

/** The plan for an execution that ended without success. */
export function planExecutionEnd(
  event: ExecutionEvent,
  input: ExecutionInput,
  options: { readonly links: ConsoleLinks | null; readonly contextPrefix: string },
): StatusPlan {
  const aborted = event.detail.status === 'ABORTED';
  const statusEvent: StatusEvent = {
    request: input.request,
    route: input.route,
    executionArn: event.detail.executionArn,
    step: 'pipeline',
    state: aborted ? 'cancelled' : 'failure',
    detail: { reason: endReasonOf(event) },
  };
  const plan = planStatus(statusEvent, options);
  return { ...plan, onlyIfOpen: true };
}
