import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { RunStopper } from '../../adapters/aws/stopper';
import {
  type EnterOutcome,
  type LeaveResult,
  type RegisterResult,
  SUPERSEDED_ERROR,
} from '../../core/coordination/contracts';
import { EnvironmentBusy, RunCancelled } from '../../core/coordination/errors';
import { parseCoordinationRequest } from '../../core/coordination/parse';
import type { Coordinator } from '../../core/coordination/service';
import { createLogger, createMetrics } from '../shared/observability';

/** What the handler needs from outside: the Lambda entry point builds it on AWS, the local runtime its own. */
export interface CoordinationDependencies {
  readonly coordinator: Coordinator;
  readonly stopper: RunStopper;
}

export type CoordinationResult = RegisterResult | EnterOutcome | LeaveResult;

export type CoordinationHandler = middy.MiddyfiedHandler<unknown, CoordinationResult, Error, Context>;

export interface CoordinationObservability {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

const executionName = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/**
 * The coordination function the workflow invokes three times per run: `register` when it starts (and stops the
 * older run of the same branch that this one supersedes), `enter` before each environment (throws
 * `Stepline.EnvironmentBusy` while another run deploys there, so the Task retries with backoff, and
 * `Stepline.Superseded` / `Stepline.Overtaken` when the run must not deploy any more), and `leave` after it.
 */
export function createCoordinationHandler(
  deps: CoordinationDependencies & CoordinationObservability,
): CoordinationHandler {
  const logger = deps.logger ?? createLogger('stepline-coordination');
  const metrics = deps.metrics ?? createMetrics('stepline-coordination');
  return middy<unknown, CoordinationResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function coordinationHandler(event) {
      const request = parseCoordinationRequest(event);
      logger.appendKeys({ executionName: executionName(request.executionArn), action: request.action });
      switch (request.action) {
        case 'register': {
          const result = await deps.coordinator.register(request);
          if (result.superseded) {
            const cause = `superseded by ${executionName(request.executionArn)}, a newer run of the same branch`;
            const stopped = await deps.stopper.stop(result.superseded.executionArn, SUPERSEDED_ERROR, cause);
            metrics.addMetric('superseded', MetricUnit.Count, 1);
            logger.info('superseded an older run', {
              supersededExecution: executionName(result.superseded.executionArn),
              stopped,
            });
          }
          return result;
        }
        case 'enter': {
          const outcome = await deps.coordinator.enter(request);
          logger.info('environment gate', { environmentKey: request.environmentKey, outcome: outcome.outcome });
          if (outcome.outcome === 'busy') {
            throw new EnvironmentBusy(request.environmentKey, executionName(outcome.holder), outcome.leaseExpiresAt);
          }
          if (outcome.outcome === 'superseded' || outcome.outcome === 'overtaken') {
            throw new RunCancelled(outcome.outcome, executionName(outcome.by), request.environmentKey);
          }
          return outcome;
        }
        case 'leave': {
          const result = await deps.coordinator.leave(request);
          logger.info('environment released', { environmentKey: request.environmentKey, released: result.released });
          return result;
        }
      }
    });
}
