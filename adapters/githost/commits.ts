import type { Provider } from '../../core/config/schema';
import type { CommitQuery, CommitResolver } from '../../core/intake/ports';
import { StatusDeliveryError } from '../../core/status/errors';
import type { HostRequest, HostTransport } from '../../core/status/hosts';
import { type GitHostSettings, transportFor } from './settings';
import type { TokenSource } from './tokens';

/**
 * The intake's `CommitResolver` on the hosts' commit APIs, through the status functions' HTTP client (timeouts,
 * retries, rate limits) and their credentials, or none for a public repository:
 * - Bitbucket Cloud: `GET /repositories/{workspace}/{repo_slug}/commit/{commit}` → `hash` (the API takes an
 *   abbreviated hash: "commit: the commit's SHA1", and its own pull request payloads link to it abbreviated);
 * - GitHub: `GET /repos/{owner}/{repo}/commits/{ref}` → `sha`; GitLab: `GET /projects/:id/repository/commits/:sha`
 *   → `id` (both take a short SHA; their events carry full ones, so these are seldom asked).
 * 404 (or GitLab's 404 "Commit Not Found") answers null; any other refusal, or no answer, throws.
 */

function split(repository: string): string {
  const slash = repository.indexOf('/');
  return `${encodeURIComponent(repository.slice(0, slash))}/${encodeURIComponent(repository.slice(slash + 1))}`;
}

export function commitRequest(provider: Provider, repository: string, commit: string): HostRequest {
  const hash = encodeURIComponent(commit);
  switch (provider) {
    case 'bitbucket':
      return { method: 'GET', path: `/repositories/${split(repository)}/commit/${hash}` };
    case 'github':
      return { method: 'GET', path: `/repos/${split(repository)}/commits/${hash}` };
    case 'gitlab':
      return { method: 'GET', path: `/projects/${encodeURIComponent(repository)}/repository/commits/${hash}` };
  }
}

/** The full SHA in a commit API's answer. */
export function fullShaOf(provider: Provider, body: unknown): string | null {
  const field = { bitbucket: 'hash', github: 'sha', gitlab: 'id' }[provider];
  const value = (body as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' ? value.toLowerCase() : null;
}

/** A resolver on one transport per provider (`transports` answers null for a provider it has none for). */
export function hostCommitResolver(transports: (provider: Provider) => Promise<HostTransport | null>): CommitResolver {
  return {
    async resolve(query: CommitQuery): Promise<string | null> {
      const transport = await transports(query.provider);
      if (!transport) throw new StatusDeliveryError(`no transport for ${query.provider}`);
      const response = await transport.send(commitRequest(query.provider, query.repository, query.commit));
      if (response.status === 404) return null;
      if (response.status < 200 || response.status >= 300) {
        throw new StatusDeliveryError(
          `${query.provider} answered ${response.status} for commit ${query.commit}`,
          response.status,
        );
      }
      return fullShaOf(query.provider, response.body);
    },
  };
}

/**
 * The resolver the webhook function builds from the status functions' settings and tokens: with the provider's
 * credential when there is one, else unauthenticated (a public repository's commits can be read by anyone).
 */
export function gitHostCommitResolver(settings: GitHostSettings, tokens: TokenSource): CommitResolver {
  const anonymous: TokenSource = { credential: async () => ({ scheme: 'none' }) };
  return hostCommitResolver(
    async (provider) =>
      (await transportFor(provider, settings, tokens)) ?? (await transportFor(provider, settings, anonymous)),
  );
}
