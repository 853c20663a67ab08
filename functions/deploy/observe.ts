import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DEPLOY_ERROR_NAMES, DEPLOY_METRICS } from '../../core/deploy/contracts';
import type { ObserveFailuresOptions } from '../shared/observe-failures';

/**
 * How the deploy, rollout and rollback functions observe a failure (functions/shared/observe-failures.ts): the
 * deployer's named errors are the step's outcomes (WARN, `deployError` with the name), anything else is a fault
 * (ERROR, `deployError` with `unexpected`). `signals` names errors that are not failures at all.
 */
export function deployFailures(
  logger: Logger,
  metrics: Metrics,
  signals: Readonly<Record<string, string>> = {},
): ObserveFailuresOptions {
  return {
    logger,
    metrics,
    metric: DEPLOY_METRICS.deployError,
    known: Object.values(DEPLOY_ERROR_NAMES),
    signals,
    message: 'deploy step failed',
  };
}
