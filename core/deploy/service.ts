import type { RouteEnvironment } from '../intake/types';
import type {
  AppliedObject,
  DeployEvent,
  DeployResult,
  ObjectRollout,
  RollbackEvent,
  RollbackResult,
  RolloutEvent,
  RolloutResult,
  StepEvent,
  WatchedObject,
} from './contracts';
import {
  KubernetesError,
  NoPreviousRevision,
  RevisionUnreadable,
  RolloutFailed,
  RolloutInProgress,
  StepReady,
} from './errors';
import { builtinNamespaced, isWatched } from './kinds';
import { parseManifests } from './manifests';
import { applyOrder } from './order';
import type { Clock, ClusterClient, ManifestSource, RevisionStore } from './ports';
import { renderObjects } from './render';
import { lastGoodRevision, nextRevisionNumber, type RevisionRecord, revisionsToPrune } from './revision';
import { combineRollouts, decideRollout, type RolloutDecision } from './rollout';
import {
  finishPromotion,
  removeTracks,
  type StrategyStart,
  scaleDownTracks,
  setStep,
  startStrategy,
} from './strategies/service';
import { FIELD_MANAGER, groupOf, type KubernetesObject, type ObjectRef, objectKey, refOf } from './types';
import { scopesFromCrds, validateDocuments } from './validate';

/**
 * The three operations of the deployer, written against the ports: deploy (read, validate, render, apply,
 * record), one rollout check, and rollback. The functions in functions/ are thin chains around these.
 */

export interface DeployPorts {
  readonly cluster: ClusterClient;
  readonly revisions: RevisionStore;
  readonly manifests: ManifestSource;
  readonly clock: Clock;
}

function deadlineFrom(clock: Clock, environment: RouteEnvironment): string {
  return new Date(clock.now().getTime() + environment.rollout.timeoutSeconds * 1000).toISOString();
}

/**
 * Applies objects in the given order with server-side apply. A Kubernetes error is rethrown with the list of
 * what was applied before it, so that nothing is half-applied silently.
 */
export async function applyAll(
  cluster: ClusterClient,
  objects: readonly KubernetesObject[],
  force: boolean,
): Promise<{ applied: AppliedObject[]; watch: WatchedObject[] }> {
  const applied: AppliedObject[] = [];
  const watch: WatchedObject[] = [];
  for (const object of objects) {
    let outcome: Awaited<ReturnType<ClusterClient['apply']>>;
    try {
      outcome = await cluster.apply(object, { fieldManager: FIELD_MANAGER, force });
    } catch (error) {
      if (error instanceof KubernetesError) throw error.withApplied(applied);
      throw error;
    }
    const ref = refOf(object);
    applied.push({ ...ref, change: outcome.change });
    if (isWatched(groupOf(ref.apiVersion), ref.kind)) {
      const generation = outcome.object.metadata.generation;
      watch.push({ ...ref, generation: typeof generation === 'number' ? generation : null });
    }
  }
  return { applied, watch };
}

/** Resolves, through the cluster, the scope of every kind that is neither built in nor declared by a CRD here. */
async function resolveScopes(
  cluster: ClusterClient,
  objects: readonly { apiVersion?: unknown; kind?: unknown }[],
  declared: ReadonlyMap<string, boolean>,
): Promise<Map<string, boolean | null>> {
  const scopes = new Map<string, boolean | null>();
  for (const { apiVersion, kind } of objects) {
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') continue;
    const group = groupOf(apiVersion);
    const key = `${apiVersion}/${kind}`;
    if (scopes.has(key) || builtinNamespaced(group, kind) !== null || declared.has(`${group}/${kind}`)) continue;
    scopes.set(key, await cluster.scopeOf(apiVersion, kind));
  }
  return scopes;
}

export async function deploy(event: DeployEvent, ports: DeployPorts): Promise<DeployResult> {
  const { environment } = event;
  const files = await ports.manifests.read(event.manifestsLocation, environment.manifests);
  const documents = parseManifests(files);
  const scopes = await resolveScopes(
    ports.cluster,
    documents.map((d) => d.object),
    scopesFromCrds(documents),
  );
  const objects = validateDocuments(
    documents,
    environment,
    (apiVersion, kind) => scopes.get(`${apiVersion}/${kind}`) ?? null,
  );
  const rendered = renderObjects(objects, {
    image: event.image,
    request: event.request,
    executionName: event.executionName,
    environment: environment.name,
  });
  const revisions = await ports.revisions.list(environment.namespace, environment.name);
  const number = nextRevisionNumber(revisions);
  const strategy = environment.strategy;
  let ordered = applyOrder(rendered);
  let toApply = ordered;
  let started: StrategyStart | null = null;
  if (strategy) {
    started = await startStrategy(strategy, environment, ordered, revisions, ports);
    ordered = [...started.objects];
    toApply = [...started.apply];
  } else {
    await removeTracks(ports.cluster, environment);
  }

  const { applied, watch } = await applyAll(ports.cluster, toApply, event.force ?? false);

  const image = `${event.image.repository}@${event.image.digest}`;
  const record: RevisionRecord = {
    environment: environment.name,
    namespace: environment.namespace,
    number,
    status: 'pending',
    commit: event.request.commit.sha,
    repository: event.request.repository.fullName,
    executionName: event.executionName,
    image,
    createdAt: ports.clock.now().toISOString(),
    objects: ordered,
  };
  try {
    await ports.revisions.create(record);
    const all = [
      ...revisions,
      { number, status: record.status, commit: record.commit, image, createdAt: record.createdAt },
    ];
    for (const old of revisionsToPrune(all)) await ports.revisions.remove(environment.namespace, environment.name, old);
  } catch (error) {
    if (error instanceof KubernetesError) throw error.withApplied(applied);
    throw error;
  }

  return {
    environment: environment.name,
    namespace: environment.namespace,
    revision: number,
    image,
    applied,
    changed: applied.filter((a) => a.change !== 'unchanged').length,
    watch,
    rollout: { deadline: deadlineFrom(ports.clock, environment), pollSeconds: environment.rollout.pollSeconds },
    ...(strategy && started
      ? {
          step: started.plan?.step ?? null,
          finalize: null,
          strategy: { type: strategy.type, mode: started.mode, reason: started.reason },
        }
      : {}),
  };
}

/** The deploy function's `step` action: one step of a canary or blue-green rollout, or its promotion (ADR 0067). */
export async function step(
  event: StepEvent,
  ports: Pick<DeployPorts, 'cluster' | 'revisions' | 'clock'>,
): Promise<DeployResult> {
  return setStep(event, ports, (objects) => applyAll(ports.cluster, objects, false));
}

/** One rollout check of the watched objects. */
export async function checkRollout(
  event: RolloutEvent,
  ports: Pick<DeployPorts, 'cluster' | 'revisions' | 'clock'>,
): Promise<RolloutResult> {
  const now = ports.clock.now();
  const objects: ObjectRollout[] = [];
  for (const watched of event.watch) {
    const { generation, ...ref } = watched;
    const live = await ports.cluster.get(ref);
    const decision: RolloutDecision = live
      ? decideRollout(live, generation)
      : { state: 'failed', reason: `${ref.kind} "${ref.name}" no longer exists` };
    objects.push({ ...ref, ...decision });
  }
  let overall = combineRollouts(objects);
  const deadline = new Date(event.deadline);
  if (overall.state === 'waiting' && now.getTime() >= deadline.getTime()) {
    overall = {
      state: 'failed',
      reason: `The rollout did not complete by its deadline ${event.deadline}: ${overall.reason}`,
    };
  }
  const step = event.step ?? null;
  if (overall.state === 'done' && step !== null) {
    throw new StepReady(`${step.label} in ${event.environment.name}: ${overall.reason}`);
  }
  if (overall.state === 'done' && event.finalize) await finishPromotion(ports.cluster, event.finalize);
  let recordedRevision: number | null = null;
  if (overall.state === 'done' && event.revision !== null) {
    await ports.revisions.setStatus(event.environment.namespace, event.environment.name, event.revision, 'deployed');
    recordedRevision = event.revision;
  }
  if (overall.state === 'failed' && event.onFailure === 'throw') {
    throw new RolloutFailed(`Rollout in ${event.environment.name} failed: ${overall.reason}`);
  }
  if (overall.state === 'waiting' && event.onWaiting === 'throw') {
    throw new RolloutInProgress(`Rollout in ${event.environment.name} in progress: ${overall.reason}`);
  }
  return {
    state: overall.state,
    reason: overall.reason,
    objects,
    deadline: event.deadline,
    pollSeconds: event.environment.rollout.pollSeconds,
    checkedAt: now.toISOString(),
    recordedRevision,
  };
}

/** Re-applies the last good revision of the environment, after marking the failed one. */
export async function rollback(
  event: RollbackEvent,
  ports: Pick<DeployPorts, 'cluster' | 'revisions' | 'clock'>,
): Promise<RollbackResult> {
  const { environment } = event;
  const revisions = await ports.revisions.list(environment.namespace, environment.name);
  const failed = event.failedRevision;
  if (failed !== null && revisions.some((r) => r.number === failed)) {
    await ports.revisions.setStatus(environment.namespace, environment.name, failed, 'failed');
  }
  const target = lastGoodRevision(revisions, failed);
  if (!target) {
    throw new NoPreviousRevision(
      `Environment ${environment.name} has no earlier revision whose rollout completed (revisions in namespace ${environment.namespace}: ${
        revisions.map((r) => `${r.number} ${r.status}`).join(', ') || 'none'
      }); nothing to roll back to`,
    );
  }
  const record = await ports.revisions.read(environment.namespace, environment.name, target.number);
  if (!record) {
    throw new RevisionUnreadable(`Revision ${target.number} of ${environment.name} was listed but could not be read`);
  }
  const restored = await applyAll(ports.cluster, record.objects, false);
  const { watch } = restored;
  // An abort: the canary or preview scaled to 0; the stable Deployment is back at N with the record above.
  const applied = environment.strategy
    ? [...restored.applied, ...(await scaleDownTracks(ports.cluster, environment))]
    : restored.applied;

  let leftover: ObjectRef[] = [];
  if (failed !== null) {
    const failedRecord = await ports.revisions.read(environment.namespace, environment.name, failed).catch(() => null);
    if (failedRecord) {
      const restored = new Set(record.objects.map((o) => objectKey(refOf(o))));
      leftover = failedRecord.objects.map(refOf).filter((ref) => !restored.has(objectKey(ref)));
    }
  }
  return {
    environment: environment.name,
    namespace: environment.namespace,
    revision: record.number,
    commit: record.commit,
    image: record.image,
    applied,
    changed: applied.filter((a) => a.change !== 'unchanged').length,
    watch,
    rollout: { deadline: deadlineFrom(ports.clock, environment), pollSeconds: environment.rollout.pollSeconds },
    leftover,
  };
}
