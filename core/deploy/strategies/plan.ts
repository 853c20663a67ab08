import type { Analysis, BlueGreenStrategy, CanaryStrategy, Strategy } from '../../config/strategy';

/**
 * A strategy as the route carries it to the workflow and the deploy functions (`RouteEnvironment.strategy`), and
 * its steps: what each step sets, how long it holds, what it measures. Pure; ADR 0067.
 *
 * A canary's steps are its configured ones. A blue-green rollout has two: `preview` (the new version runs beside
 * the old one, no traffic, `previewSeconds`, the pre-promotion analysis) and `switched` (the active Service selects
 * the new pods, the old ones stay `scaleDownDelaySeconds` for an instant rollback, the post-promotion analysis).
 * After the last step comes the promotion.
 */

export type RouteStrategy = (CanaryStrategy | BlueGreenStrategy) & {
  /** Seconds the strategy may add to the environment's lock lease: every step's hold, wait and decision. */
  readonly holdSeconds: number;
};

export interface PlannedStep {
  /** 0-based. */
  readonly index: number;
  /** `canary 10%`, `preview`, `switched`: how statuses name the step. */
  readonly label: string;
  /** The new version's share in percent (blue-green: 0 while previewing, 100 once switched). */
  readonly weight: number;
  /** The step's hold once its replicas are ready. */
  readonly pauseSeconds: number;
  readonly analysis: Analysis | null;
}

/** The strategy for the route, or undefined for a rolling update (the route then carries none). */
export function routeStrategy(
  strategy: Strategy | undefined,
  rollout: { readonly timeoutSeconds: number },
): RouteStrategy | undefined {
  if (!strategy || strategy.type === 'rolling') return undefined;
  const steps = plannedSteps(strategy);
  const holdSeconds =
    steps.reduce((sum, step) => sum + stepHoldSeconds(step) + rollout.timeoutSeconds, 0) + rollout.timeoutSeconds;
  return { ...strategy, holdSeconds };
}

/** How long a step holds at most: its pause or its measurements, and a person's decision when one is asked. */
function stepHoldSeconds(step: PlannedStep): number {
  const analysis = step.analysis;
  if (!analysis) return step.pauseSeconds;
  return Math.max(step.pauseSeconds, analysis.count * analysis.interval) + analysis.decision.timeoutMinutes * 60;
}

export function plannedSteps(strategy: CanaryStrategy | BlueGreenStrategy): PlannedStep[] {
  if (strategy.type === 'canary') {
    return strategy.steps.map((step, index) => ({
      index,
      label: `canary ${step.weight}%`,
      weight: step.weight,
      pauseSeconds: step.pauseSeconds,
      analysis: strategy.analysis ?? null,
    }));
  }
  return [
    {
      index: 0,
      label: 'preview',
      weight: 0,
      pauseSeconds: strategy.previewSeconds,
      analysis: strategy.prePromotionAnalysis ?? null,
    },
    {
      index: 1,
      label: 'switched',
      weight: 100,
      pauseSeconds: strategy.scaleDownDelaySeconds,
      analysis: strategy.postPromotionAnalysis ?? null,
    },
  ];
}

/**
 * The Waits of a step's measurements: the step holds `max(pause, count × interval)`, measuring every `interval`
 * and last at its end, so the first Wait takes up what the pause has beyond the measurements.
 */
export function measurementWaits(step: PlannedStep): { readonly first: number; readonly next: number } | null {
  const analysis = step.analysis;
  if (!analysis) return null;
  const rest = Math.max(0, step.pauseSeconds - analysis.count * analysis.interval);
  return { first: analysis.interval + rest, next: analysis.interval };
}

/** Replicas of the canary at a weight: `round(N × weight / 100)`, at least 1, at most N. */
export function canaryReplicas(total: number, weight: number): number {
  return Math.min(total, Math.max(1, Math.round((total * weight) / 100)));
}
