import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalGitRepository } from '../../adapters/local/gitops-git';
import type { Runtime } from '../runtime';
import { localGitOpsRepository } from '../runtime/gitops';
import { DemoError } from './errors';
import type { SampleRepository } from './repository';

/**
 * `stepline demo --gitops` (ADR 0103): staging is handed to GitOps instead of applied. Before the push, the demo
 * makes a configuration repository in the state folder (`gitops/hello-deploy.git`, a bare git repository) with the
 * sample's staging manifests under `apps/staging` and a kustomization, and an Argo CD `Application` on the simulated
 * cluster that follows it; the runtime's stand-in controller syncs it. The run commits the new digest to that
 * repository and waits for the Application to be Synced and Healthy at the commit.
 */

export const GITOPS_REPOSITORY = 'hello-deploy';
export const GITOPS_APPLICATION = 'hello-staging';
const PATH = 'apps/staging';

/** The sample's configuration with staging delivered by GitOps, and staging the only environment. */
export function gitopsConfig(text: string): string {
  const config = JSON.parse(text) as {
    repositories: { branches: { environments: string[] }[]; environments: Record<string, Record<string, unknown>> }[];
  };
  const repository = config.repositories[0];
  if (!repository?.environments['staging'])
    throw new DemoError("the sample's configuration has no staging environment");
  for (const branch of repository.branches) branch.environments = ['staging'];
  repository.environments = {
    staging: {
      ...repository.environments['staging'],
      delivery: {
        type: 'gitops',
        repository: { provider: 'local', name: GITOPS_REPOSITORY },
        branch: 'main',
        path: PATH,
        format: { type: 'kustomize', image: 'hello-service' },
        mode: 'commit',
        controller: { kind: 'Application', name: GITOPS_APPLICATION },
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The sample's base manifests with staging's values, as the configuration repository holds them. */
function stagingFiles(sample: string): Record<string, string> {
  const base = join(sample, 'deploy', 'base');
  const values = (
    JSON.parse(readFileSync(join(sample, 'deploy', 'environments.json'), 'utf8')) as Record<
      string,
      { namespace: string; replicas: number; greeting: string }
    >
  )['staging'];
  if (!values) throw new DemoError("the sample's deploy/environments.json has no staging");
  // The templates' `${NAME}` placeholders, as the sample's render script fills them.
  const placeholders: Record<string, string> = {
    NAMESPACE: values.namespace,
    REPLICAS: String(values.replicas),
    ENVIRONMENT: 'staging',
    GREETING: values.greeting,
  };
  const fill = (text: string) => text.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => placeholders[name] ?? whole);
  const names = ['namespace.yaml', 'configmap.yaml', 'deployment.yaml', 'service.yaml'];
  const files: Record<string, string> = {};
  for (const name of names) files[`${PATH}/${name}`] = fill(readFileSync(join(base, name), 'utf8'));
  files[`${PATH}/kustomization.yaml`] = [
    '# hello-service in staging: Argo CD syncs this folder; Stepline writes the image below.',
    'resources:',
    ...names.map((n) => `  - ${n}`),
    'images:',
    '  - name: hello-service',
    '    newTag: dev # until the first delivery',
    '',
  ].join('\n');
  return files;
}

/** Makes the configuration repository and the Application that follows it, on the simulated cluster. */
export async function prepareGitOps(
  runtime: Runtime,
  repository: SampleRepository,
  say: (label: string, text: string) => void,
): Promise<LocalGitRepository> {
  const cluster = runtime.cluster;
  if (!cluster) throw new DemoError('--gitops needs the simulated cluster');
  const gitDir = localGitOpsRepository(runtime.stateDir, GITOPS_REPOSITORY);
  const repo = await LocalGitRepository.create(gitDir, 'main', stagingFiles(repository.dir), GITOPS_REPOSITORY);
  const apply = (apiVersion: string, kind: string, object: Record<string, unknown>) => {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const type = cluster.registry.byKind(group ?? '', version ?? '', kind);
    if (!type) throw new DemoError(`the simulated cluster serves no ${kind}`);
    const metadata = object['metadata'] as { name: string; namespace?: string };
    cluster.store.apply(type, metadata.namespace, metadata.name, { apiVersion, kind, ...object } as never, {
      fieldManager: 'stepline-demo',
      force: true,
    });
  };
  apply('v1', 'Namespace', { metadata: { name: 'argocd' } });
  apply('argoproj.io/v1alpha1', 'Application', {
    metadata: { name: GITOPS_APPLICATION, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: `file://${gitDir}`, targetRevision: 'main', path: PATH },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'hello-staging' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  });
  say('gitops', `configuration repository ${gitDir} (main, ${PATH})`);
  say(
    'gitops',
    `Argo CD Application argocd/${GITOPS_APPLICATION} follows it (a stand-in controller syncs the simulated cluster)`,
  );
  return repo;
}

/** What the run wrote: the head commit's subject and its link, for the demo's last lines. */
export async function gitopsOutcome(repo: LocalGitRepository): Promise<string> {
  const head = await repo.head('main');
  const found = await repo.findCommit('main', { 'Stepline-Action': 'deliver' });
  if (!found) return `no delivery commit on main (head ${head.slice(0, 12)})`;
  const subject = (await repo.readFile(found.sha, `${PATH}/kustomization.yaml`))?.match(/digest: (\S+)/)?.[1] ?? '';
  return `${found.sha.slice(0, 12)} on main set hello-service@${subject.slice(0, 19)}…${found.sha === head ? '' : ` (head ${head.slice(0, 12)}: reverted)`}`;
}
