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
import { verifyToken } from '../signature';
import type { PipelineRequest, PullRequestAction, RepositoryInfo } from '../types';
import { ignore, PONG, proceed, type Verdict } from '../verdict';

/**
 * GitLab: `X-Gitlab-Token` (the secret itself, compared in constant time), `X-Gitlab-Event`; the delivery id is
 * `Idempotency-Key` (the same on every retry), else `X-Gitlab-Event-UUID`. Events: `Push Hook`, `Tag Push Hook`,
 * `Merge Request Hook`, and the same kinds arriving as `System Hook` (told apart by `object_kind`). GitLab has no
 * ping: its test merge request events carry no `action` and are answered as one.
 */

function repositoryOf(payload: Json): RepositoryInfo {
  const project = child(payload, 'project', 'project');
  return {
    fullName: string(project, 'path_with_namespace', 'project.path_with_namespace'),
    cloneUrl: string(project, 'git_http_url', 'project.git_http_url'),
    defaultBranch: optionalString(project, 'default_branch', 'project.default_branch') ?? '',
    htmlUrl: optionalString(project, 'web_url', 'project.web_url'),
  };
}

function push(delivery: Admitted, payload: Json): Verdict<readonly PipelineRequest[]> {
  const fullRef = string(payload, 'ref', 'ref');
  const ref = parseRef(fullRef);
  if (ref === null) return ignore('event_not_handled', `a push to ${fullRef} starts nothing`);
  if (isNullSha(payload['after'])) return ignore('ref_deleted', `${ref.kind} ${ref.name} was deleted`);
  // `checkout_sha` is the commit; for an annotated tag `after` is the tag object.
  const commitSha = optionalSha(payload, 'checkout_sha', 'checkout_sha') ?? sha(payload, 'after', 'after');
  const before = optionalSha(payload, 'before', 'before');
  const commits = optionalArray(payload, 'commits', 'commits') ?? [];
  // GitLab lists at most 20 commits in a push; `total_commits_count` says how many there were.
  const total = typeof payload['total_commits_count'] === 'number' ? payload['total_commits_count'] : commits.length;
  const changed = collectChangedPaths(commits, 'commits');
  const head = commits.find((c) => (c as Json)?.['id'] === commitSha) as Json | undefined;
  const complete =
    ref.kind === 'branch' &&
    before !== null &&
    commits.length > 0 &&
    total <= commits.length &&
    changed.listed &&
    !changed.truncated;
  return proceed([
    {
      provider: 'gitlab',
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      repository: repositoryOf(payload),
      ref: { name: ref.name, fullName: fullRef, kind: ref.kind },
      commit: {
        sha: commitSha,
        before,
        message: head === undefined ? null : clip(optionalString(head, 'message', 'commits[].message')),
        url: head === undefined ? null : optionalString(head, 'url', 'commits[].url'),
      },
      pullRequest: null,
      changedFiles: { paths: changed.paths, complete },
      sender: { login: optionalString(payload, 'user_username', 'user_username') ?? 'unknown' },
    },
  ]);
}

const MERGE_REQUEST_ACTIONS: Readonly<Record<string, PullRequestAction>> = {
  open: 'opened',
  reopen: 'reopened',
  update: 'synchronize',
  close: 'closed',
  merge: 'closed',
};

function mergeRequest(delivery: Admitted, payload: Json): Verdict<readonly PipelineRequest[]> {
  const attributes = child(payload, 'object_attributes', 'object_attributes');
  const rawAction = optionalString(attributes, 'action', 'object_attributes.action');
  // The "Test" button sends a merge request event without an action.
  if (rawAction === null) return PONG;
  const action = MERGE_REQUEST_ACTIONS[rawAction];
  if (action === undefined) return ignore('event_not_handled', `merge request action "${rawAction}" starts nothing`);
  const oldrev = optionalSha(attributes, 'oldrev', 'object_attributes.oldrev');
  if (action === 'synchronize' && oldrev === null) {
    return ignore('event_not_handled', 'a merge request update without new commits starts nothing');
  }
  const iid = integer(attributes, 'iid', 'object_attributes.iid');
  const lastCommit = child(attributes, 'last_commit', 'object_attributes.last_commit');
  const headSha = sha(lastCommit, 'id', 'object_attributes.last_commit.id');
  const sourceBranch = string(attributes, 'source_branch', 'object_attributes.source_branch');
  const source = optionalChild(attributes, 'source', 'object_attributes.source');
  const sourceId = attributes['source_project_id'];
  const targetId = attributes['target_project_id'];
  const user = optionalChild(payload, 'user', 'user');
  return proceed([
    {
      provider: 'gitlab',
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      repository: repositoryOf(payload),
      ref: { name: sourceBranch, fullName: `refs/merge-requests/${iid}/head`, kind: 'branch' },
      commit: {
        sha: headSha,
        before: oldrev,
        message: clip(optionalString(lastCommit, 'message', 'object_attributes.last_commit.message')),
        url: optionalString(lastCommit, 'url', 'object_attributes.last_commit.url'),
      },
      pullRequest: {
        number: iid,
        action,
        title: clip(string(attributes, 'title', 'object_attributes.title'), 256)!,
        url: optionalString(attributes, 'url', 'object_attributes.url'),
        base: { ref: string(attributes, 'target_branch', 'object_attributes.target_branch'), sha: null },
        head: {
          ref: sourceBranch,
          sha: headSha,
          repository:
            source === null
              ? '(deleted fork)'
              : string(source, 'path_with_namespace', 'object_attributes.source.path_with_namespace'),
        },
        // A merge request whose source project is another (or gone) comes from a fork.
        fork: sourceId === undefined || sourceId === null || sourceId !== targetId,
      },
      changedFiles: { paths: [], complete: false },
      sender: { login: user === null ? 'unknown' : (optionalString(user, 'username', 'user.username') ?? 'unknown') },
    },
  ]);
}

function byKind(delivery: Admitted, payload: Json, kind: string | null): Verdict<readonly PipelineRequest[]> {
  switch (kind) {
    case 'push':
    case 'tag_push':
      return push(delivery, payload);
    case 'merge_request':
      return mergeRequest(delivery, payload);
    default:
      return ignore(
        'event_not_handled',
        `GitLab event "${delivery.event}" (${kind ?? 'no object_kind'}) starts nothing`,
      );
  }
}

export const gitlab: ProviderIntake = {
  name: 'gitlab',
  eventHeader: 'X-Gitlab-Event',
  deliveryHeaders: ['Idempotency-Key', 'X-Gitlab-Event-UUID'],
  mediaTypes: ['application/json'],
  deliveryId: (headers) => headers.get('idempotency-key') ?? headers.get('x-gitlab-event-uuid'),
  verify(delivery: Admitted, secrets: WebhookSecrets | null): boolean {
    return verifyToken(delivery.headers.get('x-gitlab-token'), secretList(secrets));
  },
  normalize(delivery, payload) {
    const kind = optionalString(payload, 'object_kind', 'object_kind');
    switch (delivery.event) {
      case 'Push Hook':
      case 'Tag Push Hook':
      case 'Merge Request Hook':
      case 'System Hook':
        return byKind(delivery, payload, kind);
      default:
        return ignore('event_not_handled', `GitLab event "${delivery.event}" starts nothing`);
    }
  },
};
