import type { Analysis } from '../../config/strategy';
import type { Finalize } from '../contracts';
import { ManifestInvalid } from '../errors';
import { type KubernetesObject, type ObjectRef, objectKey, refOf } from '../types';
import type { StepInfo } from './contracts';
import { canaryReplicas, measurementWaits, type PlannedStep, plannedSteps, type RouteStrategy } from './plan';
import { routerKind, routerRef, withWeights } from './traffic';
import {
  isDeployment,
  previewService,
  replicasOf,
  selectsPods,
  serviceForTrack,
  trackCopy,
  withReplicas,
  withTrack,
} from './workload';

/**
 * What each step of a canary or blue-green rollout applies, as a pure function of the new revision's objects and
 * the target Deployment as the last good revision left it (ADR 0067):
 *
 * | step | canary, by replicas | canary, with a router | blue-green |
 * | --- | --- | --- | --- |
 * | i < steps | `<t>-canary` at round(N × w / 100), `<t>` (the old template) at the rest | `<t>-canary` as by replicas, `<t>` at N, the router at w | 0: `<t>-preview` at N and its Service; 1: the active Service selects the preview |
 * | promote | `<t>` with the new template at N; then `<t>-canary` removed | the same, the router back to the stable Service | `<t>` with the new template at N; then the active Service back to `<t>`'s pods, the preview removed |
 */

export type Mode = 'steps' | 'direct';

export interface StrategyObjects {
  /** The target Deployment, rendered (new image, track `stable`). */
  readonly target: KubernetesObject;
  /** Blue-green: the active Service as rendered (selecting the `stable` track in steps mode). */
  readonly active: KubernetesObject | null;
  /** The router object (HTTPRoute, Ingress), as rendered. */
  readonly router: KubernetesObject | null;
}

function invalid(message: string): ManifestInvalid {
  return new ManifestInvalid([{ source: { file: 'strategy', index: 1 }, object: null, field: '', message }]);
}

/** Finds the strategy's objects in the rendered manifests, or says what is missing. */
export function strategyObjects(strategy: RouteStrategy, rendered: readonly KubernetesObject[]): StrategyObjects {
  const deployments = rendered.filter(isDeployment);
  const target = strategy.workload
    ? deployments.find((d) => d.metadata.name === strategy.workload)
    : deployments.length === 1
      ? deployments[0]
      : undefined;
  if (!target) {
    throw invalid(
      strategy.workload
        ? `strategy.workload names Deployment ${strategy.workload}, which the manifests do not have`
        : `a ${strategy.type} rollout needs one Deployment, or strategy.workload to name one; the manifests have ${deployments.length}`,
    );
  }
  let active: KubernetesObject | null = null;
  if (strategy.type === 'blueGreen') {
    const services = rendered.filter((o) => o.kind === 'Service' && o.apiVersion === 'v1');
    const found = strategy.activeService
      ? services.filter((s) => s.metadata.name === strategy.activeService)
      : services.filter((s) => selectsPods(s, target));
    if (found.length !== 1) {
      throw invalid(
        strategy.activeService
          ? `strategy.activeService names Service ${strategy.activeService}, which the manifests do not have`
          : `a blue-green rollout needs one Service that selects Deployment ${target.metadata.name}'s pods, or strategy.activeService; the manifests have ${found.length}`,
      );
    }
    active = found[0] ?? null;
  }
  let router: KubernetesObject | null = null;
  if (strategy.type === 'canary' && strategy.trafficRouting) {
    const ref = routerRef(strategy.trafficRouting);
    router = rendered.find((o) => o.kind === ref.kind && o.metadata.name === ref.name) ?? null;
    if (!router)
      throw invalid(`strategy.trafficRouting names ${ref.kind} ${ref.name}, which the manifests do not have`);
  }
  return { target, active, router };
}

/**
 * The rendered objects as the strategy records and applies them: the target's pods carry the `stable` track; in
 * steps mode the blue-green active Service selects that track (in direct mode the pods that run do not carry it yet).
 */
export function strategyRender(
  strategy: RouteStrategy,
  rendered: readonly KubernetesObject[],
  mode: Mode,
): KubernetesObject[] {
  const { target, active } = strategyObjects(strategy, rendered);
  return rendered.map((object) => {
    if (object === target) return withTrack(object, 'stable');
    if (object === active && mode === 'steps') return serviceForTrack(object, 'stable');
    return object;
  });
}

/** Keys of the objects the steps apply themselves, which the deploy's first apply leaves out. */
export function stepOwnedKeys(objects: StrategyObjects): Set<string> {
  const keys = [objects.target, objects.router].filter((o): o is KubernetesObject => o !== null);
  return new Set(keys.map((o) => objectKey(refOf(o))));
}

export interface StepPlan {
  readonly apply: readonly KubernetesObject[];
  /** The Deployments to watch, in order. */
  readonly watch: readonly ObjectRef[];
  /** Null for the promotion. */
  readonly step: StepInfo | null;
  readonly finalize: Finalize | null;
}

function cloudwatchOf(analysis: Analysis | null): StepInfo['cloudwatch'] {
  if (!analysis) return null;
  const metrics = analysis.metrics.flatMap((m) => ('cloudwatch' in m.provider ? [m.provider.cloudwatch] : []));
  if (metrics.length === 0) return null;
  return {
    queries: metrics.flatMap((m) => m.metricDataQueries),
    lookbackSeconds: Math.max(...metrics.map((m) => m.lookbackSeconds)),
  };
}

function stepInfo(
  strategy: RouteStrategy,
  planned: PlannedStep,
  total: number,
  target: KubernetesObject,
  replicas: StepInfo['replicas'],
): StepInfo {
  const track = strategy.type === 'canary' ? 'canary' : 'preview';
  return {
    strategy: strategy.type,
    index: planned.index,
    total,
    label: planned.label,
    weight: planned.weight,
    replicas,
    pauseSeconds: planned.pauseSeconds,
    analysis: planned.analysis,
    waits: measurementWaits(planned),
    cloudwatch: cloudwatchOf(planned.analysis),
    workloads: { canary: `${target.metadata.name}-${track}`, stable: target.metadata.name },
    router: strategy.type === 'blueGreen' ? 'service' : routerKind(strategy.trafficRouting),
  };
}

/**
 * The plan of step `index` (`steps.length`: the promotion). `rendered` is the new revision as recorded
 * (`strategyRender` in steps mode); `stable` the target as the last good revision applied it.
 */
export function planStep(
  strategy: RouteStrategy,
  rendered: readonly KubernetesObject[],
  stable: KubernetesObject,
  index: number,
): StepPlan {
  const objects = strategyObjects(strategy, rendered);
  const { target } = objects;
  const steps = plannedSteps(strategy);
  const total = replicasOf(target);
  const ref = (o: KubernetesObject) => refOf(o);
  if (index >= steps.length) return promotion(strategy, objects);
  const planned = steps[index] as PlannedStep;
  if (strategy.type === 'canary') {
    const canary = trackCopy(target, 'canary', canaryReplicas(total, planned.weight));
    const routed = objects.router !== null && strategy.trafficRouting !== undefined;
    const stableReplicas = routed ? total : total - replicasOf(canary);
    const apply = [canary, withReplicas(stable, stableReplicas)];
    if (routed && objects.router && strategy.trafficRouting) {
      apply.push(withWeights(objects.router, strategy.trafficRouting, planned.weight));
    }
    return {
      apply,
      watch: [ref(canary), ref(stable)],
      step: stepInfo(strategy, planned, steps.length, target, { canary: replicasOf(canary), stable: stableReplicas }),
      finalize: null,
    };
  }
  const preview = trackCopy(target, 'preview', total);
  const active = objects.active as KubernetesObject;
  const apply =
    index === 0 ? [preview, previewService(active), withReplicas(stable, total)] : [serviceForTrack(active, 'preview')];
  return {
    apply,
    watch: [ref(preview)],
    step: stepInfo(strategy, planned, steps.length, target, { canary: total, stable: total }),
    finalize: null,
  };
}

function promotion(strategy: RouteStrategy, objects: StrategyObjects): StepPlan {
  const { target } = objects;
  const apply: KubernetesObject[] = [target];
  if (strategy.type === 'canary') {
    if (objects.router && strategy.trafficRouting) apply.push(withWeights(objects.router, strategy.trafficRouting, 0));
    const canary = trackCopy(target, 'canary', 0);
    return { apply, watch: [refOf(target)], step: null, finalize: { apply: [], delete: [refOf(canary)] } };
  }
  const active = objects.active as KubernetesObject;
  const preview = trackCopy(target, 'preview', 0);
  return {
    apply,
    watch: [refOf(target)],
    step: null,
    finalize: { apply: [serviceForTrack(active, 'stable')], delete: [refOf(preview), refOf(previewService(active))] },
  };
}
