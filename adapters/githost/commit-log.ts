import type { Provider } from '../../core/config/schema';
import type { CommitLog, CommitRange, CommitTime } from '../../core/insight/contracts';
import type { HostRequest, HostTransport } from '../../core/status/hosts';

/**
 * Delivery insight's `CommitLog` on the Git hosts' APIs (ADR 0097), through the status functions' transport (its
 * credentials, timeouts and retries). The commits a deploy carried are those reachable from the deployed commit and
 * not from the environment's previous one, with their committer dates:
 * - GitHub: `GET /repos/{owner}/{repo}/compare/{base}...{head}` → `commits[].sha`, `commits[].commit.committer.date`
 *   (oldest first; the first page holds up to 250 commits); the head alone: `GET /repos/{owner}/{repo}/commits/{sha}`.
 * - GitLab: `GET /projects/:id/repository/compare?from=&to=` → `commits[].id`, `commits[].committed_date`; alone:
 *   `GET /projects/:id/repository/commits/:sha`.
 * - Bitbucket Cloud: `GET /repositories/{workspace}/{repo_slug}/commits/{head}?exclude={base}` → `values[].hash`,
 *   `values[].date` (newest first, one page of 100); alone: `GET /repositories/{workspace}/{repo_slug}/commit/{sha}`.
 * Any answer but 2xx is "cannot tell" (null): the record is written without commits.
 */

function split(repository: string): string {
  const slash = repository.indexOf('/');
  return `${encodeURIComponent(repository.slice(0, slash))}/${encodeURIComponent(repository.slice(slash + 1))}`;
}

export function rangeRequest(
  provider: Provider,
  range: Pick<CommitRange, 'repository' | 'base' | 'head'>,
): HostRequest {
  const { repository, base, head } = range;
  const h = encodeURIComponent(head);
  switch (provider) {
    case 'github':
      return base
        ? { method: 'GET', path: `/repos/${split(repository)}/compare/${encodeURIComponent(base)}...${h}` }
        : { method: 'GET', path: `/repos/${split(repository)}/commits/${h}` };
    case 'gitlab': {
      const project = `/projects/${encodeURIComponent(repository)}/repository`;
      return base
        ? { method: 'GET', path: `${project}/compare`, query: { from: base, to: head } }
        : { method: 'GET', path: `${project}/commits/${h}` };
    }
    case 'bitbucket':
      return base
        ? {
            method: 'GET',
            path: `/repositories/${split(repository)}/commits/${h}`,
            query: { exclude: base, pagelen: '100' },
          }
        : { method: 'GET', path: `/repositories/${split(repository)}/commit/${h}` };
  }
}

const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

function commitTime(sha: unknown, time: unknown): CommitTime | null {
  if (typeof sha !== 'string' || typeof time !== 'string' || !Number.isFinite(Date.parse(time))) return null;
  return { sha: sha.toLowerCase(), time: new Date(Date.parse(time)).toISOString() };
}

/** The commits in a host's answer, newest first. */
export function commitsOf(provider: Provider, body: unknown, ranged: boolean): CommitTime[] {
  const list: unknown[] = ranged
    ? (((provider === 'bitbucket' ? obj(body)['values'] : obj(body)['commits']) as unknown[] | undefined) ?? [])
    : [body];
  const found = list.map((item) => {
    const c = obj(item);
    if (provider === 'github') return commitTime(c['sha'], obj(obj(c['commit'])['committer'])['date']);
    if (provider === 'gitlab') return commitTime(c['id'], c['committed_date']);
    return commitTime(c['hash'], c['date']);
  });
  const commits = found.filter((c): c is CommitTime => c !== null);
  // GitHub and GitLab list a comparison oldest first.
  return ranged && provider !== 'bitbucket' ? commits.reverse() : commits;
}

/** A commit log on one transport per provider (`transports` answers null for a provider it has none for). */
export function hostCommitLog(transports: (provider: Provider) => Promise<HostTransport | null>): CommitLog {
  return {
    async between(range: CommitRange): Promise<readonly CommitTime[] | null> {
      const transport = await transports(range.provider);
      if (!transport) return null;
      const response = await transport.send(rangeRequest(range.provider, range));
      if (response.status < 200 || response.status >= 300) return null;
      const commits = commitsOf(range.provider, response.body, range.base !== null);
      return commits.some((c) => c.sha === range.head.toLowerCase()) ? commits : null;
    },
  };
}
