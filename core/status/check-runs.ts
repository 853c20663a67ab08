import {
  type CheckRun,
  checkRefusal,
  checkState,
  createCheckRunRequest,
  findCheckRun,
  listCheckRunsRequest,
  moreAnnotationsRequests,
  parseCheckRuns,
  updateCheckRunRequest,
} from './checks';
import type { DeliveryOutcome, StatusSubject } from './contracts';
import { StatusDeliveryError } from './errors';
import type { HostStatus } from './hosts';
import type { StatusUpdate } from './plan';
import { ok, type Poster, type Send } from './poster';

/**
 * Posts a report's updates as GitHub check runs (checks.ts): the commit's check runs are read once per report;
 * each context's run of this execution is updated in place (PATCH), or created (POST) the first time; annotations
 * past the first 50 follow in further updates. `read` answers this execution's check runs as statuses, so that a
 * final report closes the ones still open, as it closes commit statuses.
 */
export function checkRunPoster(
  send: Send,
  subject: StatusSubject,
  executionArn: string | null,
  now: () => Date,
): Poster {
  let known: Promise<CheckRun[] | string> | null = null;
  const list = (): Promise<CheckRun[] | string> => {
    known ??= send(listCheckRunsRequest(subject)).then((response) => {
      if (response instanceof StatusDeliveryError) return response.message;
      if (!ok(response)) return `HTTP ${response.status}`;
      return parseCheckRuns(response.body);
    });
    return known;
  };
  const hostState = (state: StatusUpdate['state']): string => {
    const { status, conclusion } = checkState(state);
    return conclusion ?? status;
  };
  return {
    hostState,
    async read(): Promise<HostStatus[] | string> {
      const runs = await list();
      if (typeof runs === 'string') return runs;
      return runs
        .filter((run) => executionArn === null || run.externalId === executionArn)
        .map((run) => ({ context: run.name, state: run.completed ? 'completed' : 'open', open: !run.completed }));
    },
    async post(update: StatusUpdate): Promise<DeliveryOutcome> {
      const state = hostState(update.state);
      const failures = update.failures ?? [];
      const at = now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      const runs = await list();
      const existing = typeof runs === 'string' ? null : findCheckRun(runs, update.context, executionArn);
      const request = existing
        ? updateCheckRunRequest(subject, existing.id, update, executionArn, failures, at)
        : createCheckRunRequest(subject, update, executionArn, failures, at);
      const response = await send(request);
      if (response instanceof StatusDeliveryError) {
        return {
          context: update.context,
          state,
          outcome: 'failed',
          httpStatus: response.httpStatus,
          error: response.message,
        };
      }
      if (!ok(response)) return checkRefusal(update.context, state, response);
      const id = existing?.id ?? (response.body as { id?: unknown } | null)?.id;
      if (typeof id === 'number') {
        if (!existing && typeof runs !== 'string') {
          runs.push({
            id,
            name: update.context,
            externalId: executionArn ?? '',
            completed: state !== 'queued' && state !== 'in_progress',
          });
        }
        for (const more of moreAnnotationsRequests(subject, id, update, failures)) {
          const answer = await send(more);
          if (answer instanceof StatusDeliveryError || !ok(answer)) {
            return {
              context: update.context,
              state,
              outcome: 'failed',
              error: 'the check run was posted, not all its annotations',
            };
          }
        }
      }
      return { context: update.context, state, outcome: 'delivered', httpStatus: response.status };
    },
  };
}
