import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Provider } from '../../core/config/schema';
import type { DeploymentRecorder } from '../../core/insight/service';
import { STATUS_METRICS, type StatusResult } from '../../core/status/contracts';
import type { HostTransport } from '../../core/status/hosts';
import type { ConsoleLinks } from '../../core/status/links';

/**
 * What the three status functions share: their dependencies, and how a result is logged and counted. A status
 * that could not be delivered is a warning and a `StatusDeliveryFailed` metric, never an error of the function.
 * Log lines carry contexts, states, HTTP statuses and the host's short reason: never a token, header or body.
 */
export interface StatusDependencies {
  /** The transport of a provider, or null when it has no credentials. */
  readonly transportFor: (provider: Provider) => Promise<HostTransport | null>;
  readonly links: ConsoleLinks | null;
  readonly contextPrefix: string;
  /**
   * Delivery insight (ADR 0097): records each environment's end the status function is told of. Absent: none are
   * recorded (the build and execution event functions never are told of one).
   */
  readonly deployments?: DeploymentRecorder;
  /** When a deployment record is made (tests). Default: now. */
  readonly recordedAt?: () => Date;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function observe(result: StatusResult, logger: Logger, metrics: Metrics): void {
  metrics.addDimension('provider', result.provider);
  metrics.addMetric(STATUS_METRICS.delivered, MetricUnit.Count, result.delivered);
  metrics.addMetric(STATUS_METRICS.failed, MetricUnit.Count, result.failed);
  if (result.skippedReason) {
    metrics.addMetric(STATUS_METRICS.skipped, MetricUnit.Count, 1);
    logger.info('statuses skipped', { reason: result.skippedReason });
  }
  for (const outcome of result.outcomes) {
    if (outcome.outcome === 'failed') {
      logger.warn('status not delivered', {
        context: outcome.context,
        state: outcome.state,
        httpStatus: outcome.httpStatus,
        reason: outcome.error,
      });
    } else {
      logger.debug('status delivered', { context: outcome.context, state: outcome.state, outcome: outcome.outcome });
    }
  }
  logger.info('statuses reported', {
    delivered: result.delivered,
    failed: result.failed,
    deploymentId: result.deploymentId,
  });
}

/** Counts and logs an event that was not acted on. */
export function observeIgnored(
  reason: string,
  logger: Logger,
  metrics: Metrics,
  level: 'info' | 'error' = 'info',
): void {
  metrics.addMetric(STATUS_METRICS.skipped, MetricUnit.Count, 1);
  logger[level]('event ignored', { reason });
}
