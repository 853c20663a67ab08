import type { GitOpsDelivery } from '../config/delivery';
import type {
  DeployEvent,
  DeployResult,
  ObjectRollout,
  RollbackEvent,
  RollbackResult,
  RolloutEvent,
  RolloutResult,
  WatchedObject,
} from '../deploy/contracts';
import { RolloutFailed, RolloutInProgress } from '../deploy/errors';
import type { Clock, ClusterClient } from '../deploy/ports';
import { combineRollouts, decideRollout, type RolloutDecision } from '../deploy/rollout';
import type { RouteEnvironment } from '../intake/types';
import type { GitOpsWatch } from './contracts';
import { controllerRef, decideConvergence, managedWorkloads } from './converge';
import { GitOpsConflict, GitOpsNotConfigured, GitOpsRevertRefused } from './errors';
import {
  changeBranch,
  deliverMessage,
  deliverSubject,
  type MessageContext,
  type PlannedWrite,
  planWrites,
  revertMessage,
  TRAILERS,
  targetFiles,
} from './plan';
import type { CommitInfo, ConfigRepository, FileWrite, GitOpsAccess, PullRequestInfo } from './ports';
import type { ImageUpdate } from './writeback';

/**
 * The GitOps delivery's three operations, in the shape of the deployer's (core/deploy/service.ts) so that the
 * same workflow states run them (docs/adr/0103): deliver (write the digest to the configuration repository: a
 * commit, or a pull request on its own branch), one convergence check (the controller at that commit, then the
 * workloads it lists), and revert (a revert commit, or a revert pull request; an unmerged pull request is closed).
 */

export interface GitOpsPorts {
  readonly repository: ConfigRepository;
  readonly clock: Clock;
  /** The run's link for commit messages and pull requests; null: the execution name. */
  readonly runLink: (executionName: string) => string | null;
}

/** The ports of a GitOps operation; `GitOpsNotConfigured` when this deployment reaches no configuration repository. */
export function gitopsPorts(access: GitOpsAccess | undefined, delivery: GitOpsDelivery, clock: Clock): GitOpsPorts {
  if (!access) {
    throw new GitOpsNotConfigured(
      `No access to configuration repositories here: ${delivery.repository.provider}:${delivery.repository.name} cannot be written`,
    );
  }
  return { repository: access.open(delivery.repository), clock, runLink: (name) => access.runLink(name) };
}

export function deliveryOf(environment: RouteEnvironment): GitOpsDelivery | null {
  return environment.delivery?.type === 'gitops' ? environment.delivery : null;
}

function requireDelivery(environment: RouteEnvironment): GitOpsDelivery {
  const delivery = deliveryOf(environment);
  if (!delivery) throw new GitOpsNotConfigured(`Environment ${environment.name} has no GitOps delivery`);
  return delivery;
}

function schedule(clock: Clock, environment: RouteEnvironment) {
  return {
    deadline: new Date(clock.now().getTime() + environment.rollout.timeoutSeconds * 1000).toISOString(),
    pollSeconds: environment.rollout.pollSeconds,
  };
}

function controllerWatch(delivery: GitOpsDelivery, gitops: GitOpsWatch): WatchedObject {
  return { ...controllerRef(delivery.controller), generation: null, gitops };
}

function context(
  event: { executionName: string; environment: RouteEnvironment },
  ports: GitOpsPorts,
  source?: DeployEvent['request'],
): MessageContext {
  return {
    environment: event.environment.name,
    executionName: event.executionName,
    sourceRepository: source?.repository.fullName ?? '',
    sourceCommit: source?.commit.sha ?? '',
    runLink: ports.runLink(event.executionName),
  };
}

function trailersOf(ctx: MessageContext, action: 'deliver' | 'revert'): Record<string, string> {
  return {
    [TRAILERS.execution]: ctx.executionName,
    [TRAILERS.environment]: ctx.environment,
    [TRAILERS.action]: action,
  };
}

/** Writes the image digest to the configuration repository: a commit to the branch, or a pull request. */
export async function deliver(event: DeployEvent, ports: GitOpsPorts): Promise<DeployResult> {
  const delivery = requireDelivery(event.environment);
  const repo = ports.repository;
  const image = { repository: event.image.repository, digest: event.image.digest };
  const ctx = context(event, ports, event.request);
  const base = {
    environment: event.environment.name,
    namespace: event.environment.namespace,
    revision: 0,
    image: `${image.repository}@${image.digest}`,
    applied: [],
    rollout: schedule(ports.clock, event.environment),
  };
  const watchOf = (commit: string | null, files: readonly string[], pullRequest: PullRequestInfo | null) => [
    controllerWatch(delivery, {
      repository: repo.label,
      branch: delivery.branch,
      commit,
      pullRequest: pullRequest ? { number: pullRequest.number, url: pullRequest.url, head: pullRequest.head } : null,
      files,
    }),
  ];

  if (delivery.mode === 'pullRequest') {
    const change = await deliverPullRequest(event, delivery, repo, ctx, image);
    if (!change.pr) return { ...base, changed: 0, watch: watchOf(change.parent, [], null) };
    return { ...base, changed: change.changed, watch: watchOf(null, change.files, change.pr) };
  }

  // A retried invocation finds its own commit instead of writing a second one; a run redriven after its revert writes
  // again (the revert is newer than the write on the branch).
  const done = await repo.findCommit(delivery.branch, trailersOf(ctx, 'deliver'));
  const { [TRAILERS.action]: _action, ...ofThisRun } = trailersOf(ctx, 'deliver');
  const latest = done ? await repo.findCommit(delivery.branch, ofThisRun) : null;
  if (done && latest?.sha === done.sha) return { ...base, changed: 1, watch: watchOf(done.sha, [], null) };
  for (let attempt = 1; ; attempt += 1) {
    const parent = await repo.head(delivery.branch);
    const writes = await planWrites(delivery, repo, parent, image);
    if (writes.length === 0) return { ...base, changed: 0, watch: watchOf(parent, [], null) };
    const files = writes.map((w) => ({ path: w.path, content: w.after }));
    try {
      const sha = await repo.commit({
        branch: delivery.branch,
        parent,
        files,
        message: deliverMessage(ctx, image, writes),
      });
      return {
        ...base,
        changed: writes.length,
        watch: watchOf(
          sha,
          files.map((f) => f.path),
          null,
        ),
      };
    } catch (error) {
      if (!(error instanceof GitOpsConflict) || attempt >= 3) throw error;
    }
  }
}

interface PullRequestChange {
  /** The pull request watched; null: nothing to change at `parent`, the base branch's head. */
  readonly pr: PullRequestInfo | null;
  readonly parent: string;
  readonly files: readonly string[];
  readonly changed: number;
}

/**
 * pullRequest mode: a retried invocation finds the run's pull request and watches it again; a run redriven after
 * its pull request was closed unmerged, or merged and reverted, opens its next attempt on a new branch (ADR 0111).
 * An invocation that died after making the attempt's branch but before opening its pull request left the branch:
 * the next one adopts it when its tip is this run's write, and refuses a branch of that name that is not.
 */
async function deliverPullRequest(
  event: DeployEvent,
  delivery: GitOpsDelivery,
  repo: ConfigRepository,
  ctx: MessageContext,
  image: ImageUpdate,
): Promise<PullRequestChange> {
  const latest = await latestAttempt(repo, event.environment.name, event.executionName);
  if (latest.pr && !(await attemptEnded(repo, event.environment.name, event.executionName, latest))) {
    return { pr: latest.pr, parent: '', files: [], changed: 1 };
  }
  const attempt = latest.pr ? latest.attempt + 1 : latest.attempt;
  const head = changeBranch(event.environment.name, event.executionName, false, attempt);
  let tip = (await repo.branchTip?.(head)) ?? null;
  let adopted = tip ? await adopt(repo, delivery, ctx, head, tip, image) : null;
  if (!adopted) {
    const parent = await repo.head(delivery.branch);
    const writes = await planWrites(delivery, repo, parent, image);
    if (writes.length === 0) return { pr: null, parent, files: [], changed: 0 };
    try {
      const files = writes.map((w) => ({ path: w.path, content: w.after }));
      await repo.commit({
        branch: head,
        parent,
        files,
        message: deliverMessage(ctx, image, writes),
        createBranch: true,
      });
      adopted = { parent, writes };
    } catch (error) {
      // Another invocation of this run made the branch in between (a timed-out one still running): adopt it.
      tip = error instanceof GitOpsConflict ? ((await repo.branchTip?.(head)) ?? null) : null;
      if (!tip) throw error;
      adopted = await adopt(repo, delivery, ctx, head, tip, image);
    }
  }
  const { parent, writes } = adopted;
  const message = deliverMessage(ctx, image, writes);
  const before = latest.pr ? [`This run's pull request #${latest.pr.number} (${latest.pr.url}) ended unmerged.`] : [];
  const request = {
    head,
    base: delivery.branch,
    title: deliverSubject(ctx, image, writes),
    body: [...message.split('\n\n').slice(1, -1), ...before].join('\n\n'),
  };
  // Opened by another invocation of this run in between: the host refuses a second one from the branch; find it.
  const pr = await repo.openPullRequest(request).catch(async (error: unknown) => {
    const found = await repo.findPullRequest(head);
    if (found?.state === 'open') return found;
    throw error;
  });
  return { pr, parent, files: writes.map((w) => w.path), changed: writes.length };
}

/**
 * A pull-request branch that exists already, adopted when it is this run's write, which an invocation that died
 * before opening its pull request left: its tip carries the run's trailers (ADR 0103), has one parent, a commit of
 * the base branch, and holds what this delivery writes on that parent (returned). Otherwise `GitOpsConflict` names
 * the branch and what is there: Stepline neither writes to it nor opens a pull request from it.
 */
async function adopt(
  repo: ConfigRepository,
  delivery: GitOpsDelivery,
  ctx: MessageContext,
  branch: string,
  tip: CommitInfo,
  image: ImageUpdate,
): Promise<{ parent: string; writes: PlannedWrite[] }> {
  const refuse = (found: string) =>
    new GitOpsConflict(
      `${repo.label}: ${branch} already exists and ${found}; Stepline opens no pull request from it (delete or rename the branch to deliver)`,
    );
  const at = `its head ${tip.sha.slice(0, 12)}`;
  const lines = new Set(tip.message.split('\n').map((l) => l.trim()));
  const missing = Object.entries(trailersOf(ctx, 'deliver')).filter(([k, v]) => !lines.has(`${k}: ${v}`));
  if (missing.length > 0) {
    const subject = tip.message.split('\n')[0] ?? '';
    throw refuse(
      `${at} ("${subject}") is not this run's write: no ${missing.map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    );
  }
  const parent = tip.parents[0] ?? '';
  if (tip.parents.length !== 1 || !(await repo.history?.(delivery.branch))?.includes(parent)) {
    throw refuse(`${at} is not one commit on top of a commit of ${delivery.branch}`);
  }
  const writes = await planWrites(delivery, repo, parent, image);
  if (writes.length === 0) throw refuse(`${at} changes nothing this run delivers on ${parent.slice(0, 12)}`);
  for (const w of writes) {
    if ((await repo.readFile(tip.sha, w.path)) !== w.after) {
      throw refuse(`${at} does not hold this run's change to ${w.path}`);
    }
  }
  return { parent, writes };
}

/** Pull requests a run may open per environment, one per attempt (a person's redrive each): a bound, not a goal. */
const MAX_ATTEMPTS = 20;

interface Attempt {
  readonly attempt: number;
  readonly pr: PullRequestInfo | null;
}

/** The run's newest attempt that has a pull request, and it; attempt 1 with none when the run opened none yet. */
async function latestAttempt(repo: ConfigRepository, environment: string, executionName: string): Promise<Attempt> {
  let latest: Attempt = { attempt: 1, pr: null };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const pr = await repo.findPullRequest(changeBranch(environment, executionName, false, attempt));
    if (!pr) break;
    latest = { attempt, pr };
  }
  return latest;
}

/**
 * Whether an attempt's change is over, so that a redriven run opens a new one rather than watch it again: closed
 * without merging, or merged and then reverted by the run's revert pull request (merged too).
 */
async function attemptEnded(
  repo: ConfigRepository,
  environment: string,
  executionName: string,
  latest: Attempt,
): Promise<boolean> {
  if (latest.pr?.state === 'closed') return true;
  if (latest.pr?.state !== 'merged') return false;
  const revert = await repo.findPullRequest(changeBranch(environment, executionName, true, latest.attempt));
  return revert?.state === 'merged';
}

/** Where a pull request stands: its merge commit, or the decision to wait or fail. */
async function pullRequestCommit(
  gitops: GitOpsWatch,
  repo: ConfigRepository,
): Promise<{ commit: string } | RolloutDecision> {
  if (gitops.commit !== null || gitops.pullRequest === null) return { commit: gitops.commit ?? '' };
  const pr = await repo.findPullRequest(gitops.pullRequest.head);
  const what = `pull request #${gitops.pullRequest.number} (${gitops.pullRequest.url})`;
  if (!pr) return { state: 'failed', reason: `${what} no longer exists` };
  if (pr.state === 'closed') return { state: 'failed', reason: `${what} was closed without merging` };
  if (pr.state === 'open' || pr.mergeCommit === null) return { state: 'waiting', reason: `${what} waits to be merged` };
  return { commit: pr.mergeCommit };
}

async function checkOne(
  watched: WatchedObject,
  cluster: ClusterClient,
  repo: ConfigRepository | null,
): Promise<ObjectRollout[]> {
  const { generation, gitops, ...ref } = watched;
  const live = await cluster.get(ref);
  if (!gitops) {
    const decision = live
      ? decideRollout(live, generation)
      : { state: 'failed' as const, reason: `${ref.kind} "${ref.name}" no longer exists` };
    return [{ ...ref, ...decision }];
  }
  if (gitops.commit === null && !repo)
    throw new GitOpsNotConfigured('A pull request is watched but no configuration repository is reachable');
  const target = repo ? await pullRequestCommit(gitops, repo) : { commit: gitops.commit ?? '' };
  if ('state' in target) return [{ ...ref, ...target }];
  if (!live)
    return [{ ...ref, state: 'waiting', reason: `${ref.kind} "${ref.name}" does not exist (yet) in ${ref.namespace}` }];
  const converged = decideConvergence(live, target.commit);
  if (converged.state !== 'done') return [{ ...ref, ...converged }];
  const workloads: ObjectRollout[] = [];
  for (const workload of managedWorkloads(live)) {
    const object = await cluster.get(workload);
    const decision = object
      ? decideRollout(object, null)
      : { state: 'waiting' as const, reason: `${workload.kind} "${workload.name}" is not there yet` };
    workloads.push({ ...workload, ...decision });
  }
  return [{ ...ref, ...converged }, ...workloads];
}

/**
 * One convergence check: each watched controller at its commit (a pull request's merge commit once merged), then
 * the workloads it lists, with the rollout decisions Stepline makes for its own applies. Plain watched objects
 * (no `gitops`) are checked as the deployer does.
 */
export async function checkConvergence(
  event: RolloutEvent,
  ports: { readonly cluster: ClusterClient; readonly clock: Clock; readonly repository: ConfigRepository | null },
): Promise<RolloutResult> {
  const now = ports.clock.now();
  const objects: ObjectRollout[] = [];
  for (const watched of event.watch) objects.push(...(await checkOne(watched, ports.cluster, ports.repository)));
  let overall = combineRollouts(objects);
  if (overall.state === 'waiting' && now.getTime() >= new Date(event.deadline).getTime()) {
    overall = {
      state: 'failed',
      reason: `The cluster did not converge by its deadline ${event.deadline}: ${overall.reason}`,
    };
  }
  if (overall.state === 'failed' && event.onFailure === 'throw') {
    throw new RolloutFailed(`Delivery to ${event.environment.name} failed: ${overall.reason}`);
  }
  if (overall.state === 'waiting' && event.onWaiting === 'throw') {
    throw new RolloutInProgress(`Delivery to ${event.environment.name} in progress: ${overall.reason}`);
  }
  return {
    state: overall.state,
    reason: overall.reason,
    objects,
    deadline: event.deadline,
    pollSeconds: event.environment.rollout.pollSeconds,
    checkedAt: now.toISOString(),
    recordedRevision: null,
  };
}

/** The files to restore: each file the write changed, back to its content before, unless it changed since. */
async function restoreFiles(
  delivery: GitOpsDelivery,
  repo: ConfigRepository,
  written: string,
  before: string,
  head: string,
): Promise<FileWrite[]> {
  const paths = new Set([
    ...(await targetFiles(delivery, repo, written).catch(() => [])),
    ...(await targetFiles(delivery, repo, before).catch(() => [])),
  ]);
  const restore: FileWrite[] = [];
  for (const path of paths) {
    const was = await repo.readFile(before, path);
    const wrote = await repo.readFile(written, path);
    if (was === wrote) continue;
    const now = await repo.readFile(head, path);
    if (now !== wrote) {
      throw new GitOpsRevertRefused(
        `${path} in ${repo.label} changed after ${written.slice(0, 12)}; not reverted, nothing written`,
      );
    }
    restore.push({ path, content: was });
  }
  return restore;
}

/**
 * Reverts the delivery of this run to this environment: a revert commit on the branch, or, in pullRequest mode, a
 * revert pull request when the change was merged (an open one is closed instead). Nothing written: nothing to do,
 * and the result watches nothing.
 */
export async function revertDelivery(event: RollbackEvent, ports: GitOpsPorts): Promise<RollbackResult> {
  const delivery = requireDelivery(event.environment);
  const repo = ports.repository;
  const ctx = context(event, ports);
  const reason = event.reason ?? 'the delivery failed';
  const result = (commit: string, files: readonly FileWrite[], pr: PullRequestInfo | null): RollbackResult => ({
    environment: event.environment.name,
    namespace: event.environment.namespace,
    revision: 0,
    commit,
    image: '',
    applied: [],
    changed: files.length,
    watch:
      files.length === 0 && pr === null
        ? []
        : [
            controllerWatch(delivery, {
              repository: repo.label,
              branch: delivery.branch,
              commit: pr ? null : commit,
              pullRequest: pr ? { number: pr.number, url: pr.url, head: pr.head } : null,
              files: files.map((f) => f.path),
            }),
          ],
    rollout: schedule(ports.clock, event.environment),
    leftover: [],
  });

  let written: string;
  let subject: string;
  let attempt = 1;
  if (delivery.mode === 'pullRequest') {
    const latest = await latestAttempt(repo, event.environment.name, event.executionName);
    const pr = latest.pr;
    attempt = latest.attempt;
    if (!pr || pr.state === 'closed') return result('', [], null);
    if (pr.state === 'open' || pr.mergeCommit === null) {
      await repo.closePullRequest(
        pr.number,
        `Stepline closed this pull request: ${reason}. ${ctx.runLink ?? ''}`.trim(),
      );
      return result('', [], null);
    }
    written = pr.mergeCommit;
    subject = `pull request #${pr.number}`;
  } else {
    const found = await repo.findCommit(delivery.branch, trailersOf(ctx, 'deliver'));
    if (!found) return result('', [], null);
    written = found.sha;
    subject = `deploy(${event.environment.name}) of ${event.executionName}`;
  }
  const before = await repo.firstParent(written);
  if (before === null) throw new GitOpsRevertRefused(`${written.slice(0, 12)} has no parent to revert to`);
  const head = await repo.head(delivery.branch);
  const files = await restoreFiles(delivery, repo, written, before, head);
  if (files.length === 0) return result(head, [], null);
  const message = revertMessage(ctx, subject, written, reason);
  if (delivery.mode === 'pullRequest') {
    const branch = changeBranch(event.environment.name, event.executionName, true, attempt);
    const existing = await repo.findPullRequest(branch);
    if (existing) return result('', files, existing);
    await repo.commit({ branch, parent: head, files, message, createBranch: true });
    const pr = await repo.openPullRequest({
      head: branch,
      base: delivery.branch,
      title: `Revert ${subject}`,
      body: message.split('\n\n').slice(1, -1).join('\n\n'),
    });
    return result('', files, pr);
  }
  const sha = await repo.commit({ branch: delivery.branch, parent: head, files, message });
  return result(sha, files, null);
}
