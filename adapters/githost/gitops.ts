import type { Provider } from '../../core/config/schema';
import { GitOpsNotConfigured } from '../../core/gitops/errors';
import type { ConfigRepository } from '../../core/gitops/ports';
import type { HostTransport } from '../../core/status/hosts';
import { GitHubConfigRepository } from './gitops-github';
import { GitLabConfigRepository } from './gitops-gitlab';
import { type GitHostSettings, transportFor } from './settings';
import type { TokenSource } from './tokens';

/**
 * Configuration repositories on the Git hosts (ADR 0103), with the status functions' settings and credentials: the
 * same base URLs (GitHub Enterprise, self-managed GitLab) and tokens, which then need write access to the
 * configuration repository (GitHub: contents and pull requests; GitLab: api). The transport is made on first use.
 * Bitbucket is not supported yet: its source API answers files as raw text, which the shared transport does not
 * carry whole.
 */
export function hostedConfigRepositories(
  settings: GitHostSettings,
  tokens: TokenSource,
): (provider: string, name: string) => ConfigRepository | null {
  return (provider, name) => {
    if (provider !== 'github' && provider !== 'gitlab') return null;
    let transport: Promise<HostTransport | null> | null = null;
    const lazy: HostTransport = {
      provider: provider as Provider,
      send: async (request) => {
        transport ??= transportFor(provider as Provider, settings, tokens);
        const ready = await transport;
        if (!ready) throw new GitOpsNotConfigured(`No ${provider} credential: ${name} cannot be written`);
        return ready.send(request);
      },
    };
    return provider === 'github' ? new GitHubConfigRepository(lazy, name) : new GitLabConfigRepository(lazy, name);
  };
}
