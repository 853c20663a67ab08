import type { RouteEnvironment } from '../../intake/types';
import type { AppliedObject, DeployResult, Finalize, StepEvent, WatchedObject } from '../contracts';
import { DeployEventInvalid, RevisionUnreadable } from '../errors';
import type { Clock, ClusterClient, RevisionStore } from '../ports';
import { lastGoodRevision, type RevisionSummary } from '../revision';
import { decideRollout } from '../rollout';
import { FIELD_MANAGER, type KubernetesObject, objectKey, refOf } from '../types';
import type { RouteStrategy } from './plan';
import { type Mode, planStep, type StepPlan, stepOwnedKeys, strategyObjects, strategyRender } from './steps';
import { applicable, isDeployment, TRACK_LABEL, templateLabelsOf, trackSelector, withReplicas } from './workload';

/**
 * The deploy functions' side of a canary or blue-green rollout (ADR 0067): how a deploy starts one (or deploys
 * directly when there is nothing to compare with), each step, what a promotion finishes, and what an abort or a
 * rolling deploy does with a canary or preview left behind.
 */

export interface StrategyPorts {
  readonly cluster: ClusterClient;
  readonly revisions: RevisionStore;
  readonly clock: Clock;
}

type Applier = (objects: readonly KubernetesObject[]) => Promise<{ applied: AppliedObject[]; watch: WatchedObject[] }>;

export interface StrategyStart {
  readonly mode: Mode;
  readonly reason: string;
  /** The objects the revision records. */
  readonly objects: readonly KubernetesObject[];
  /** The objects this deploy applies, in order. */
  readonly apply: readonly KubernetesObject[];
  readonly plan: StepPlan | null;
}

/**
 * Decides whether the strategy runs its steps or the deploy goes straight: steps need the target as the last good
 * revision applied it and running in the cluster; blue-green also needs its pods to carry the `stable` track (the
 * active Service will select it), which a direct deploy gives them.
 */
export async function startStrategy(
  strategy: RouteStrategy,
  environment: RouteEnvironment,
  ordered: readonly KubernetesObject[],
  revisions: readonly RevisionSummary[],
  ports: StrategyPorts,
): Promise<StrategyStart> {
  const { target } = strategyObjects(strategy, ordered);
  const direct = async (reason: string): Promise<StrategyStart> => {
    await removeTracks(ports.cluster, environment);
    const objects = strategyRender(strategy, ordered, 'direct');
    return { mode: 'direct', reason, objects, apply: objects, plan: null };
  };
  const good = lastGoodRevision(revisions, null);
  if (!good) return direct(`no earlier revision of ${environment.name} completed its rollout`);
  const record = await ports.revisions.read(environment.namespace, environment.name, good.number);
  const stable = record?.objects.find((o) => isDeployment(o) && o.metadata.name === target.metadata.name);
  if (!stable) return direct(`revision ${good.number} has no Deployment ${target.metadata.name}`);
  const live = await ports.cluster.get(refOf(target));
  if (!live) return direct(`Deployment ${target.metadata.name} does not exist yet`);
  if (strategy.type === 'blueGreen') {
    const labelled = templateLabelsOf(live)[TRACK_LABEL] === 'stable' && decideRollout(live).state === 'done';
    if (!labelled) {
      return direct(
        `the pods of Deployment ${target.metadata.name} do not carry ${TRACK_LABEL}=stable yet: this deploy labels them, blue-green starts with the next one`,
      );
    }
  }
  const objects = strategyRender(strategy, ordered, 'steps');
  const owned = stepOwnedKeys(strategyObjects(strategy, objects));
  const plan = planStep(strategy, objects, stable, 0);
  const first = objects.filter((o) => !owned.has(objectKey(refOf(o))));
  return { mode: 'steps', reason: '', objects, apply: [...first, ...plan.apply], plan };
}

/** One step of a pending revision (`index` = steps: the promotion). */
export async function setStep(event: StepEvent, ports: StrategyPorts, apply: Applier): Promise<DeployResult> {
  const { environment } = event;
  const strategy = environment.strategy;
  if (!strategy) throw new DeployEventInvalid(`Environment ${environment.name} has no canary or blue-green strategy`);
  const record = await ports.revisions.read(environment.namespace, environment.name, event.revision);
  if (!record) throw new RevisionUnreadable(`Revision ${event.revision} of ${environment.name} cannot be read`);
  const summaries = await ports.revisions.list(environment.namespace, environment.name);
  const good = lastGoodRevision(summaries, event.revision);
  const goodRecord = good ? await ports.revisions.read(environment.namespace, environment.name, good.number) : null;
  const { target } = strategyObjects(strategy, record.objects);
  const stable = goodRecord?.objects.find((o) => isDeployment(o) && o.metadata.name === target.metadata.name);
  if (!stable) {
    throw new RevisionUnreadable(
      `No earlier good revision of ${environment.name} has Deployment ${target.metadata.name}, which the steps scale`,
    );
  }
  const plan = planStep(strategy, record.objects, stable, event.index);
  const { applied, watch } = await apply(plan.apply);
  return {
    environment: environment.name,
    namespace: environment.namespace,
    revision: record.number,
    image: record.image,
    applied,
    changed: applied.filter((a) => a.change !== 'unchanged').length,
    watch,
    rollout: {
      deadline: new Date(ports.clock.now().getTime() + environment.rollout.timeoutSeconds * 1000).toISOString(),
      pollSeconds: environment.rollout.pollSeconds,
    },
    step: plan.step,
    finalize: plan.finalize,
    strategy: { type: strategy.type, mode: 'steps', reason: '' },
  };
}

/** After the promotion rolled out: the active Service back on the promoted pods, the canary or preview removed. */
export async function finishPromotion(cluster: ClusterClient, finalize: Finalize): Promise<void> {
  for (const object of finalize.apply) await cluster.apply(object, { fieldManager: FIELD_MANAGER, force: false });
  for (const ref of finalize.delete) await cluster.delete(ref);
}

async function tracked(cluster: ClusterClient, environment: RouteEnvironment): Promise<KubernetesObject[]> {
  const found = await cluster.list('apps/v1', 'Deployment', environment.namespace, trackSelector(environment.name));
  return found.filter((d) => ['canary', 'preview'].includes(d.metadata.labels?.[TRACK_LABEL] ?? ''));
}

/**
 * A rolling or direct deploy removes a canary or preview Deployment left by an earlier run (a crashed one, or an
 * environment that changed strategy), and the preview Service with it.
 */
export async function removeTracks(cluster: ClusterClient, environment: RouteEnvironment): Promise<void> {
  for (const deployment of await tracked(cluster, environment)) {
    await cluster.delete(refOf(deployment));
  }
  const services = await cluster.list('v1', 'Service', environment.namespace, trackSelector(environment.name));
  for (const service of services) await cluster.delete(refOf(service));
}

/** An abort: every canary and preview Deployment of the environment scaled to 0 (kept, for its events and logs). */
export async function scaleDownTracks(cluster: ClusterClient, environment: RouteEnvironment): Promise<AppliedObject[]> {
  const applied: AppliedObject[] = [];
  for (const deployment of await tracked(cluster, environment)) {
    const object = withReplicas(applicable(deployment), 0);
    const outcome = await cluster.apply(object, { fieldManager: FIELD_MANAGER, force: true });
    applied.push({ ...refOf(object), change: outcome.change });
  }
  return applied;
}
