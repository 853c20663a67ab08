import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { cloudWatchProvider } from '../../core/deploy/analysis/cloudwatch';
import type { AnalysisEvent, AnalysisResult, MetricProvider } from '../../core/deploy/analysis/contracts';
import { jobProvider } from '../../core/deploy/analysis/job';
import { analyze } from '../../core/deploy/analysis/service';
import { DEPLOY_METRICS } from '../../core/deploy/contracts';
import { DeployEventInvalid } from '../../core/deploy/errors';
import { isRecord } from '../../core/deploy/types';
import type { ClusterDependencies } from '../deploy/handler';
import { deployFailures } from '../deploy/observe';
import { createLogger, createMetrics, type Observability } from '../shared/observability';
import { observeFailures } from '../shared/observe-failures';

/**
 * The analysis function: one measurement of a canary or blue-green step (an `AnalysisEvent`, ADR 0068). It
 * measures every metric (CloudWatch from the workflow's GetMetricData answer, Prometheus over HTTP, a Kubernetes
 * Job in the environment's namespace), judges each by its conditions, counts, and answers the verdict the
 * workflow's Choice reads. A provider's failure is an error measurement, never this function's failure.
 */
export type AnalysisHandler = middy.MiddyfiedHandler<unknown, AnalysisResult, Error, Context>;

export interface AnalysisDependencies extends ClusterDependencies {
  readonly prometheus: MetricProvider;
}

export function parseAnalysisEvent(raw: unknown): AnalysisEvent {
  const event = raw as Partial<AnalysisEvent>;
  const step = event.step as Partial<AnalysisEvent['step']> | undefined;
  if (!isRecord(raw) || typeof event.executionName !== 'string' || !isRecord(event.environment)) {
    throw new DeployEventInvalid('The analysis event lacks executionName (string) or environment (object)');
  }
  if (!isRecord(step) || !isRecord(step.analysis) || !Array.isArray(step.analysis.metrics)) {
    throw new DeployEventInvalid('The analysis event lacks step.analysis (the step result of the deploy function)');
  }
  return { ...(raw as unknown as AnalysisEvent), tally: event.tally ?? null, cloudwatch: event.cloudwatch ?? null };
}

export function createAnalysisHandler(deps: AnalysisDependencies & Observability): AnalysisHandler {
  const logger = deps.logger ?? createLogger('stepline-analysis');
  const metrics = deps.metrics ?? createMetrics('stepline-analysis');
  return middy<unknown, AnalysisResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(observeFailures(deployFailures(logger, metrics)))
    .handler(async function analysisHandler(raw) {
      const event = parseAnalysisEvent(raw);
      logger.appendKeys({ executionName: event.executionName, environment: event.environment.name });
      metrics.addDimension('environment', event.environment.name);
      const needsCluster = event.step.analysis?.metrics.some((m) => 'job' in m.provider) ?? false;
      const job: MetricProvider = needsCluster
        ? jobProvider((await deps.open(event.environment.cluster)).cluster, () => deps.clock.now())
        : { measure: async () => ({ kind: 'error', message: 'no cluster' }) };
      const result = await analyze(event, { cloudwatch: cloudWatchProvider, prometheus: deps.prometheus, job });
      metrics.addMetric(`analysis_${result.verdict}`, MetricUnit.Count, 1);
      if (result.verdict === 'failed' || result.verdict === 'error') {
        metrics.addMetric(DEPLOY_METRICS.rolloutFailed, MetricUnit.Count, 1);
      }
      logger.info('measured', {
        step: event.step.label,
        verdict: result.verdict,
        rounds: result.tally.rounds,
        passed: result.tally.passed,
      });
      return result;
    });
}
