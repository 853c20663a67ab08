import { GitOpsNotConfigured } from '../../core/gitops/errors';
import type { ConfigRepository } from '../../core/gitops/ports';
import { BitbucketConfigRepository } from './gitops-bitbucket';
import { GitHubConfigRepository } from './gitops-github';
import { GitLabConfigRepository } from './gitops-gitlab';
import { HttpHostTransport, type RawHostTransport } from './http';
import { type GitHostSettings, transportFor } from './settings';
import type { TokenSource } from './tokens';

/**
 * Configuration repositories on the Git hosts (ADR 0103), with the status functions' settings and credentials: the
 * same base URLs (GitHub Enterprise, self-managed GitLab, Bitbucket Cloud) and tokens, which then need write access
 * to the configuration repository (GitHub: contents and pull requests; GitLab: api; Bitbucket: repository write and
 * pull request write). The transport is made on first use. Bitbucket's source API answers files raw and takes
 * form-encoded commits: its adapter asks the transport for whole bodies (ADR 0110).
 */
export function hostedConfigRepositories(
  settings: GitHostSettings,
  tokens: TokenSource,
): (provider: string, name: string) => ConfigRepository | null {
  return (provider, name) => {
    if (provider !== 'github' && provider !== 'gitlab' && provider !== 'bitbucket') return null;
    let transport: Promise<RawHostTransport | null> | null = null;
    const lazy: RawHostTransport = {
      provider,
      send: async (request) => {
        transport ??= transportFor(provider, settings, tokens).then((t) => {
          // A GitHub App answers JSON only; Bitbucket's raw files need the plain HTTP transport, which it always is.
          if (t && provider === 'bitbucket' && !(t instanceof HttpHostTransport)) return null;
          return t as RawHostTransport | null;
        });
        const ready = await transport;
        if (!ready) throw new GitOpsNotConfigured(`No ${provider} credential: ${name} cannot be written`);
        return ready.send(request);
      },
    };
    if (provider === 'bitbucket') return new BitbucketConfigRepository(lazy, name);
    return provider === 'github' ? new GitHubConfigRepository(lazy, name) : new GitLabConfigRepository(lazy, name);
  };
}
