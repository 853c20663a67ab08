import type { RolloutState } from './contracts';
import { groupOf, isRecord, type KubernetesObject } from './types';

/**
 * The rollout decision, as a pure function of an object read from the cluster.
 *
 * Deployments, StatefulSets and DaemonSets follow `kubectl rollout status` (kubectl's
 * polymorphichelpers/rollout_status.go) step by step, with the same wording. Other kinds (custom resources of
 * operators) follow the kstatus conventions: a deletion in progress or an unobserved generation is waiting, a
 * `Reconciling=True` condition is waiting, `Stalled=True` has failed; beyond kstatus, a `Ready` condition is
 * honoured (True done, False waiting) since many operators report only that; an object with none of these is
 * done ("current").
 */
export interface RolloutDecision {
  readonly state: RolloutState;
  readonly reason: string;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function field(object: unknown, ...path: string[]): unknown {
  let node = object;
  for (const step of path) {
    if (!isRecord(node)) return undefined;
    node = node[step];
  }
  return node;
}

function conditions(object: KubernetesObject): Condition[] {
  const list = field(object, 'status', 'conditions');
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).map((c) => ({
    type: String(c['type'] ?? ''),
    status: String(c['status'] ?? ''),
    reason: String(c['reason'] ?? ''),
    message: String(c['message'] ?? ''),
  }));
}

const waiting = (reason: string): RolloutDecision => ({ state: 'waiting', reason });
const done = (reason: string): RolloutDecision => ({ state: 'done', reason });
const failed = (reason: string): RolloutDecision => ({ state: 'failed', reason });

/**
 * Decides the rollout state of one object. `expectedGeneration` is the generation the apply produced: a
 * status that has not observed at least that generation is not about this deploy.
 */
export function decideRollout(object: KubernetesObject, expectedGeneration: number | null = null): RolloutDecision {
  const generation = num(object.metadata.generation) ?? 0;
  if (expectedGeneration !== null && generation < expectedGeneration) {
    return waiting(
      `${object.kind} "${object.metadata.name}" generation ${generation} is older than the applied ${expectedGeneration}`,
    );
  }
  const group = groupOf(object.apiVersion);
  if (group === 'apps' || group === 'extensions') {
    if (object.kind === 'Deployment') return deploymentStatus(object);
    if (object.kind === 'StatefulSet') return statefulSetStatus(object);
    if (object.kind === 'DaemonSet') return daemonSetStatus(object);
  }
  return kstatus(object);
}

function deploymentStatus(deployment: KubernetesObject): RolloutDecision {
  const name = deployment.metadata.name;
  const generation = num(deployment.metadata.generation) ?? 0;
  const observed = num(field(deployment, 'status', 'observedGeneration')) ?? 0;
  if (generation > observed) return waiting('Waiting for deployment spec update to be observed...');
  const all = conditions(deployment);
  const progressing = all.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const detail = progressing.message ? `: ${progressing.message}` : '';
    return failed(`deployment "${name}" exceeded its progress deadline${detail}`);
  }
  const replicaFailure = all.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const note = replicaFailure ? ` (${replicaFailure.reason}: ${replicaFailure.message})` : '';
  const wanted = num(field(deployment, 'spec', 'replicas')) ?? 1;
  const updated = num(field(deployment, 'status', 'updatedReplicas')) ?? 0;
  const replicas = num(field(deployment, 'status', 'replicas')) ?? 0;
  const available = num(field(deployment, 'status', 'availableReplicas')) ?? 0;
  if (updated < wanted) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...${note}`,
    );
  }
  if (replicas > updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...${note}`,
    );
  }
  if (available < updated) {
    return waiting(
      `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...${note}`,
    );
  }
  return done(`deployment "${name}" successfully rolled out`);
}

function statefulSetStatus(sts: KubernetesObject): RolloutDecision {
  const strategy = String(field(sts, 'spec', 'updateStrategy', 'type') ?? 'RollingUpdate');
  if (strategy !== 'RollingUpdate') {
    return done(
      `statefulset "${sts.metadata.name}" uses ${strategy}: its pods update when deleted, so there is no rollout to wait for`,
    );
  }
  const generation = num(sts.metadata.generation) ?? 0;
  const observed = num(field(sts, 'status', 'observedGeneration')) ?? 0;
  if (observed === 0 || generation > observed) return waiting('Waiting for statefulset spec update to be observed...');
  const wanted = num(field(sts, 'spec', 'replicas')) ?? 1;
  const ready = num(field(sts, 'status', 'readyReplicas')) ?? 0;
  if (ready < wanted) return waiting(`Waiting for ${wanted - ready} pods to be ready...`);
  const updated = num(field(sts, 'status', 'updatedReplicas')) ?? 0;
  const rollingUpdate = field(sts, 'spec', 'updateStrategy', 'rollingUpdate');
  if (isRecord(rollingUpdate)) {
    const partition = num(rollingUpdate['partition']) ?? 0;
    if (updated < wanted - partition) {
      return waiting(
        `Waiting for partitioned roll out to finish: ${updated} out of ${wanted - partition} new pods have been updated...`,
      );
    }
    return done(`partitioned roll out complete: ${updated} new pods have been updated...`);
  }
  const updateRevision = String(field(sts, 'status', 'updateRevision') ?? '');
  const currentRevision = String(field(sts, 'status', 'currentRevision') ?? '');
  if (updateRevision !== currentRevision) {
    return waiting(
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`,
    );
  }
  const current = num(field(sts, 'status', 'currentReplicas')) ?? 0;
  return done(`statefulset rolling update complete ${current} pods at revision ${currentRevision}...`);
}

function daemonSetStatus(daemon: KubernetesObject): RolloutDecision {
  const name = daemon.metadata.name;
  const strategy = String(field(daemon, 'spec', 'updateStrategy', 'type') ?? 'RollingUpdate');
  if (strategy !== 'RollingUpdate') {
    return done(
      `daemon set "${name}" uses ${strategy}: its pods update when deleted, so there is no rollout to wait for`,
    );
  }
  const generation = num(daemon.metadata.generation) ?? 0;
  const observed = num(field(daemon, 'status', 'observedGeneration')) ?? 0;
  if (generation > observed) return waiting('Waiting for daemon set spec update to be observed...');
  const desired = num(field(daemon, 'status', 'desiredNumberScheduled')) ?? 0;
  const updated = num(field(daemon, 'status', 'updatedNumberScheduled')) ?? 0;
  const available = num(field(daemon, 'status', 'numberAvailable')) ?? 0;
  if (updated < desired) {
    return waiting(
      `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
    );
  }
  if (available < desired) {
    return waiting(
      `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
    );
  }
  return done(`daemon set "${name}" successfully rolled out`);
}

function kstatus(object: KubernetesObject): RolloutDecision {
  const label = `${object.kind} "${object.metadata.name}"`;
  if (object.metadata['deletionTimestamp']) return waiting(`${label} is being deleted`);
  const generation = num(object.metadata.generation);
  const observed = num(field(object, 'status', 'observedGeneration'));
  if (generation !== null && observed !== null && observed !== generation) {
    return waiting(`${label} generation is ${generation}, but latest observed generation is ${observed}`);
  }
  const all = conditions(object);
  const describe = (c: Condition): string => [c.reason, c.message].filter(Boolean).join(': ');
  const reconciling = all.find((c) => c.type === 'Reconciling' && c.status === 'True');
  if (reconciling)
    return waiting(`${label} is reconciling${describe(reconciling) ? ` (${describe(reconciling)})` : ''}`);
  const stalled = all.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) return failed(`${label} is stalled${describe(stalled) ? `: ${describe(stalled)}` : ''}`);
  const ready = all.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' || ready?.status === 'Unknown') {
    return waiting(`${label} is not ready${describe(ready) ? ` (${describe(ready)})` : ''}`);
  }
  if (ready?.status === 'True') return done(`${label} is ready`);
  return done(`${label} is current`);
}

/** Combines the decisions of several objects: any failed is failed; all done is done; else waiting. */
export function combineRollouts(decisions: readonly RolloutDecision[]): RolloutDecision {
  const firstFailed = decisions.find((d) => d.state === 'failed');
  if (firstFailed) return firstFailed;
  const firstWaiting = decisions.find((d) => d.state === 'waiting');
  if (firstWaiting) return firstWaiting;
  return done(decisions.length === 0 ? 'nothing to wait for' : `${decisions.length} object(s) rolled out`);
}
