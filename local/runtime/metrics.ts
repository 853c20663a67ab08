import type { SqliteParkingStore } from '../../adapters/local/parking';
import type { CodeBuildEvent } from '../../core/status/contracts';
import type { HistoryEvent } from '../engine';
import type { MetricsRegistry } from '../server';
import type { InvocationInfo } from '../services/lambda';
import type { BuildStore, ExecutionRecord } from '../store';
import type { EmittedMetric } from './observability';
import { LOCAL_RESOURCES } from './pipeline';

/**
 * The runtime's Prometheus metrics (`GET /metrics`): what they are, and how each service's callbacks count into them
 * (function invocations, builds, executions and their steps, the functions' own CloudWatch metrics).
 */

/** Declares the runtime's metrics on `metrics`, and gives it back. */
export function declareMetrics(metrics: MetricsRegistry): MetricsRegistry {
  metrics.counter('stepline_runs_started_total', 'Pipeline executions started, by repository.');
  metrics.counter(
    'stepline_runs_finished_total',
    'Pipeline executions ended, by repository and status (SUCCEEDED, FAILED, ABORTED, TIMED_OUT).',
  );
  metrics.counter('stepline_runs_succeeded_total', 'Pipeline executions that succeeded, by repository.');
  metrics.counter(
    'stepline_runs_failed_total',
    'Pipeline executions that failed, timed out or were aborted, by repository.',
  );
  metrics.gauge('stepline_runs_running', 'Pipeline executions running now.');
  metrics.histogram('stepline_step_duration_seconds', 'Time from entering a state to leaving it, by state.');
  metrics.counter(
    'stepline_deliveries_total',
    'Webhook deliveries by outcome: accepted, duplicate, ignored, rejected, parked, failed.',
  );
  metrics.counter('stepline_deliveries_rejected_total', 'Webhook deliveries refused, by reason.');
  metrics.gauge('stepline_deliveries_parked', 'Deliveries parked now, waiting for a replay.');
  metrics.counter('stepline_deploys_total', 'Deploys by environment and outcome (succeeded, failed).');
  metrics.counter('stepline_rollbacks_total', 'Rollbacks by environment and outcome.');
  metrics.counter('stepline_builds_total', 'Local builds ended, by project and status.');
  metrics.histogram('stepline_build_duration_seconds', 'Local build durations, by project.');
  metrics.counter('stepline_function_invocations_total', 'In-process function invocations, by function and outcome.');
  metrics.histogram(
    'stepline_function_duration_seconds',
    'In-process function durations, by function.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  metrics.counter(
    'stepline_function_metrics_total',
    'Metrics the functions emitted (their CloudWatch metrics), by function and name.',
  );
  return metrics;
}

/** The webhook function's metric names, as the delivery outcomes they count. */
const WEBHOOK_OUTCOMES: Readonly<Record<string, string>> = {
  accepted: 'accepted',
  duplicate: 'duplicate',
  ignored: 'ignored',
  rejected: 'rejected',
  queued: 'parked',
  failed: 'failed',
};

/** One in-process invocation: its count and duration, and for a deploy or a rollback its outcome by environment. */
export function countInvocation(metrics: MetricsRegistry, info: InvocationInfo): void {
  const outcome = info.errorType ? 'error' : 'ok';
  metrics.inc('stepline_function_invocations_total', { function: info.functionName, outcome });
  metrics.observe('stepline_function_duration_seconds', { function: info.functionName }, info.durationMs / 1000);
  const environment = (info.event as { environment?: { name?: unknown } } | null)?.environment?.name;
  if (typeof environment !== 'string') return;
  const result = info.errorType ? 'failed' : 'succeeded';
  if (info.functionName === LOCAL_RESOURCES.functions.deploy) {
    metrics.inc('stepline_deploys_total', { environment, outcome: result });
  }
  if (info.functionName === LOCAL_RESOURCES.functions.rollback) {
    metrics.inc('stepline_rollbacks_total', { environment, outcome: result });
  }
}

/** A build's end: its count by status and, from the stored build, its duration. */
export function countBuild(metrics: MetricsRegistry, builds: BuildStore, event: CodeBuildEvent): void {
  const detail = event.detail;
  if (event['detail-type'] !== 'CodeBuild Build State Change' || detail['build-status'] === 'IN_PROGRESS') return;
  const project = detail['project-name'];
  metrics.inc('stepline_builds_total', { project, status: detail['build-status'] });
  const stored = builds.get(detail['build-id'].slice(detail['build-id'].indexOf(':build/') + 7));
  const doc = stored?.document as { startTime?: number; endTime?: number } | undefined;
  if (doc?.startTime && doc.endTime) {
    metrics.observe('stepline_build_duration_seconds', { project }, (doc.endTime - doc.startTime) / 1000);
  }
}

/** The functions' CloudWatch metrics, and the webhook's as delivery outcomes. */
export function countFunctionMetrics(metrics: MetricsRegistry, list: readonly EmittedMetric[]): void {
  for (const m of list) {
    metrics.inc('stepline_function_metrics_total', { function: m.service, name: m.name, ...m.dimensions }, m.value);
    const outcome = m.service === 'stepline-webhook' ? WEBHOOK_OUTCOMES[m.name] : undefined;
    if (!outcome || m.value <= 0) continue;
    metrics.inc('stepline_deliveries_total', { outcome }, m.value);
    if (m.name === 'rejected') {
      metrics.inc('stepline_deliveries_rejected_total', { reason: m.dimensions['reason'] ?? 'unknown' }, m.value);
    }
  }
}

/** Executions started and ended, how many run now, and how long each state took (entered to exited). */
export class ExecutionMetrics {
  readonly #running = new Set<string>();
  readonly #stepStarts = new Map<string, number>();

  public constructor(private readonly metrics: MetricsRegistry) {}

  /** How many executions run now. */
  public get running(): number {
    return this.#running.size;
  }

  public onEvent(execution: ExecutionRecord, event: HistoryEvent): void {
    const repository = execution.repository ?? 'unknown';
    if (event.type === 'ExecutionStarted') {
      this.metrics.inc('stepline_runs_started_total', { repository });
      this.#running.add(execution.arn);
    }
    if (event.type === 'ExecutionRedriven') this.#running.add(execution.arn);
    const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
      | { name?: unknown }
      | undefined;
    const name = typeof details?.name === 'string' ? details.name : undefined;
    if (!name) return;
    const key = `${execution.arn}|${name}`;
    if (event.type.endsWith('StateEntered')) this.#stepStarts.set(key, event.timestamp.getTime());
    if (event.type.endsWith('StateExited')) {
      const started = this.#stepStarts.get(key);
      if (started !== undefined) {
        this.#stepStarts.delete(key);
        this.metrics.observe(
          'stepline_step_duration_seconds',
          { state: name },
          (event.timestamp.getTime() - started) / 1000,
        );
      }
    }
  }

  public onEnd(execution: ExecutionRecord): void {
    const repository = execution.repository ?? 'unknown';
    this.#running.delete(execution.arn);
    for (const key of [...this.#stepStarts.keys()]) {
      if (key.startsWith(`${execution.arn}|`)) this.#stepStarts.delete(key);
    }
    this.metrics.inc('stepline_runs_finished_total', { repository, status: execution.status });
    if (execution.status === 'SUCCEEDED') this.metrics.inc('stepline_runs_succeeded_total', { repository });
    else this.metrics.inc('stepline_runs_failed_total', { repository });
  }
}

/** The gauges read when `/metrics` is scraped: executions running now, deliveries parked now. */
export function collectGauges(metrics: MetricsRegistry, counted: ExecutionMetrics, parking: SqliteParkingStore): void {
  metrics.collect(() => {
    metrics.reset('stepline_runs_running');
    metrics.set('stepline_runs_running', {}, counted.running);
    metrics.reset('stepline_deliveries_parked');
    metrics.set('stepline_deliveries_parked', {}, parking.stats().parked);
  });
}
