import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ClusterHandle } from '../../adapters/kubernetes/access';
import type { Cluster } from '../../core/config/schema';
import { DEPLOY_METRICS, type DeployResult } from '../../core/deploy/contracts';
import { isStepEvent, parseDeployEvent, parseStepEvent } from '../../core/deploy/events';
import type { Clock, ManifestSource } from '../../core/deploy/ports';
import { deploy, step } from '../../core/deploy/service';
import type { GitOpsAccess } from '../../core/gitops/ports';
import { deliver, deliveryOf, gitopsPorts } from '../../core/gitops/service';
import { createLogger, createMetrics, type Observability } from '../shared/observability';
import { observeFailures } from '../shared/observe-failures';
import { deployFailures } from './observe';

/**
 * What the rollout and rollback functions need from outside: a connection to an environment's cluster and a
 * clock. The Lambda entry points build them from AWS clients (dependencies.ts); tests and the local runtime build
 * their own and pass them to the handler factories.
 */
export interface ClusterDependencies {
  readonly open: (cluster: Cluster) => Promise<ClusterHandle>;
  readonly clock: Clock;
  /** Configuration repositories, for environments with a GitOps delivery (ADR 0103). Absent: such a delivery fails. */
  readonly gitops?: GitOpsAccess;
}

/** What the deploy function needs besides: where the rendered manifests are read from. */
export interface DeployDependencies extends ClusterDependencies {
  readonly manifests: ManifestSource;
}

/**
 * The deploy function: the workflow invokes it with a `DeployEvent` (core/deploy/contracts.ts). It reads the
 * rendered manifests, validates every document, renders the image by digest, applies in dependency order with
 * server-side apply (field manager `stepline`), records the revision and returns what changed and what to
 * watch. Errors keep their names (ManifestInvalid, KubernetesForbidden, ...) for the workflow's Catch.
 */
export type DeployHandler = middy.MiddyfiedHandler<unknown, DeployResult, Error, Context>;

export function createDeployHandler(deps: DeployDependencies & Observability): DeployHandler {
  const logger = deps.logger ?? createLogger('stepline-deploy');
  const metrics = deps.metrics ?? createMetrics('stepline-deploy');
  return middy<unknown, DeployResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(observeFailures(deployFailures(logger, metrics)))
    .handler(async function deployHandler(raw) {
      if (isStepEvent(raw)) return stepHandler(raw, deps, logger, metrics);
      const event = parseDeployEvent(raw);
      logger.appendKeys({
        executionName: event.executionName,
        environment: event.environment.name,
        repository: event.request.repository.fullName,
        sha: event.request.commit.sha,
      });
      metrics.addDimension('environment', event.environment.name);
      const delivery = deliveryOf(event.environment);
      if (delivery) {
        const delivered = await deliver(event, gitopsPorts(deps.gitops, delivery, deps.clock));
        const { commit, pullRequest } = delivered.watch[0]?.gitops ?? {};
        logger.info('delivered to GitOps', {
          repository: delivery.repository.name,
          commit,
          pullRequest: pullRequest?.url,
        });
        return delivered;
      }
      const { cluster, revisions } = await deps.open(event.environment.cluster);
      const result = await deploy(event, { cluster, revisions, manifests: deps.manifests, clock: deps.clock });
      metrics.addMetric(DEPLOY_METRICS.objectsApplied, MetricUnit.Count, result.applied.length);
      metrics.addMetric(DEPLOY_METRICS.objectsChanged, MetricUnit.Count, result.changed);
      logger.info('deployed', {
        revision: result.revision,
        applied: result.applied.length,
        changed: result.changed,
        watch: result.watch.length,
        image: result.image,
      });
      return result;
    });
}

/** The `step` action: one step of a canary or blue-green rollout, or its promotion (ADR 0067). */
async function stepHandler(
  raw: unknown,
  deps: DeployDependencies,
  logger: Logger,
  metrics: Metrics,
): Promise<DeployResult> {
  const event = parseStepEvent(raw);
  logger.appendKeys({
    executionName: event.executionName,
    environment: event.environment.name,
    revision: event.revision,
  });
  metrics.addDimension('environment', event.environment.name);
  const { cluster, revisions } = await deps.open(event.environment.cluster);
  const result = await step(event, { cluster, revisions, clock: deps.clock });
  metrics.addMetric(DEPLOY_METRICS.objectsApplied, MetricUnit.Count, result.applied.length);
  logger.info(result.step ? 'step set' : 'promoted', {
    step: result.step?.label ?? 'promotion',
    canary: result.step?.replicas.canary,
    stable: result.step?.replicas.stable,
  });
  return result;
}
