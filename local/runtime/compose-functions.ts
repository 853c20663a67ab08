import type { SFNClient } from '@aws-sdk/client-sfn';
import { stepFunctionsCallbacks } from '../../adapters/aws/approvals-sfn';
import { executionArnOf, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { hostedConfigRepositories } from '../../adapters/githost/gitops';
import type { SteplineConfig } from '../../core/config';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/contracts/webhook';
import type { IdentityMode } from '../../functions/approval/identity';
import { signInHosts } from '../../functions/approval/sign-in';
import type { MetricsRegistry } from '../server';
import { GitHostSink, sinkOrHostTransport } from '../services/githost';
import type { SimulatedKubernetes } from '../services/kubernetes';
import type { LambdaService } from '../services/lambda';
import { ApprovalDesk } from './approvals';
import type { Env } from './config';
import { type RegisteredFunctions, registerFunctions } from './functions';
import { localGitHost } from './githost';
import { startLocalGitOps } from './gitops';
import { localHandoffSecrets } from './handoff-secrets';
import { defaultLocalIdentity, localSignInConfig } from './identity';
import type { LocalInsight } from './insight';
import { countFunctionMetrics } from './metrics';
import type { LocalMetricsSource } from './metrics-source';
import type { FunctionLogLevel } from './observability';
import type { KubernetesTarget, RuntimeOptions } from './options';
import type { RuntimeSecrets } from './secrets';
import type { Cleanups } from './shutdown';
import { RuntimeWorkflowStarter } from './starter';
import type { RuntimeStores } from './stores';

/**
 * What the functions are given on one machine, and the functions registered with it (`functions.ts`): the starter
 * that answers redeliveries, the approval desk and its identity, the Git host transport (a host where a token is
 * given, else the local status sink), the kubeconfig, the log settings and where their metrics go.
 */

export interface ComposedFunctions {
  readonly functions: RegisteredFunctions;
  readonly approvals: ApprovalDesk;
  /** The webhook, the replay and runs started by hand start through it; it answers redeliveries. */
  readonly starter: RuntimeWorkflowStarter;
  readonly sink: GitHostSink;
  readonly gitHost: ReturnType<typeof localGitHost>;
  readonly maxBodyBytes: number;
}

export function composeFunctions(options: {
  readonly runtime: RuntimeOptions;
  readonly env: Env;
  readonly stateDir: string;
  readonly url: string;
  readonly internalUrl: string;
  readonly config: SteplineConfig;
  readonly stores: RuntimeStores;
  readonly secrets: RuntimeSecrets;
  readonly lambda: LambdaService;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly kubernetes: KubernetesTarget;
  readonly cluster: SimulatedKubernetes | null;
  readonly metrics: MetricsRegistry;
  readonly metricsSource: LocalMetricsSource;
  /** Deployment records and the four keys (insight.ts): the status function writes to its store. */
  readonly insight: LocalInsight;
  readonly cleanups: Cleanups;
}): ComposedFunctions {
  const { runtime, env, url, stores, sfn, stateMachineArn } = options;
  const sink = new GitHostSink(stores.statuses);
  const gitHost = localGitHost(env, url);
  const approvalKeys = async (): Promise<readonly string[]> => options.secrets.approvalKeys;
  // One local identity for the console, the CLI and the approval pages; a host with an OAuth client signs in.
  const approvals = new ApprovalDesk(
    stores.db,
    stores.approvals,
    approvalKeys,
    stepFunctionsCallbacks(sfn),
    url,
    runtime.identity ?? defaultLocalIdentity(env),
  );
  const approvalIdentity: IdentityMode = {
    signIn: signInHosts(localSignInConfig(options.stateDir, env)),
    trusted: { kind: 'local', current: () => approvals.identity },
  };
  const maxBodyBytes = env['WEBHOOK_MAX_BODY_BYTES'] ? Number(env['WEBHOOK_MAX_BODY_BYTES']) : DEFAULT_MAX_BODY_BYTES;
  const starter = new RuntimeWorkflowStarter(
    new StepFunctionsWorkflowStarter(sfn, stateMachineArn),
    (name) => stores.executions.getExecution(executionArnOf(stateMachineArn, name))?.arn,
  );
  // GitOps environments: a bare repository per environment and a stand-in controller (gitops.ts, ADR 0103).
  const gitops = startLocalGitOps(options.stateDir, options.cluster, url, {
    hosts: hostedConfigRepositories(gitHost.settings, gitHost.tokens),
  });
  options.cleanups.add(() => gitops.stop());
  const { kubernetes, metrics, cluster } = options;
  const functions = registerFunctions({
    gitops: gitops.access,
    lambda: options.lambda,
    sfn,
    stateMachineArn,
    workflow: starter,
    prometheus: options.metricsSource.provider(),
    config: options.config,
    webhookSecret: { current: options.secrets.webhookSecret, previous: env['WEBHOOK_SECRET_PREVIOUS'] || null },
    handoffSecrets: localHandoffSecrets(options.stateDir, options.config),
    maxBodyBytes,
    parking: stores.parking,
    db: stores.db,
    deployments: options.insight.store,
    approvals: { store: stores.approvals, keys: approvalKeys, baseUrl: url, identity: approvalIdentity },
    status: {
      transportFor: sinkOrHostTransport(gitHost.settings, gitHost.tokens, `${options.internalUrl}/githost`, sink),
      links: gitHost.settings.links,
      contextPrefix: gitHost.settings.contextPrefix,
    },
    kubeconfig: { path: kubernetes.kubeconfig, ...(kubernetes.context ? { context: kubernetes.context } : {}) },
    logLevel: runtime.logLevel ?? (env['POWERTOOLS_LOG_LEVEL'] as FunctionLogLevel | undefined) ?? 'WARN',
    ...(runtime.logFormat ? { logFormat: runtime.logFormat } : {}),
    onMetrics: (list) => countFunctionMetrics(metrics, list),
    ...(runtime.functionTimeouts ? { timeouts: runtime.functionTimeouts } : {}),
    // On the virtual clock, the simulated cluster steps before each rollout check (functions.ts, ADR 0114).
    ...(cluster ? { stepCluster: () => cluster.tick() } : {}),
  });
  return { functions, approvals, starter, sink, gitHost, maxBodyBytes };
}
