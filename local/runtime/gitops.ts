import { join } from 'node:path';
import { LocalGitRepository } from '../../adapters/local/gitops-git';
import { GitOpsNotConfigured } from '../../core/gitops/errors';
import type { ConfigRepository, GitOpsAccess } from '../../core/gitops/ports';
import { GitOpsStandInController } from '../services/gitops/controller';
import type { SimulatedKubernetes } from '../services/kubernetes';

/**
 * The GitOps hand-off on one machine (docs/adr/0103): configuration repositories of provider `local` are bare
 * repositories in the state folder (`<state>/gitops/<name>.git`), and on the simulated cluster a stand-in Argo CD /
 * Flux controller serves the `Application`, `Kustomization` and `GitRepository` CRDs and syncs them. Repositories on a
 * Git host go through `hosts` (the Git host adapters) when given.
 */

export interface LocalGitOps {
  readonly access: GitOpsAccess;
  /** The stand-in controller, on the simulated cluster only. */
  readonly controller: GitOpsStandInController | null;
  stop(): Promise<void>;
}

/** Where a local configuration repository lives. */
export function localGitOpsRepository(stateDir: string, name: string): string {
  return join(stateDir, 'gitops', `${name}.git`);
}

export function startLocalGitOps(
  stateDir: string,
  cluster: SimulatedKubernetes | null,
  baseUrl: string,
  options: {
    readonly intervalMs?: number;
    readonly hosts?: (provider: string, name: string) => ConfigRepository | null;
  } = {},
): LocalGitOps {
  const access: GitOpsAccess = {
    open: (repository) => {
      if (repository.provider === 'local') {
        return new LocalGitRepository(localGitOpsRepository(stateDir, repository.name), repository.name);
      }
      const hosted = options.hosts?.(repository.provider, repository.name) ?? null;
      if (!hosted)
        throw new GitOpsNotConfigured(`No token for ${repository.provider}: ${repository.name} cannot be written`);
      return hosted;
    },
    runLink: (name) => `${baseUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(name)}`,
  };
  let controller: GitOpsStandInController | null = null;
  if (cluster) {
    controller = new GitOpsStandInController(cluster);
    controller.installCrds();
    controller.start(options.intervalMs ?? 1000);
  }
  return { access, controller, stop: async () => controller?.stop() };
}
