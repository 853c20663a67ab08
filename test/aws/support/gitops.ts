import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import { GitOpsStandInController } from '../../../local/services/gitops/controller';
import type { SimulatedKubernetes } from '../../../local/services/kubernetes';
import type { JsonObject } from '../../../local/services/kubernetes/fields';
import { GitOpsHostStandIn } from '../../support/githost/gitops-host';
import type { CfnTemplate } from '../../support/moto/template';

/**
 * The GitOps side of a scenario on the platform as synthesized (ADR 0103): a configuration repository on GitHub
 * (the GitHub stand-in of test/support/githost/gitops-host.ts, over a bare repository on this machine), and Argo CD
 * on the simulated cluster (the stand-in controller of local/services/gitops/, reading the same bare repository as
 * `file://`, as Argo CD's repo server reads the repository GitHub serves). The controller syncs when the scenario
 * says (`reconcile`), never on a timer: the suite's hooks run it after each deploy, rollout and rollback Task.
 */

const run = promisify(execFile);

export interface ConfigRepositoryOptions {
  /** `owner/name` on the Git host. */
  readonly fullName: string;
  readonly branch: string;
  /** The token the host accepts (the one the operator put in the Git host tokens secret). */
  readonly token: string;
  readonly files: Readonly<Record<string, string>>;
}

export class GitOpsSide {
  private constructor(
    public readonly dir: string,
    public readonly gitDir: string,
    public readonly repository: LocalGitRepository,
    public readonly host: GitOpsHostStandIn,
    public readonly branch: string,
  ) {}

  public controller: GitOpsStandInController | null = null;

  /** Creates the configuration repository and starts its GitHub stand-in on 127.0.0.1. */
  public static async start(options: ConfigRepositoryOptions): Promise<GitOpsSide> {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-aws-gitops-'));
    const gitDir = join(dir, `${options.fullName.replace('/', '-')}.git`);
    const repository = await LocalGitRepository.create(gitDir, options.branch, options.files, options.fullName);
    const host = new GitOpsHostStandIn(gitDir, options.fullName, options.token);
    await host.start();
    return new GitOpsSide(dir, gitDir, repository, host, options.branch);
  }

  /** Installs Argo CD's CRDs on the cluster and applies the Application that follows the branch at `path`. */
  public installArgoCd(
    cluster: SimulatedKubernetes,
    application: { name: string; namespace: string; path: string; destination: string },
  ): void {
    this.controller = new GitOpsStandInController(cluster);
    this.controller.installCrds();
    const type = cluster.registry.byKind('argoproj.io', 'v1alpha1', 'Application');
    if (!type) throw new Error('the simulated cluster does not serve Argo CD Applications');
    const object: JsonObject = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: application.name, namespace: application.namespace },
      spec: {
        project: 'default',
        source: { repoURL: `file://${this.gitDir}`, targetRevision: this.branch, path: application.path },
        destination: { server: 'https://kubernetes.default.svc', namespace: application.destination },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    };
    cluster.store.apply(type, application.namespace, application.name, object, {
      fieldManager: 'argocd-install',
      force: true,
    });
  }

  /**
   * What the operator does once per cluster, as the stack's output says (`GitOpsReaderRbac-*`, ADR 0108): applies the
   * Role and RoleBinding that let the deployer's access entry group read the controllers. Answers what was applied.
   */
  public static applyReaderRbac(cluster: SimulatedKubernetes, template: CfnTemplate): string[] {
    const outputs = (template as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
    const applied: string[] = [];
    for (const [key, output] of Object.entries(outputs)) {
      if (!/GitOpsReaderRbac/.test(key)) continue;
      const list = JSON.parse(String(output.Value)) as { items: JsonObject[] };
      for (const item of list.items) {
        const [group = '', version = ''] = String(item['apiVersion']).split('/');
        const type = cluster.registry.byKind(group, version, String(item['kind']));
        const metadata = item['metadata'] as { name: string; namespace: string };
        if (!type) throw new Error(`the simulated cluster does not serve ${item['apiVersion']} ${item['kind']}`);
        cluster.store.apply(type, metadata.namespace, metadata.name, item, { fieldManager: 'kubectl', force: true });
        applied.push(`${item['kind']} ${metadata.namespace}/${metadata.name}`);
      }
    }
    return applied;
  }

  /** One pass of the controller over every Application. */
  public async reconcile(): Promise<void> {
    if (!this.controller) throw new Error('Argo CD is not installed');
    await this.controller.reconcile();
  }

  /**
   * Syncs until the Applications are Healthy (the simulated workload controllers step on their own ticks), for a
   * scenario's starting point. Throws after `passes` passes.
   */
  public async settle(cluster: SimulatedKubernetes, passes = 500): Promise<void> {
    const type = cluster.registry.byKind('argoproj.io', 'v1alpha1', 'Application');
    if (!type) throw new Error('the simulated cluster does not serve Argo CD Applications');
    const healthOf = (app: JsonObject) =>
      ((app['status'] as { health?: { status?: string } } | undefined)?.health?.status ?? 'Unknown') as string;
    let health: string[] = [];
    for (let pass = 0; pass < passes; pass += 1) {
      await this.reconcile();
      health = cluster.store.all(type).map(healthOf);
      if (health.every((h) => h === 'Healthy')) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the Applications did not become Healthy: ${health.join(', ')}`);
  }

  public head(): Promise<string> {
    return this.repository.head(this.branch);
  }

  /** The full message of a commit. */
  public async message(sha: string): Promise<string> {
    return (await run('git', ['--git-dir', this.gitDir, 'log', '-1', '--format=%B', sha])).stdout;
  }

  public async stop(): Promise<void> {
    await this.controller?.stop();
    await this.host.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
