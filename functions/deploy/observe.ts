import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEPLOY_ERROR_NAMES, DEPLOY_METRICS } from '../../core/deploy/contracts';

/** A logger and metrics to use instead of the function's own (tests, the local runtime). */
export interface Observability {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

const KNOWN_ERRORS = new Set<string>(Object.values(DEPLOY_ERROR_NAMES));

/**
 * Logs and counts a failure of one of the three functions, then lets it through to the workflow (which Catches
 * on its name). Messages of the deployer's errors name objects, fields and permissions, never values of
 * Secrets or tokens, so they are logged whole.
 */
export function observeFailure(error: unknown, logger: Logger, metrics: Metrics): void {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  metrics.addDimension('error', KNOWN_ERRORS.has(name) ? name : 'unexpected');
  metrics.addMetric(DEPLOY_METRICS.deployError, MetricUnit.Count, 1);
  if (KNOWN_ERRORS.has(name)) logger.warn('deploy step failed', { errorName: name, errorMessage: message });
  else logger.error('deploy step failed unexpectedly', { errorName: name, errorMessage: message });
}
