import { join, resolve } from 'node:path';
import { generateCertificates, type ServerCertificates, SimulatedKubernetes } from '../services/kubernetes';
import type { RuntimeSettings } from '../store';
import { type Env, positive } from './config';
import type { KubernetesTarget, RuntimeOptions } from './options';
import type { Cleanups } from './shutdown';

/**
 * The Kubernetes API the deploy functions talk to: the kubeconfig given (option or `$KUBECONFIG`), else the
 * simulated API server, started here with certificates kept in the state file and its objects in
 * `<state>/kubernetes.json`, so that what was deployed stays deployed across restarts (ADR 0058).
 */
export async function kubernetesTarget(options: {
  readonly runtime: RuntimeOptions;
  readonly env: Env;
  readonly settings: RuntimeSettings;
  readonly stateDir: string;
  readonly cleanups: Cleanups;
}): Promise<{ readonly kubernetes: KubernetesTarget; readonly cluster: SimulatedKubernetes | null }> {
  const { runtime, env, settings, stateDir } = options;
  const kubeOption =
    runtime.kubernetes ?? (env['KUBECONFIG'] ? { kubeconfig: env['KUBECONFIG'].split(':')[0] as string } : 'simulated');
  if (kubeOption !== 'simulated') {
    const kubernetes = {
      simulated: false,
      kubeconfig: resolve(kubeOption.kubeconfig),
      context: kubeOption.context ?? null,
      server: null,
    };
    return { kubernetes, cluster: null };
  }
  const stored = settings.get('kubernetes-certificates');
  const certificates: ServerCertificates = stored ? (JSON.parse(stored) as ServerCertificates) : generateCertificates();
  if (!stored) settings.set('kubernetes-certificates', JSON.stringify(certificates));
  const cluster = new SimulatedKubernetes({
    certificates,
    // What was deployed stays deployed across restarts, as the revisions that rollbacks read (ADR 0058).
    stateFile: join(stateDir, 'kubernetes.json'),
    port: runtime.simulatedCluster?.port ?? (env['STEPLINE_KUBE_PORT'] ? Number(env['STEPLINE_KUBE_PORT']) : 0),
    tickMs: runtime.simulatedCluster?.tickMs ?? positive(env['STEPLINE_KUBE_TICK_MS']) ?? 500,
    timeScale: runtime.simulatedCluster?.timeScale ?? positive(env['STEPLINE_KUBE_TIME_SCALE']) ?? 1,
  });
  await cluster.start();
  options.cleanups.add(() => cluster.stop());
  const kubeconfig = await cluster.writeKubeconfig(join(stateDir, 'kubeconfig'));
  return { kubernetes: { simulated: true, kubeconfig, context: 'stepline-simulated', server: cluster.url }, cluster };
}
