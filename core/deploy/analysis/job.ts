import { createHash } from 'node:crypto';
import type { AnalysisMetric } from '../../config/strategy';
import type { ClusterClient } from '../ports';
import {
  ENVIRONMENT_LABEL,
  FIELD_MANAGER,
  isRecord,
  type KubernetesObject,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
} from '../types';
import type { MeasureContext, Measured, MetricProvider } from './contracts';

/**
 * A Kubernetes Job as a metric (Argo Rollouts' job provider): the first measurement of a round creates the Job,
 * named after the run, the step, the metric and the round so that a retried or resumed call finds it; it passes
 * when the Job succeeds (`result.succeeded`), fails when the Job fails, and is an error run when it has not finished
 * within `timeoutSeconds`. While it runs, the round waits for it.
 */

const JOB_LABEL = 'stepline.dev/analysis';

export function jobName(context: MeasureContext, metric: string): string {
  const key = `${context.event.executionName}|${context.event.step.index}|${metric}|${context.round}`;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  const base = `${context.event.step.workloads.stable}-${metric}`.slice(0, 40).replace(/-+$/, '');
  return `${base}-${context.event.step.index}-${context.round}-${hash}`;
}

type Conditions = { type?: unknown; status?: unknown; reason?: unknown; message?: unknown }[];

export function jobProvider(cluster: ClusterClient, now: () => Date): MetricProvider {
  return {
    async measure(metric: AnalysisMetric, context: MeasureContext): Promise<Measured> {
      if (!('job' in metric.provider)) return { kind: 'error', message: 'not a Job metric' };
      const { namespace, name: environment } = context.event.environment;
      const ref = { apiVersion: 'batch/v1', kind: 'Job', name: jobName(context, metric.name), namespace };
      try {
        let job = await cluster.get(ref);
        if (!job) {
          const object: KubernetesObject = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name: ref.name,
              namespace,
              labels: {
                [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
                [ENVIRONMENT_LABEL]: environment,
                [JOB_LABEL]: metric.name,
              },
            },
            spec: { backoffLimit: 0, ...metric.provider.job.spec, ttlSecondsAfterFinished: 3600 },
          };
          job = (await cluster.apply(object, { fieldManager: FIELD_MANAGER, force: false })).object;
        }
        const status = isRecord(job['status']) ? job['status'] : {};
        const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []) as Conditions;
        const holds = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
        if (holds('Complete') || (typeof status['succeeded'] === 'number' && status['succeeded'] > 0)) {
          return { kind: 'value', result: { succeeded: true } };
        }
        const failed = holds('Failed');
        if (failed) return { kind: 'value', result: { succeeded: false, reason: String(failed.reason ?? '') } };
        const created = Date.parse(String(job.metadata['creationTimestamp'] ?? ''));
        const timeout = metric.provider.job.timeoutSeconds * 1000;
        if (!Number.isNaN(created) && now().getTime() - created > timeout) {
          return {
            kind: 'error',
            message: `Job ${ref.name} did not finish within ${metric.provider.job.timeoutSeconds} s`,
          };
        }
        return { kind: 'pending', message: `Job ${ref.name} is running` };
      } catch (error) {
        return { kind: 'error', message: `Job ${ref.name}: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}
