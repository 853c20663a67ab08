import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import { type KeepResult, keepApprovalsAlive } from '../../core/approval/service';
import { createLogger, createMetrics } from '../shared/observability';

/**
 * The approval keeper: an EventBridge schedule (every `APPROVAL_KEEPER.awsIntervalSeconds` on AWS; a timer in
 * the local runtime) invokes it; it heartbeats the task of every approval request that waits, so the workflow's
 * `HeartbeatSeconds` ends only the gates whose request is lost (ADR 0036). A heartbeat that fails for a passing
 * reason is logged and counted, and tried again at the next run; the run itself fails only when the store cannot
 * be read: the schedule retries it, then puts the run in the keeper's failures queue, which Observability alarms on.
 */
export interface ApprovalKeeperDependencies {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type ApprovalKeeperHandler = middy.MiddyfiedHandler<unknown, KeepResult, Error, Context>;

export function createApprovalKeeperHandler(deps: ApprovalKeeperDependencies): ApprovalKeeperHandler {
  const logger = deps.logger ?? createLogger('stepline-approval-keeper');
  const metrics = deps.metrics ?? createMetrics('stepline-approval-keeper');
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  return middy<unknown, KeepResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function approvalKeeperHandler() {
      const result = await keepApprovalsAlive({ store: deps.store, callbacks: deps.callbacks, now });
      metrics.addMetric('approvalsKept', MetricUnit.Count, result.kept);
      metrics.addMetric('approvalsGone', MetricUnit.Count, result.gone);
      metrics.addMetric('approvalHeartbeatsFailed', MetricUnit.Count, result.failed);
      for (const reason of result.reasons)
        logger.warn('approval heartbeat failed; tried again at the next run', { reason });
      if (result.kept + result.gone + result.failed > 0) {
        logger.info('approvals kept alive', { kept: result.kept, gone: result.gone, failed: result.failed });
      }
      return result;
    });
}
