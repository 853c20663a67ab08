import { type Admitted, secretList } from '../delivery';
import {
  array,
  child,
  clip,
  integer,
  type Json,
  object,
  optionalChild,
  optionalSha,
  optionalString,
  sha,
  string,
} from '../payload';
import type { WebhookSecrets } from '../ports';
import type { ProviderIntake } from '../provider';
import { verifyHmacSha256 } from '../signature';
import type { PipelineRequest, PullRequestAction, RepositoryInfo } from '../types';
import { type Ignored, ignore, PONG, proceed, type Verdict } from '../verdict';

/**
 * Bitbucket Cloud: `X-Hub-Signature` (`sha256=`, HMAC-SHA256 of the raw body), `X-Event-Key`, `X-Request-UUID`.
 * Events: `repo:push` (one delivery may report several refs: each becomes its own request), `pullrequest:created`,
 * `pullrequest:updated`, `pullrequest:fulfilled` and `pullrequest:rejected`; `diagnostics:ping` is answered.
 * Bitbucket lists no changed files, so path filters always let its runs go.
 */

function href(links: Json | null, name: string): string | null {
  if (links === null) return null;
  const link = links[name];
  if (typeof link !== 'object' || link === null) return null;
  const value = (link as Json)['href'];
  return typeof value === 'string' ? value : null;
}

function repositoryOf(repo: Json, field: string): RepositoryInfo {
  const fullName = string(repo, 'full_name', `${field}.full_name`);
  const htmlUrl = href(optionalChild(repo, 'links', `${field}.links`), 'html');
  const mainBranch = optionalChild(repo, 'mainbranch', `${field}.mainbranch`);
  return {
    fullName,
    cloneUrl: `${htmlUrl ?? `https://bitbucket.org/${fullName}`}.git`,
    defaultBranch: mainBranch === null ? '' : (optionalString(mainBranch, 'name', `${field}.mainbranch.name`) ?? ''),
    htmlUrl,
  };
}

function senderOf(payload: Json): { login: string } {
  const actor = optionalChild(payload, 'actor', 'actor');
  if (actor === null) return { login: 'unknown' };
  const login =
    optionalString(actor, 'nickname', 'actor.nickname') ??
    optionalString(actor, 'username', 'actor.username') ??
    optionalString(actor, 'display_name', 'actor.display_name');
  return { login: login ?? 'unknown' };
}

function push(delivery: Admitted, payload: Json): Verdict<readonly PipelineRequest[]> {
  const repository = repositoryOf(child(payload, 'repository', 'repository'), 'repository');
  const changes = array(child(payload, 'push', 'push'), 'changes', 'push.changes');
  const requests: PipelineRequest[] = [];
  let firstIgnored: Ignored | null = null;
  changes.forEach((raw, i) => {
    const field = `push.changes[${i}]`;
    const change = object(raw, field);
    const next = optionalChild(change, 'new', `${field}.new`);
    const old = optionalChild(change, 'old', `${field}.old`);
    if (next === null) {
      const name = old === null ? '(unknown)' : optionalString(old, 'name', `${field}.old.name`);
      const kind = old === null ? 'ref' : (optionalString(old, 'type', `${field}.old.type`) ?? 'ref');
      firstIgnored ??= ignore('ref_deleted', `${kind} ${name} was deleted`);
      return;
    }
    const type = string(next, 'type', `${field}.new.type`);
    const name = string(next, 'name', `${field}.new.name`);
    if (type !== 'branch' && type !== 'tag') {
      firstIgnored ??= ignore('event_not_handled', `a push to ${type} ${name} starts nothing`);
      return;
    }
    const target = child(next, 'target', `${field}.new.target`);
    const oldTarget = old === null ? null : optionalChild(old, 'target', `${field}.old.target`);
    requests.push({
      provider: 'bitbucket',
      // One delivery, several refs: each gets its own delivery id, so each gets its own execution name.
      deliveryId: changes.length > 1 ? `${delivery.deliveryId}/${i + 1}` : delivery.deliveryId,
      event: delivery.event,
      repository,
      ref: { name, fullName: `refs/${type === 'branch' ? 'heads' : 'tags'}/${name}`, kind: type },
      commit: {
        sha: sha(target, 'hash', `${field}.new.target.hash`),
        before: oldTarget === null ? null : optionalSha(oldTarget, 'hash', `${field}.old.target.hash`),
        message: clip(optionalString(target, 'message', `${field}.new.target.message`)),
        url: href(optionalChild(target, 'links', `${field}.new.target.links`), 'html'),
      },
      pullRequest: null,
      changedFiles: { paths: [], complete: false },
      sender: senderOf(payload),
    });
  });
  if (requests.length > 0) return proceed(requests);
  return firstIgnored ?? ignore('event_not_handled', 'a push without changes starts nothing');
}

const PULL_REQUEST_EVENTS: Readonly<Record<string, PullRequestAction>> = {
  'pullrequest:created': 'opened',
  'pullrequest:updated': 'synchronize',
  'pullrequest:fulfilled': 'closed',
  'pullrequest:rejected': 'closed',
};

function pullRequest(
  delivery: Admitted,
  payload: Json,
  action: PullRequestAction,
): Verdict<readonly PipelineRequest[]> {
  const pr = child(payload, 'pullrequest', 'pullrequest');
  const id = integer(pr, 'id', 'pullrequest.id');
  const source = child(pr, 'source', 'pullrequest.source');
  const destination = child(pr, 'destination', 'pullrequest.destination');
  const sourceBranch = string(
    child(source, 'branch', 'pullrequest.source.branch'),
    'name',
    'pullrequest.source.branch.name',
  );
  const targetBranch = string(
    child(destination, 'branch', 'pullrequest.destination.branch'),
    'name',
    'pullrequest.destination.branch.name',
  );
  // Bitbucket gives pull request commits abbreviated (12 digits).
  const headSha = sha(child(source, 'commit', 'pullrequest.source.commit'), 'hash', 'pullrequest.source.commit.hash');
  const destinationCommit = optionalChild(destination, 'commit', 'pullrequest.destination.commit');
  const sourceRepo = optionalChild(source, 'repository', 'pullrequest.source.repository');
  const destinationRepo = child(destination, 'repository', 'pullrequest.destination.repository');
  const headName =
    sourceRepo === null ? null : string(sourceRepo, 'full_name', 'pullrequest.source.repository.full_name');
  const baseName = string(destinationRepo, 'full_name', 'pullrequest.destination.repository.full_name');
  return proceed([
    {
      provider: 'bitbucket',
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      repository: repositoryOf(child(payload, 'repository', 'repository'), 'repository'),
      ref: { name: sourceBranch, fullName: `refs/pull-requests/${id}/from`, kind: 'branch' },
      commit: { sha: headSha, before: null, message: null, url: null },
      pullRequest: {
        number: id,
        action,
        title: clip(string(pr, 'title', 'pullrequest.title'), 256)!,
        url: href(optionalChild(pr, 'links', 'pullrequest.links'), 'html'),
        base: {
          ref: targetBranch,
          sha:
            destinationCommit === null
              ? null
              : optionalSha(destinationCommit, 'hash', 'pullrequest.destination.commit.hash'),
        },
        head: { ref: sourceBranch, sha: headSha, repository: headName ?? '(deleted fork)' },
        fork: headName === null || headName.toLowerCase() !== baseName.toLowerCase(),
      },
      changedFiles: { paths: [], complete: false },
      sender: senderOf(payload),
    },
  ]);
}

export const bitbucket: ProviderIntake = {
  name: 'bitbucket',
  eventHeader: 'X-Event-Key',
  deliveryHeaders: ['X-Request-UUID'],
  mediaTypes: ['application/json'],
  deliveryId: (headers) => headers.get('x-request-uuid'),
  verify(delivery: Admitted, secrets: WebhookSecrets | null): boolean {
    return verifyHmacSha256(delivery.headers.get('x-hub-signature'), delivery.body, secretList(secrets));
  },
  normalize(delivery, payload) {
    if (delivery.event === 'diagnostics:ping') return PONG;
    if (delivery.event === 'repo:push') return push(delivery, payload);
    const action = PULL_REQUEST_EVENTS[delivery.event];
    if (action !== undefined) return pullRequest(delivery, payload, action);
    return ignore('event_not_handled', `Bitbucket event "${delivery.event}" starts nothing`);
  },
};
