import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DEPLOY_METRICS, type RollbackResult } from '../../core/deploy/contracts';
import { parseRollbackEvent } from '../../core/deploy/events';
import { rollback } from '../../core/deploy/service';
import { deliveryOf, gitopsPorts, revertDelivery } from '../../core/gitops/service';
import type { ClusterDependencies } from '../deploy/handler';
import { deployFailures } from '../deploy/observe';
import { createLogger, createMetrics, type Observability } from '../shared/observability';
import { observeFailures } from '../shared/observe-failures';

/**
 * The rollback function: marks the failed revision, re-applies the environment's last good revision (its
 * recorded manifests and image digest) with the same field manager, and returns the objects to watch so that
 * the workflow waits for the rollback's rollout with the rollout function. `NoPreviousRevision` when the
 * environment never completed a rollout.
 */
export type RollbackHandler = middy.MiddyfiedHandler<unknown, RollbackResult, Error, Context>;

export function createRollbackHandler(deps: ClusterDependencies & Observability): RollbackHandler {
  const logger = deps.logger ?? createLogger('stepline-rollback');
  const metrics = deps.metrics ?? createMetrics('stepline-rollback');
  return middy<unknown, RollbackResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(observeFailures(deployFailures(logger, metrics)))
    .handler(async function rollbackHandler(raw) {
      const event = parseRollbackEvent(raw);
      logger.appendKeys({
        executionName: event.executionName,
        environment: event.environment.name,
        failedRevision: event.failedRevision ?? undefined,
      });
      metrics.addDimension('environment', event.environment.name);
      const delivery = deliveryOf(event.environment);
      const result = delivery
        ? await revertDelivery(event, gitopsPorts(deps.gitops, delivery, deps.clock))
        : await rollback(event, { ...(await deps.open(event.environment.cluster)), clock: deps.clock });
      metrics.addMetric(DEPLOY_METRICS.rollback, MetricUnit.Count, 1);
      metrics.addMetric(DEPLOY_METRICS.objectsApplied, MetricUnit.Count, result.applied.length);
      logger.warn('rolled back', {
        reason: event.reason,
        revision: result.revision,
        commit: result.commit,
        image: result.image,
        changed: result.changed,
        leftover: result.leftover.length,
      });
      return result;
    });
}
