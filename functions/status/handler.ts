import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { EventResult } from '../../core/status/contracts';
import { reportStatus } from '../../core/status/report';
import { parseStatusEvent } from '../../core/status/validate';
import { createLogger, createMetrics } from '../shared/observability';
import { recordDeployment } from './insight';
import { observe, observeIgnored, type StatusDependencies } from './observe';

/**
 * The status function: the workflow invokes it at each step with a `StatusEvent` (core/status/contracts.ts). A
 * middy chain around one core call, `reportStatus`. It always answers: a status that could not be delivered, or
 * an event it cannot read, is logged and counted, and the pipeline goes on.
 */
export type StatusHandler = middy.MiddyfiedHandler<unknown, EventResult, Error, Context>;

export function createStatusHandler(deps: StatusDependencies): StatusHandler {
  const logger = deps.logger ?? createLogger('stepline-status');
  const metrics = deps.metrics ?? createMetrics('stepline-status');
  return middy<unknown, EventResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function reportStatusHandler(raw) {
      let event: ReturnType<typeof parseStatusEvent>;
      try {
        event = parseStatusEvent(raw);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        observeIgnored(reason, logger, metrics, 'error');
        return { ignored: reason };
      }
      logger.appendKeys({
        executionArn: event.executionArn ?? undefined,
        provider: event.request.provider,
        repository: event.request.repository.fullName,
        sha: event.request.commit.sha,
        step: event.step,
        state: event.state,
      });
      const transport = await deps.transportFor(event.request.provider);
      const result = await reportStatus(event, { transport, links: deps.links, contextPrefix: deps.contextPrefix });
      observe(result, logger, metrics);
      // An environment's end is also its deployment record (ADR 0097): one write, never a failed status.
      if (deps.deployments) {
        await recordDeployment(event, deps.deployments, deps.recordedAt?.() ?? new Date(), logger, metrics);
      }
      return result;
    });
}
