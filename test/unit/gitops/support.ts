import type { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { WatchedObject } from '../../../core/deploy/contracts';
import { systemClock } from '../../../core/deploy/ports';
import type { KubernetesObject } from '../../../core/deploy/types';
import type { ConfigRepository } from '../../../core/gitops/ports';
import { checkConvergence, type GitOpsPorts } from '../../../core/gitops/service';
import type { RouteEnvironment } from '../../../core/intake/types';

/** What the GitOps tests against a Git host stand-in share: the ports, Argo CD in sync, one convergence check. */

/** The GitOps ports of a delivery through `repository`, with the run links the tests read back. */
export function gitopsPorts(repository: ConfigRepository): GitOpsPorts {
  return { repository, clock: systemClock, runLink: (n) => `https://stepline.example.test/runs/${n}` };
}

/** Argo CD's `shop-production`, synced at the branch head of `local` at once and healthy. */
export function syncedArgo(local: () => LocalGitRepository) {
  return {
    get: async (): Promise<KubernetesObject | null> =>
      ({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'shop-production' },
        status: { sync: { status: 'Synced', revision: await local().head('main') }, health: { status: 'Healthy' } },
      }) as KubernetesObject,
  } as never;
}

/** One convergence check of `watch` with ten minutes left, as CheckRollout makes it. */
export function checkWith(
  options: { readonly executionName: string; readonly environment: RouteEnvironment },
  cluster: ReturnType<typeof syncedArgo>,
  repository: ConfigRepository,
  watch: readonly WatchedObject[],
) {
  return checkConvergence(
    { ...options, watch, deadline: new Date(Date.now() + 600_000).toISOString(), revision: 0 },
    { cluster, clock: systemClock, repository },
  );
}
