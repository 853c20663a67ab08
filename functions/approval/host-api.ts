import type { CommentCommand } from '../../core/intake/comments';
import type { HostTransport } from '../../core/status/hosts';

/**
 * What a comment command needs from the Git host, with Stepline's own token (the status functions' transport):
 * the reply comment, a GitHub pull request's head and fork, and team membership.
 *
 * Replies: GitHub `POST /repos/{o}/{r}/issues/{n}/comments` (a pull request is an issue) and `POST /repos/{o}/{r}/
 * commits/{sha}/comments` (`body`); GitLab `POST /projects/{id}/merge_requests/{iid}/notes` (`body`) and `POST
 * /projects/{id}/repository/commits/{sha}/comments` (`note`); Bitbucket `POST /repositories/{ws}/{slug}/
 * pullrequests/{id}/comments` and `…/commit/{sha}/comments` (`content.raw`).
 */

function repo(fullName: string): string {
  const [owner, ...rest] = fullName.split('/');
  return `${encodeURIComponent(owner ?? '')}/${encodeURIComponent(rest.join('/'))}`;
}

/** Posts the reply; answers the host's status code. */
export async function reply(transport: HostTransport, command: CommentCommand, text: string): Promise<number> {
  const body = `@${command.commenter.login} ${text}`;
  const { on } = command;
  let answer: { status: number };
  switch (command.provider) {
    case 'github': {
      const path =
        on.kind === 'pull_request'
          ? `/repos/${repo(command.repository)}/issues/${on.number}/comments`
          : `/repos/${repo(command.repository)}/commits/${on.sha}/comments`;
      answer = await transport.send({ method: 'POST', path, body: { body } });
      break;
    }
    case 'gitlab': {
      const project = encodeURIComponent(command.projectId ?? command.repository);
      answer =
        on.kind === 'pull_request'
          ? await transport.send({
              method: 'POST',
              path: `/projects/${project}/merge_requests/${on.number}/notes`,
              body: { body },
            })
          : await transport.send({
              method: 'POST',
              path: `/projects/${project}/repository/commits/${on.sha}/comments`,
              body: { note: body },
            });
      break;
    }
    case 'bitbucket': {
      const path =
        on.kind === 'pull_request'
          ? `/repositories/${repo(command.repository)}/pullrequests/${on.number}/comments`
          : `/repositories/${repo(command.repository)}/commit/${on.sha}/comments`;
      answer = await transport.send({ method: 'POST', path, body: { content: { raw: body } } });
      break;
    }
  }
  return answer.status;
}

/** A GitHub pull request's head commit and whether it comes from a fork (`GET /repos/{o}/{r}/pulls/{n}`). */
export async function githubPullRequest(
  transport: HostTransport,
  command: CommentCommand,
): Promise<{ sha: string; fork: boolean } | null> {
  if (command.provider !== 'github' || command.on.kind !== 'pull_request') return null;
  const answer = await transport.send({
    method: 'GET',
    path: `/repos/${repo(command.repository)}/pulls/${command.on.number}`,
  });
  if (answer.status !== 200) return null;
  const pr = answer.body as {
    head?: { sha?: string; repo?: { full_name?: string } | null };
    base?: { repo?: { full_name?: string } };
  };
  if (!pr.head?.sha) return null;
  const from = pr.head.repo?.full_name;
  return { sha: pr.head.sha, fork: !from || from !== pr.base?.repo?.full_name };
}

/** Whether the commenter belongs to a team of the approvers, asked with Stepline's token (see sign-in/ for the paths). */
export async function isMember(transport: HostTransport, command: CommentCommand, team: string): Promise<boolean> {
  const who = encodeURIComponent(command.commenter.hostId);
  let path: string;
  switch (command.provider) {
    case 'github': {
      const [org, slug, ...rest] = team.split('/');
      if (!org || !slug || rest.length) return false;
      path = `/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}/memberships/${who}`;
      break;
    }
    case 'gitlab':
      path = `/groups/${encodeURIComponent(team)}/members/all/${who}`;
      break;
    case 'bitbucket':
      if (team.includes('/')) return false;
      path = `/workspaces/${encodeURIComponent(team)}/members/${who}`;
      break;
  }
  const answer = await transport.send({ method: 'GET', path });
  if (answer.status !== 200) return false;
  const body = answer.body as { state?: string; access_level?: number } | null;
  if (command.provider === 'github') return body?.state === 'active';
  if (command.provider === 'gitlab') return (body?.access_level ?? 0) >= 10;
  return true;
}
