import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ApprovalStore, ApprovalTaskEvent, ApprovalTaskResult } from '../../core/approval/contracts';
import { requestApproval } from '../../core/approval/service';
import { reportStatus } from '../../core/status/report';
import { createLogger, createMetrics } from '../shared/observability';
import { observe, type StatusDependencies } from '../status/observe';

/**
 * The approval task: the workflow's `lambda:invoke.waitForTaskToken` state invokes it with an `ApprovalTaskEvent`.
 * It records the request (once per task token), posts `stepline/deploy/<env>` pending with the link to the
 * approval page (and a queued GitHub deployment), and returns; the workflow then waits for the decision, or for
 * the task's timeout. An event that names no approval is an error of the task (the workflow's Catch sees it).
 */
export interface ApprovalTaskDependencies extends StatusDependencies {
  readonly store: ApprovalStore;
  readonly keys: () => Promise<readonly string[]>;
  readonly baseUrl: string;
  readonly now?: () => number;
}

export type ApprovalTaskHandler = middy.MiddyfiedHandler<ApprovalTaskEvent, ApprovalTaskResult, Error, Context>;

export function createApprovalTaskHandler(deps: ApprovalTaskDependencies): ApprovalTaskHandler {
  const logger = deps.logger ?? createLogger('stepline-approval');
  const metrics = deps.metrics ?? createMetrics('stepline-approval');
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  return middy<ApprovalTaskEvent, ApprovalTaskResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function approvalTaskHandler(event) {
      logger.appendKeys({
        executionArn: event?.executionArn,
        environment: event?.environment,
        repository: event?.request?.repository?.fullName,
      });
      const result = await requestApproval(event, {
        store: deps.store,
        keys: await deps.keys(),
        baseUrl: deps.baseUrl,
        now,
        postStatus: async (statusEvent) => {
          try {
            const transport = await deps.transportFor(statusEvent.request.provider);
            observe(
              await reportStatus(statusEvent, { transport, links: deps.links, contextPrefix: deps.contextPrefix }),
              logger,
              metrics,
            );
          } catch (error) {
            logger.warn('approval status not posted', {
              reason: error instanceof Error ? error.message : String(error),
            });
          }
        },
      });
      logger.info('approval requested', {
        approvalId: result.approvalId,
        expiresAt: result.expiresAt,
        existing: result.existing,
      });
      return result;
    });
}
