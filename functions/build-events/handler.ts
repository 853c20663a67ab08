import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ExecutionInputReader } from '../../adapters/githost/execution-input';
import type { ExecutionInput } from '../../core/intake/types';
import { buildProgressOf, buildRunOf, planBuildProgress } from '../../core/status/codebuild';
import { CODEBUILD_DETAIL_TYPES, type CodeBuildEvent, type EventResult } from '../../core/status/contracts';
import { subjectOf } from '../../core/status/plan';
import { deliver, summarize } from '../../core/status/reporter';
import { createLogger, createMetrics } from '../shared/observability';
import { observe, observeIgnored, type StatusDependencies } from '../status/observe';

/**
 * The build-events function: an EventBridge rule sends it CodeBuild's "Build Phase Change" and "Build State
 * Change" events; it updates the build or test status of the run the build belongs to ("building: INSTALL",
 * "build failed in phase BUILD: exit 2"). The run is named by the build's environment variables (`BUILD_ENV`);
 * the commit comes from them too, or from the execution's input (ADR 0031). Never fails for a status.
 */
export interface BuildEventsDependencies extends StatusDependencies {
  readonly readExecutionInput: ExecutionInputReader;
}

export type BuildEventsHandler = middy.MiddyfiedHandler<CodeBuildEvent, EventResult, Error, Context>;

export function createBuildEventsHandler(deps: BuildEventsDependencies): BuildEventsHandler {
  const logger = deps.logger ?? createLogger('stepline-build-events');
  const metrics = deps.metrics ?? createMetrics('stepline-build-events');
  // A build sends a dozen events: its run's input is read once per warm function (a few runs at a time).
  const inputs = new Map<string, Promise<ExecutionInput>>();
  const readInput = (executionArn: string): Promise<ExecutionInput> => {
    let input = inputs.get(executionArn);
    if (!input) {
      input = deps.readExecutionInput(executionArn);
      input.catch(() => inputs.delete(executionArn));
      if (inputs.size >= 32) inputs.delete(inputs.keys().next().value as string);
      inputs.set(executionArn, input);
    }
    return input;
  };
  return middy<CodeBuildEvent, EventResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function buildEventHandler(event) {
      if (!(CODEBUILD_DETAIL_TYPES as readonly string[]).includes(event?.['detail-type']) || !event.detail) {
        const reason = `not a CodeBuild build event: ${String(event?.['detail-type'])}`;
        observeIgnored(reason, logger, metrics);
        return { ignored: reason };
      }
      logger.appendKeys({ buildId: event.detail['build-id'], detailType: event['detail-type'] });
      const run = buildRunOf(event);
      if ('ignored' in run) {
        observeIgnored(run.ignored, logger, metrics);
        return run;
      }
      logger.appendKeys({ executionArn: run.executionArn, step: run.step, suite: run.suite });
      const progress = buildProgressOf(event);
      if (!progress) {
        const reason = 'the event tells nothing new about the step';
        observeIgnored(reason, logger, metrics);
        return { ignored: reason };
      }
      let subject = run.subject;
      // A GitLab merge request's status goes to its source project, which the build's variables do not name.
      if (!subject || (subject.provider === 'gitlab' && subject.pullRequest !== null)) {
        try {
          subject = subjectOf((await readInput(run.executionArn)).request);
        } catch (error) {
          const reason = `could not read the execution's input: ${error instanceof Error ? error.message : String(error)}`;
          observeIgnored(reason, logger, metrics, 'error');
          return { ignored: reason };
        }
      }
      logger.appendKeys({ provider: subject.provider, repository: subject.repository, sha: subject.sha });
      const transport = await deps.transportFor(subject.provider);
      const result = transport
        ? await deliver(subject, planBuildProgress(run, progress, deps.contextPrefix, deps.links), transport, {
            executionArn: run.executionArn,
            contextPrefix: deps.contextPrefix,
            // GitLab calls a short ref that is both a branch and a tag ambiguous: the full one is in the input.
            fullRef: async () => subjectOf((await readInput(run.executionArn)).request).fullRef ?? null,
          })
        : summarize(subject, [], { skippedReason: `no credentials for ${subject.provider}` });
      observe(result, logger, metrics);
      return result;
    });
}
