import type { CommentCommand } from '../intake/comments';
import { type Person, refusalText, teamEntries } from './approvers';
import type { ApprovalRecord } from './contracts';
import { type DecideDeps, type DecisionResult, decideApproval } from './service';
import { signApprovalId } from './token';

/**
 * A comment command decided (docs/adr/0039): the gate it names is the waiting request of that repository,
 * environment and commit (a pull request's head commit); the commenter, as the verified delivery names them, is
 * held to the same rules as on the page. The answer is the text of the reply comment: what happened, or why not.
 */

export interface CommandDeps extends DecideDeps {
  /**
   * The head commit of a pull request and whether it comes from a fork, from the host's API, for a delivery that
   * does not say (GitHub's `issue_comment`); null when the host cannot tell.
   */
  readonly pullRequest?: (command: CommentCommand) => Promise<{ sha: string; fork: boolean } | null>;
  /** Whether the commenter belongs to a team the approvers name, checked with Stepline's own host token. */
  readonly isMember?: (command: CommentCommand, team: string) => Promise<boolean>;
}

export interface CommandAnswer {
  /** Whether the command was carried out. */
  readonly done: boolean;
  /** The reply comment, said once. */
  readonly text: string;
  /** The request it decided or found, when there is one. */
  readonly approvalId: string | null;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

function refused(text: string, approvalId: string | null = null): CommandAnswer {
  return { done: false, text: `Not ${text}`, approvalId };
}

async function headOf(
  command: CommentCommand,
  deps: CommandDeps,
): Promise<{ sha: string; fork: boolean | null } | null> {
  if (command.on.kind === 'commit') return { sha: command.on.sha, fork: false };
  if (command.on.sha && command.on.fork !== null) return { sha: command.on.sha, fork: command.on.fork };
  const looked = (await deps.pullRequest?.(command)) ?? null;
  if (looked) return looked;
  return command.on.sha ? { sha: command.on.sha, fork: command.on.fork } : null;
}

function answerOf(result: DecisionResult, environment: string, sha: string, verb: string): CommandAnswer {
  switch (result.kind) {
    case 'approved':
      return {
        done: true,
        text: `Approved by ${result.record.decidedBy}: the deploy of ${short(sha)} to ${environment} goes on.`,
        approvalId: result.record.id,
      };
    case 'rejected':
      return {
        done: true,
        text: `Rejected by ${result.record.decidedBy}${result.record.reason ? `: ${result.record.reason}` : ''}. The run ends without deploying ${short(sha)} to ${environment}.`,
        approvalId: result.record.id,
      };
    case 'forbidden':
      return refused(
        `${verb}: ${refusalText(result.refusal, environment, result.record.approvers)}.`,
        result.record.id,
      );
    case 'decided':
      return refused(
        `${verb}: the deploy to ${environment} was ${result.record.status} by ${result.record.decidedBy} already.`,
        result.record.id,
      );
    case 'expired':
      return refused(`${verb}: the approval of ${environment} has expired, or its run no longer waits.`);
    case 'retry':
      return refused(`${verb}: the run could not be told just now; comment again in a moment.`);
    default:
      return refused(`${verb}: ${result.kind}.`);
  }
}

export async function decideByCommand(command: CommentCommand, deps: CommandDeps): Promise<CommandAnswer> {
  const verb = command.action === 'approve' ? 'approved' : 'rejected';
  const head = await headOf(command, deps);
  if (!head) return refused(`${verb}: the pull request's head commit is not known.`);
  if (head.fork) return refused(`${verb}: commands on a pull request from a fork are not taken.`);
  const waiting: ApprovalRecord[] = (await deps.store.listWaiting(deps.now()))
    .filter(
      (r) =>
        r.provider === command.provider &&
        r.repository.toLowerCase() === command.repository.toLowerCase() &&
        r.environment === command.environment &&
        r.commitSha.startsWith(head.sha),
    )
    .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  const record = waiting[0];
  if (!record) return refused(`${verb}: no deploy of ${short(head.sha)} to ${command.environment} waits for approval.`);
  const person: Person = { source: command.provider, login: command.commenter.login, names: command.commenter.names };
  const teams: Record<string, boolean> = {};
  for (const entry of teamEntries(record.approvers)) {
    teams[entry] = deps.isMember ? await deps.isMember(command, entry.slice(1)) : false;
  }
  const result = await decideApproval(
    {
      signedId: signApprovalId(record.id, record.expiresAt, deps.keys),
      action: command.action,
      person,
      teams,
      ...(command.reason ? { reason: command.reason } : {}),
    },
    deps,
  );
  return answerOf(result, command.environment, record.commitSha, verb);
}
