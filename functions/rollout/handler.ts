import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DEPLOY_ERROR_NAMES, DEPLOY_METRICS, type RolloutResult } from '../../core/deploy/contracts';
import { parseRolloutEvent } from '../../core/deploy/events';
import { checkRollout } from '../../core/deploy/service';
import { checkConvergence, deliveryOf } from '../../core/gitops/service';
import type { ClusterDependencies } from '../deploy/handler';
import { deployFailures } from '../deploy/observe';
import { createLogger, createMetrics, type Observability } from '../shared/observability';
import { observeFailures } from '../shared/observe-failures';

/** A rollout still in progress (`onWaiting: 'throw'`) is the workflow's cue to wait, not a failure. */
const IN_PROGRESS = {
  [DEPLOY_ERROR_NAMES.rolloutInProgress]: 'rollout in progress',
  // A canary or blue-green step whose replicas are ready: the workflow measures it next (ADR 0067).
  [DEPLOY_ERROR_NAMES.stepReady]: 'step ready',
};

/**
 * The rollout function: one check of the objects a deploy or rollback applied (a `RolloutEvent`). It answers
 * done, waiting (with the reason, to Wait and check again) or failed (a ProgressDeadlineExceeded, a stalled
 * custom resource, the environment's deadline passed). When done, it marks the revision as the last good one.
 */
export type RolloutHandler = middy.MiddyfiedHandler<unknown, RolloutResult, Error, Context>;

export function createRolloutHandler(deps: ClusterDependencies & Observability): RolloutHandler {
  const logger = deps.logger ?? createLogger('stepline-rollout');
  const metrics = deps.metrics ?? createMetrics('stepline-rollout');
  return middy<unknown, RolloutResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(observeFailures(deployFailures(logger, metrics, IN_PROGRESS)))
    .handler(async function rolloutHandler(raw) {
      const event = parseRolloutEvent(raw);
      logger.appendKeys({
        executionName: event.executionName,
        environment: event.environment.name,
        revision: event.revision ?? undefined,
      });
      metrics.addDimension('environment', event.environment.name);
      const { cluster, revisions } = await deps.open(event.environment.cluster);
      const delivery = deliveryOf(event.environment);
      const result = event.watch.some((w) => w.gitops)
        ? await checkConvergence(event, {
            cluster,
            clock: deps.clock,
            repository: delivery && deps.gitops ? deps.gitops.open(delivery.repository) : null,
          })
        : await checkRollout(event, { cluster, revisions, clock: deps.clock });
      if (result.state === 'done') metrics.addMetric(DEPLOY_METRICS.rolloutDone, MetricUnit.Count, 1);
      if (result.state === 'failed') metrics.addMetric(DEPLOY_METRICS.rolloutFailed, MetricUnit.Count, 1);
      logger.info('rollout checked', { state: result.state, reason: result.reason });
      return result;
    });
}
