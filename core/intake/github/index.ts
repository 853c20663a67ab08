import { type Admitted, secretList } from '../delivery';
import {
  child,
  clip,
  collectChangedPaths,
  integer,
  isNullSha,
  type Json,
  optionalArray,
  optionalChild,
  optionalSha,
  optionalString,
  parseRef,
  sha,
  string,
} from '../payload';
import type { WebhookSecrets } from '../ports';
import type { ProviderIntake } from '../provider';
import { verifyHmacSha256 } from '../signature';
import type { PipelineRequest, PullRequestAction, RepositoryInfo } from '../types';
import { ignore, PONG, proceed, type Verdict } from '../verdict';

/**
 * GitHub: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), `X-GitHub-Event`, `X-GitHub-Delivery`; bodies as
 * `application/json` or `application/x-www-form-urlencoded` (`payload=`). Events: `push` (branches and tags, with
 * deletions ignored), `pull_request`, `ping`; `delete` is ignored with its reason, every other event starts nothing.
 */

/** GitHub lists at most this many commits in a push delivery; a full list means there may be more. */
export const GITHUB_MAX_PUSH_COMMITS = 2048;

const PULL_REQUEST_ACTIONS: ReadonlySet<string> = new Set<PullRequestAction>([
  'opened',
  'synchronize',
  'reopened',
  'closed',
]);

function repositoryOf(payload: Json): RepositoryInfo {
  const repo = child(payload, 'repository', 'repository');
  return {
    fullName: string(repo, 'full_name', 'repository.full_name'),
    cloneUrl: string(repo, 'clone_url', 'repository.clone_url'),
    defaultBranch: string(repo, 'default_branch', 'repository.default_branch'),
    htmlUrl: optionalString(repo, 'html_url', 'repository.html_url'),
  };
}

function senderOf(payload: Json): { login: string } {
  const sender = optionalChild(payload, 'sender', 'sender');
  if (sender !== null) return { login: string(sender, 'login', 'sender.login') };
  const pusher = optionalChild(payload, 'pusher', 'pusher');
  return { login: pusher === null ? 'unknown' : (optionalString(pusher, 'name', 'pusher.name') ?? 'unknown') };
}

function push(delivery: Admitted, payload: Json): Verdict<readonly PipelineRequest[]> {
  const fullRef = string(payload, 'ref', 'ref');
  const ref = parseRef(fullRef);
  if (ref === null) return ignore('event_not_handled', `a push to ${fullRef} starts nothing`);
  if (payload['deleted'] === true || isNullSha(payload['after'])) {
    return ignore('ref_deleted', `${ref.kind} ${ref.name} was deleted`);
  }
  const headCommit = optionalChild(payload, 'head_commit', 'head_commit');
  // For an annotated tag, `after` is the tag object; `head_commit` is the commit it points at.
  const commitSha = headCommit !== null ? sha(headCommit, 'id', 'head_commit.id') : sha(payload, 'after', 'after');
  const before = optionalSha(payload, 'before', 'before');
  const commits = optionalArray(payload, 'commits', 'commits') ?? [];
  const changed = collectChangedPaths(commits, 'commits');
  const complete =
    ref.kind === 'branch' &&
    before !== null &&
    payload['created'] !== true &&
    payload['forced'] !== true &&
    commits.length > 0 &&
    commits.length < GITHUB_MAX_PUSH_COMMITS &&
    changed.listed &&
    !changed.truncated;
  return proceed([
    {
      provider: 'github',
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      repository: repositoryOf(payload),
      ref: { name: ref.name, fullName: fullRef, kind: ref.kind },
      commit: {
        sha: commitSha,
        before,
        message: headCommit === null ? null : clip(optionalString(headCommit, 'message', 'head_commit.message')),
        url: headCommit === null ? null : optionalString(headCommit, 'url', 'head_commit.url'),
      },
      pullRequest: null,
      changedFiles: { paths: changed.paths, complete },
      sender: senderOf(payload),
    },
  ]);
}

function pullRequest(delivery: Admitted, payload: Json): Verdict<readonly PipelineRequest[]> {
  const action = string(payload, 'action', 'action');
  if (!PULL_REQUEST_ACTIONS.has(action)) {
    return ignore('event_not_handled', `pull request action "${action}" starts nothing`);
  }
  const pr = child(payload, 'pull_request', 'pull_request');
  const number = integer(pr, 'number', 'pull_request.number');
  const base = child(pr, 'base', 'pull_request.base');
  const head = child(pr, 'head', 'pull_request.head');
  const baseRepo = child(base, 'repo', 'pull_request.base.repo');
  // A fork that was deleted leaves `head.repo` null: treat it as a fork.
  const headRepo = optionalChild(head, 'repo', 'pull_request.head.repo');
  const baseName = string(baseRepo, 'full_name', 'pull_request.base.repo.full_name');
  const headName = headRepo === null ? null : string(headRepo, 'full_name', 'pull_request.head.repo.full_name');
  const headRef = string(head, 'ref', 'pull_request.head.ref');
  const headSha = sha(head, 'sha', 'pull_request.head.sha');
  return proceed([
    {
      provider: 'github',
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      repository: repositoryOf(payload),
      ref: { name: headRef, fullName: `refs/pull/${number}/head`, kind: 'branch' },
      commit: {
        sha: headSha,
        before: action === 'synchronize' ? optionalSha(payload, 'before', 'before') : null,
        message: null,
        url: null,
      },
      pullRequest: {
        number,
        action: action as PullRequestAction,
        title: clip(string(pr, 'title', 'pull_request.title'), 256)!,
        url: optionalString(pr, 'html_url', 'pull_request.html_url'),
        base: {
          ref: string(base, 'ref', 'pull_request.base.ref'),
          sha: optionalSha(base, 'sha', 'pull_request.base.sha'),
        },
        head: { ref: headRef, sha: headSha, repository: headName ?? '(deleted fork)' },
        fork: headName === null || headName.toLowerCase() !== baseName.toLowerCase(),
      },
      changedFiles: { paths: [], complete: false },
      sender: senderOf(payload),
    },
  ]);
}

function deletion(payload: Json): Verdict<never> {
  const kind = optionalString(payload, 'ref_type', 'ref_type') ?? 'ref';
  const name = optionalString(payload, 'ref', 'ref') ?? '(unknown)';
  return ignore('ref_deleted', `${kind} ${name} was deleted`);
}

export const github: ProviderIntake = {
  name: 'github',
  eventHeader: 'X-GitHub-Event',
  deliveryHeaders: ['X-GitHub-Delivery'],
  mediaTypes: ['application/json', 'application/x-www-form-urlencoded'],
  deliveryId: (headers) => headers.get('x-github-delivery'),
  verify(delivery: Admitted, secrets: WebhookSecrets | null): boolean {
    return verifyHmacSha256(delivery.headers.get('x-hub-signature-256'), delivery.body, secretList(secrets));
  },
  normalize(delivery, payload) {
    switch (delivery.event) {
      case 'ping':
        return PONG;
      case 'push':
        return push(delivery, payload);
      case 'pull_request':
        return pullRequest(delivery, payload);
      case 'delete':
        return deletion(payload);
      default:
        return ignore('event_not_handled', `GitHub event "${delivery.event}" starts nothing`);
    }
  },
};
