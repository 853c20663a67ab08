import { cloudWatchProvider } from '../../../core/deploy/analysis/cloudwatch';
import type { AnalysisEvent, Measured, MetricProvider } from '../../../core/deploy/analysis/contracts';
import { analyze } from '../../../core/deploy/analysis/service';
import type { DeployEvent, DeployResult, StepEvent } from '../../../core/deploy/contracts';
import { parseStepEvent } from '../../../core/deploy/events';
import type { RouteStrategy } from '../../../core/deploy/strategies/plan';
import { planStep } from '../../../core/deploy/strategies/steps';
import type { KubernetesObject } from '../../../core/deploy/types';
import { parseAnalysisEvent } from '../../../functions/analysis/handler';
import { TaskFailure, type TaskRequest } from '../../../local/engine';

/**
 * The canary and blue-green side of the pipeline world (pipeline-world.ts): the deploy function's steps planned by
 * the real planner (core/deploy/strategies) over a stand-in Deployment, the analysis function's real verdicts
 * (core/deploy/analysis) over scripted measurements, and the workflow's GetMetricData Task answered from a script.
 */

/**
 * What the metrics say, measurement after measurement: `healthy` passes, `failing` fails from the `after`-th
 * measurement on, `inconclusive` gives a value between the conditions, `down` is a provider that cannot be reached.
 */
export type MetricsScript = 'healthy' | 'failing' | 'inconclusive' | 'down';

export interface StrategyCalls {
  readonly steps: StepEvent[];
  readonly analyses: AnalysisEvent[];
  readonly metricQueries: Record<string, unknown>[];
}

const deployment = (name: string, image: string, replicas: number): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'shop', image }] } },
  },
});

const service = (name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { selector: { app: name }, ports: [{ port: 80 }] },
});

export class StrategyStandIn {
  public readonly calls: StrategyCalls = { steps: [], analyses: [], metricQueries: [] };
  private measurements = 0;

  public constructor(
    private readonly script: MetricsScript = 'healthy',
    /** `failing`: the measurement (1-based, across the run) from which the metric fails. */
    private readonly failFrom = 1,
  ) {}

  private plan(strategy: RouteStrategy, image: string, index: number) {
    const rendered = [deployment('shop', image, 10), service('shop')];
    return planStep(strategy, rendered, deployment('shop', 'shop@sha256:old', 10), index);
  }

  /** The deploy's first step (a rolling environment gets none). */
  public started(event: DeployEvent, result: DeployResult): DeployResult {
    const strategy = event.environment.strategy;
    if (!strategy) return result;
    const plan = this.plan(strategy, result.image, 0);
    return { ...result, step: plan.step, finalize: null, strategy: { type: strategy.type, mode: 'steps', reason: '' } };
  }

  /** The deploy function's `step` action. */
  public step(payload: unknown, base: Omit<DeployResult, 'step' | 'finalize'>): DeployResult {
    const event = parseStepEvent(payload);
    this.calls.steps.push(event);
    const strategy = event.environment.strategy as RouteStrategy;
    const plan = this.plan(strategy, base.image, event.index);
    return { ...base, revision: event.revision, step: plan.step, finalize: plan.finalize };
  }

  /** The analysis function, with the real analysis over the script's measurements. */
  public async analyze(payload: unknown): Promise<unknown> {
    const event = parseAnalysisEvent(payload);
    this.calls.analyses.push(event);
    const scripted: MetricProvider = { measure: async () => this.next() };
    return analyze(event, { cloudwatch: cloudWatchProvider, prometheus: scripted, job: scripted });
  }

  private next(): Measured {
    this.measurements += 1;
    switch (this.script) {
      case 'healthy':
        return { kind: 'value', result: [0.01] };
      case 'failing':
        return { kind: 'value', result: [this.measurements >= this.failFrom ? 0.4 : 0.01] };
      case 'inconclusive':
        return { kind: 'value', result: [0.07] };
      case 'down':
        return { kind: 'error', message: 'Prometheus at prometheus:9090 could not be queried: connect ECONNREFUSED' };
    }
  }

  /** The workflow's `aws-sdk:cloudwatch:getMetricData` Task: the queries' results, as the SDK integration answers. */
  public async getMetricData(request: TaskRequest): Promise<unknown> {
    const input = request.input as { MetricDataQueries: { Id: string }[] };
    this.calls.metricQueries.push(request.input as Record<string, unknown>);
    if (this.script === 'down') {
      throw new TaskFailure(
        'CloudWatch.CloudWatchException',
        'Service Unavailable (Service: CloudWatch, Status Code: 503)',
      );
    }
    return {
      MetricDataResults: input.MetricDataQueries.map((q) => ({
        Id: q.Id,
        Label: q.Id,
        StatusCode: 'Complete',
        Timestamps: ['2030-01-01T00:00:00Z'],
        Values: [this.script === 'healthy' ? 0.5 : 9],
      })),
      Messages: [],
    };
  }
}
