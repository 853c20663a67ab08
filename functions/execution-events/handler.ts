import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExecutionInputReader } from '../../adapters/githost/execution-input';
import type { ExecutionInput } from '../../core/intake/types';
import { type EventResult, EXECUTION_DETAIL_TYPE, type ExecutionEvent } from '../../core/status/contracts';
import { executionEndOf, planExecutionEnd } from '../../core/status/execution';
import { subjectOf } from '../../core/status/plan';
import { deliver, summarize } from '../../core/status/reporter';
import { parseExecutionInput } from '../../core/status/validate';
import { createLogger, createMetrics } from '../shared/observability';
import { observe, observeIgnored, type StatusDependencies } from '../status/observe';

/**
 * The execution-events function: an EventBridge rule sends it "Step Functions Execution Status Change" events of
 * the pipeline state machine; for ABORTED, TIMED_OUT and FAILED it posts the run's final status where the
 * workflow could not, and closes every context of the run still pending, so that no commit stays pending.
 */
export interface ExecutionEventsDependencies extends StatusDependencies {
  readonly readExecutionInput: ExecutionInputReader;
}

export type ExecutionEventsHandler = middy.MiddyfiedHandler<ExecutionEvent, EventResult, Error, Context>;

export function createExecutionEventsHandler(deps: ExecutionEventsDependencies): ExecutionEventsHandler {
  const logger = deps.logger ?? createLogger('stepline-execution-events');
  const metrics = deps.metrics ?? createMetrics('stepline-execution-events');
  return middy<ExecutionEvent, EventResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function executionEventHandler(event) {
      if (event?.['detail-type'] !== EXECUTION_DETAIL_TYPE || !event.detail?.executionArn) {
        const reason = `not a Step Functions execution status change: ${String(event?.['detail-type'])}`;
        observeIgnored(reason, logger, metrics);
        return { ignored: reason };
      }
      logger.appendKeys({ executionArn: event.detail.executionArn, executionStatus: event.detail.status });
      const skip = executionEndOf(event);
      if (skip) {
        observeIgnored(skip.ignored, logger, metrics);
        return skip;
      }
      let input: ExecutionInput;
      try {
        input =
          typeof event.detail.input === 'string' && event.detail.inputDetails?.included !== false
            ? parseExecutionInput(JSON.parse(event.detail.input))
            : await deps.readExecutionInput(event.detail.executionArn);
      } catch (error) {
        const reason = `could not read the execution's input: ${error instanceof Error ? error.message : String(error)}`;
        observeIgnored(reason, logger, metrics, 'error');
        return { ignored: reason };
      }
      const subject = subjectOf(input.request);
      logger.appendKeys({ provider: subject.provider, repository: subject.repository, sha: subject.sha });
      const transport = await deps.transportFor(subject.provider);
      const result = transport
        ? await deliver(
            subject,
            planExecutionEnd(event, input, { links: deps.links, contextPrefix: deps.contextPrefix }),
            transport,
            {
              executionArn: event.detail.executionArn,
              contextPrefix: deps.contextPrefix,
              environments: input.route.environments.map((env) => env.name),
            },
          )
        : summarize(subject, [], { skippedReason: `no credentials for ${subject.provider}` });
      observe(result, logger, metrics);
      return result;
    });
}
