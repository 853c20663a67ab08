import type { Provider } from '../config/schema';
import { type Admitted, decodeBody } from './delivery';
import { MalformedPayloadError } from './errors';
import { child, integer, type Json, optionalChild, optionalString, string } from './payload';
import { ignore, proceed, reject, type Verdict } from './verdict';

/**
 * Comment commands (docs/adr/0039): `/approve <environment>` and `/reject <environment> <reason>` as the first line
 * of a comment on a pull request or a commit, delivered through the signed webhook route like any event:
 * GitHub `issue_comment` (on a pull request) and `commit_comment`, GitLab `Note Hook` (on a merge request or a
 * commit), Bitbucket `pullrequest:comment_created` and `repo:commit_comment_created`. The commenter comes from the
 * verified delivery, never from the comment's text. A comment that is not a command starts nothing.
 */

export interface CommentCommand {
  readonly provider: Provider;
  readonly deliveryId: string;
  /** The repository's full name, as the host spells it. */
  readonly repository: string;
  /** GitLab's project id (replies go to `/projects/{id}/…`); null on the other hosts. */
  readonly projectId: string | null;
  readonly commenter: {
    /** GitHub and GitLab login, Bitbucket nickname. */
    readonly login: string;
    /** What approvers entries are compared with: the login; on Bitbucket the account id and UUID. */
    readonly names: readonly string[];
    /** What the host's membership API takes: GitHub login, GitLab user id, Bitbucket UUID. */
    readonly hostId: string;
  };
  readonly action: 'approve' | 'reject';
  readonly environment: string;
  readonly reason: string | null;
  /**
   * Where the comment is: a pull request (its head commit and whether it comes from a fork, where the payload says;
   * GitHub's `issue_comment` says neither) or a commit.
   */
  readonly on:
    | {
        readonly kind: 'pull_request';
        readonly number: number;
        readonly sha: string | null;
        readonly fork: boolean | null;
      }
    | { readonly kind: 'commit'; readonly sha: string };
  /** The comment's id, to answer it. */
  readonly commentId: string;
}

/** The first line of a comment as a command, or null. */
export function parseCommand(
  text: string,
): { action: 'approve' | 'reject'; environment: string; reason: string | null } | null {
  const line = text.trimStart().split(/\r?\n/, 1)[0]!.trim();
  const match = /^\/(approve|reject)(?:\s+([A-Za-z0-9][A-Za-z0-9_-]{0,62}))?(?:\s+(.*))?$/.exec(line);
  if (!match) return null;
  const [, action, environment, rest] = match;
  if (!environment) return null;
  const reason = rest?.trim().slice(0, 500) || null;
  return { action: action as 'approve' | 'reject', environment, reason };
}

const NOT_A_COMMAND = ignore('event_not_handled', 'a comment that is no /approve or /reject command starts nothing');

function command(
  delivery: Admitted,
  text: string,
  fields: Omit<CommentCommand, 'provider' | 'deliveryId' | 'action' | 'environment' | 'reason'>,
): Verdict<CommentCommand> {
  const parsed = parseCommand(text);
  if (!parsed) return NOT_A_COMMAND;
  return proceed({ provider: delivery.provider, deliveryId: delivery.deliveryId, ...parsed, ...fields });
}

function github(delivery: Admitted, payload: Json): Verdict<CommentCommand> {
  if (payload['action'] !== 'created') return ignore('event_not_handled', 'only a new comment is read as a command');
  const comment = child(payload, 'comment', 'comment');
  const user = child(comment, 'user', 'comment.user');
  if (user['type'] === 'Bot') return ignore('event_not_handled', 'a comment by a bot is never a command');
  const login = string(user, 'login', 'comment.user.login');
  const base = {
    repository: string(child(payload, 'repository', 'repository'), 'full_name', 'repository.full_name'),
    projectId: null,
    commenter: { login, names: [login], hostId: login },
    commentId: String(integer(comment, 'id', 'comment.id')),
  };
  const body = optionalString(comment, 'body', 'comment.body') ?? '';
  if (delivery.event === 'commit_comment') {
    return command(delivery, body, {
      ...base,
      on: { kind: 'commit', sha: string(comment, 'commit_id', 'comment.commit_id') },
    });
  }
  const issue = child(payload, 'issue', 'issue');
  if (optionalChild(issue, 'pull_request', 'issue.pull_request') === null) {
    return ignore('event_not_handled', 'a comment on an issue is never a command');
  }
  const number = integer(issue, 'number', 'issue.number');
  return command(delivery, body, { ...base, on: { kind: 'pull_request', number, sha: null, fork: null } });
}

function gitlab(delivery: Admitted, payload: Json): Verdict<CommentCommand> {
  const note = child(payload, 'object_attributes', 'object_attributes');
  if (
    (optionalString(note, 'action', 'object_attributes.action') ?? 'create') !== 'create' ||
    note['system'] === true
  ) {
    return ignore('event_not_handled', 'only a new comment is read as a command');
  }
  const user = child(payload, 'user', 'user');
  const login = string(user, 'username', 'user.username');
  const project = child(payload, 'project', 'project');
  const base = {
    repository: string(project, 'path_with_namespace', 'project.path_with_namespace'),
    projectId: String(integer(project, 'id', 'project.id')),
    commenter: { login, names: [login], hostId: String(integer(user, 'id', 'user.id')) },
    commentId: String(integer(note, 'id', 'object_attributes.id')),
  };
  const text = optionalString(note, 'note', 'object_attributes.note') ?? '';
  const type = optionalString(note, 'noteable_type', 'object_attributes.noteable_type');
  if (type === 'Commit') {
    const sha =
      optionalString(note, 'commit_id', 'object_attributes.commit_id') ||
      string(child(payload, 'commit', 'commit'), 'id', 'commit.id');
    return command(delivery, text, { ...base, on: { kind: 'commit', sha } });
  }
  if (type !== 'MergeRequest')
    return ignore('event_not_handled', `a comment on a ${type ?? 'thing'} is never a command`);
  const mr = child(payload, 'merge_request', 'merge_request');
  const lastCommit = optionalChild(mr, 'last_commit', 'merge_request.last_commit');
  const source = mr['source_project_id'];
  const target = mr['target_project_id'];
  return command(delivery, text, {
    ...base,
    on: {
      kind: 'pull_request',
      number: integer(mr, 'iid', 'merge_request.iid'),
      sha: lastCommit ? optionalString(lastCommit, 'id', 'merge_request.last_commit.id') : null,
      fork: typeof source === 'number' && typeof target === 'number' ? source !== target : null,
    },
  });
}

function bitbucket(delivery: Admitted, payload: Json): Verdict<CommentCommand> {
  const actor = child(payload, 'actor', 'actor');
  const uuid = string(actor, 'uuid', 'actor.uuid');
  const accountId = optionalString(actor, 'account_id', 'actor.account_id');
  const login =
    optionalString(actor, 'nickname', 'actor.nickname') ??
    optionalString(actor, 'display_name', 'actor.display_name') ??
    uuid;
  const comment = child(payload, 'comment', 'comment');
  const text = optionalString(child(comment, 'content', 'comment.content'), 'raw', 'comment.content.raw') ?? '';
  const base = {
    repository: string(child(payload, 'repository', 'repository'), 'full_name', 'repository.full_name'),
    projectId: null,
    commenter: { login, names: [accountId, uuid].filter((n): n is string => n !== null), hostId: uuid },
    commentId: String(integer(comment, 'id', 'comment.id')),
  };
  if (delivery.event === 'repo:commit_comment_created') {
    return command(delivery, text, {
      ...base,
      on: { kind: 'commit', sha: string(child(payload, 'commit', 'commit'), 'hash', 'commit.hash') },
    });
  }
  const pr = child(payload, 'pullrequest', 'pullrequest');
  const source = child(pr, 'source', 'pullrequest.source');
  const from = optionalChild(source, 'repository', 'pullrequest.source.repository');
  const into = optionalChild(
    child(pr, 'destination', 'pullrequest.destination'),
    'repository',
    'pullrequest.destination.repository',
  );
  const commit = optionalChild(source, 'commit', 'pullrequest.source.commit');
  const fromName = from ? optionalString(from, 'full_name', 'pullrequest.source.repository.full_name') : null;
  const intoName = into ? optionalString(into, 'full_name', 'pullrequest.destination.repository.full_name') : null;
  return command(delivery, text, {
    ...base,
    on: {
      kind: 'pull_request',
      number: integer(pr, 'id', 'pullrequest.id'),
      sha: commit ? optionalString(commit, 'hash', 'pullrequest.source.commit.hash') : null,
      fork: fromName && intoName ? fromName !== intoName : null,
    },
  });
}

const COMMENT_EVENTS: Readonly<
  Record<Provider, Readonly<Record<string, (d: Admitted, p: Json) => Verdict<CommentCommand>>>>
> = {
  github: { issue_comment: github, commit_comment: github },
  gitlab: { 'Note Hook': gitlab },
  bitbucket: { 'pullrequest:comment_created': bitbucket, 'repo:commit_comment_created': bitbucket },
};

/** Whether a verified delivery is a comment event (a command or not): the intake's comment path takes it. */
export function isCommentEvent(delivery: Admitted): boolean {
  return Object.hasOwn(COMMENT_EVENTS[delivery.provider], delivery.event);
}

/** A verified comment delivery as a command: ignored when it is not one, 400 when its payload is malformed. */
export function interpretComment(delivery: Admitted): Verdict<CommentCommand> {
  const read = COMMENT_EVENTS[delivery.provider][delivery.event];
  if (!read) return ignore('event_not_handled', `${delivery.event} is not a comment event`);
  const body = decodeBody(delivery.body, delivery.mediaType);
  if (!body.continue) return body;
  try {
    return read(delivery, body.value);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return reject(400, 'malformed_body', error.message);
    throw error;
  }
}
