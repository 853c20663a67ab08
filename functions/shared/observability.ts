import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/contracts/metrics';

/**
 * One Powertools logger and one metrics object per function. Powertools reads its own variables
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE); these are the defaults when unset.
 * Log with appended keys (deliveryId, repository, executionName): never a body, a header, a token or a secret.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/** A logger and metrics for a handler factory to use instead of the function's own (tests, the local runtime). */
export interface Observability {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}
