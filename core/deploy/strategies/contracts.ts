import type { Analysis } from '../../config/strategy';

/**
 * What a step of a canary or blue-green rollout tells the workflow (`step` of the deploy function's result): which
 * step, how long it holds, what it measures and how. The workflow reads it in its Waits, its GetMetricData Task and
 * its Choice; the analysis function reads `analysis`. ADR 0067, 0068.
 */
export interface StepInfo {
  readonly strategy: 'canary' | 'blueGreen';
  readonly index: number;
  /** How many steps there are: `index + 1 === total` is the last before the promotion. */
  readonly total: number;
  /** `canary 10%`, `preview`, `switched`. */
  readonly label: string;
  readonly weight: number;
  /** Replicas of the canary (or preview) and of the stable Deployment at this step. */
  readonly replicas: { readonly canary: number; readonly stable: number };
  readonly pauseSeconds: number;
  /** Null: the step only waits its pause (`pauseSeconds`). */
  readonly analysis: Analysis | null;
  /** The Waits before the measurements: the first one, then each next one. Null without an analysis. */
  readonly waits: { readonly first: number; readonly next: number } | null;
  /**
   * The CloudWatch metrics' queries, for the workflow's `aws-sdk:cloudwatch:getMetricData` Task (which needs at
   * least one): null when no metric reads CloudWatch.
   */
  readonly cloudwatch: {
    readonly queries: readonly Record<string, unknown>[];
    readonly lookbackSeconds: number;
  } | null;
  /** The Deployments of this step: `web-canary` / `web-preview` and `web`. */
  readonly workloads: { readonly canary: string; readonly stable: string };
  /** The traffic router that carries the weight, when one is configured. */
  readonly router: 'replicas' | 'gatewayApi' | 'alb' | 'service';
}
