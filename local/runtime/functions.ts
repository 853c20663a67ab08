import type { SFNClient } from '@aws-sdk/client-sfn';
import type Database from 'better-sqlite3';
import { stepFunctionsCallbacks } from '../../adapters/aws/approvals-sfn';
import { StepFunctionsRerunStarter } from '../../adapters/aws/rerun';
import { stepFunctionsStopper } from '../../adapters/aws/stopper';
import { hostCommitLog } from '../../adapters/githost/commit-log';
import { describeExecutionReader } from '../../adapters/githost/execution-input';
import type { ClusterAccess } from '../../adapters/kubernetes/access';
import { FileManifestSource } from '../../adapters/local/artifacts';
import { localCommitLog } from '../../adapters/local/commit-log';
import { SqliteCoordinationStore } from '../../adapters/local/coordination';
import type { SqliteParkingStore } from '../../adapters/local/parking';
import { StaticWebhookSecrets } from '../../adapters/local/secrets';
import type { ApprovalStore } from '../../core/approval/contracts';
import type { Provider, SteplineConfig } from '../../core/config/schema';
import { Coordinator } from '../../core/coordination/service';
import type { MetricProvider } from '../../core/deploy/analysis/contracts';
import { ManifestsNotFound } from '../../core/deploy/errors';
import { type ManifestSource, systemClock } from '../../core/deploy/ports';
import type { GitOpsAccess } from '../../core/gitops/ports';
import type { DeploymentStore } from '../../core/insight/contracts';
import { DeploymentRecorder } from '../../core/insight/service';
import type { HandoffSecretSource } from '../../core/intake/handoff';
import type { CommitResolver, WorkflowStarter } from '../../core/intake/ports';
import type { HostTransport } from '../../core/status/hosts';
import type { ConsoleLinks } from '../../core/status/links';
import { createAnalysisHandler } from '../../functions/analysis/handler';
import { prometheusProvider } from '../../functions/analysis/prometheus';
import { createApprovalCommandHandler } from '../../functions/approval/command';
import { createApprovalHttpHandler } from '../../functions/approval/http';
import type { IdentityMode } from '../../functions/approval/identity';
import { createApprovalKeeperHandler } from '../../functions/approval/keeper';
import { createApprovalTaskHandler } from '../../functions/approval/task';
import { createBuildEventsHandler } from '../../functions/build-events/handler';
import { createCoordinationHandler } from '../../functions/coordination/handler';
import { createDeployHandler } from '../../functions/deploy/handler';
import { createExecutionEventsHandler } from '../../functions/execution-events/handler';
import { createRollbackHandler } from '../../functions/rollback/handler';
import { createRolloutHandler } from '../../functions/rollout/handler';
import { createStatusHandler } from '../../functions/status/handler';
import { createWebhookHandler } from '../../functions/webhook/handler';
import { localCommitResolver } from '../services/githost';
import type { LambdaHandler, LambdaService } from '../services/lambda';
import { executionClock, executionClockMode } from './execution-clock';
import { type EmittedMetric, type FunctionLogLevel, functionObservability, type LogFormat } from './observability';
import { LOCAL_RESOURCES } from './pipeline';

/**
 * The functions of the pipeline, built by their own factories with the local runtime's dependencies and
 * registered with the in-process Lambda service under the names the local pipeline definition uses. The AWS
 * adapters that talk to Step Functions (the webhook's starter, the approval callbacks, the coordination stopper,
 * the execution-input reader) are the real ones, pointed at the runtime's own Step Functions API.
 */

export interface FunctionDependencies {
  readonly lambda: LambdaService;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** How the webhook starts executions: the runtime's one starter (starter.ts), which answers redeliveries. */
  readonly workflow: WorkflowStarter;
  /**
   * The Git host's commit API (githost.ts, `localGitHost(...).commits`): the webhook asks it for the full hash of an
   * abbreviated commit (ADR 0090) of a repository that is not on this machine; one that is answers with git itself.
   * Without it, such a delivery is answered 503.
   */
  readonly commitHost?: CommitResolver;
  readonly config: SteplineConfig;
  readonly webhookSecret: { current: string; previous: string | null };
  /** The hand-off sources' secrets (handoff-secrets.ts); without them every hand-off is refused 401. */
  readonly handoffSecrets?: HandoffSecretSource;
  readonly maxBodyBytes: number;
  readonly parking: SqliteParkingStore;
  readonly db: Database.Database;
  readonly approvals: {
    readonly store: ApprovalStore;
    readonly keys: () => Promise<readonly string[]>;
    readonly baseUrl: string;
    readonly identity: IdentityMode;
  };
  readonly status: {
    readonly transportFor: (provider: Provider) => Promise<HostTransport | null>;
    readonly links: ConsoleLinks | null;
    readonly contextPrefix: string;
  };
  readonly kubeconfig: { readonly path: string; readonly context?: string };
  /**
   * Where the status function records each environment's end (delivery insight, ADR 0097; insight.ts), the commits
   * each deploy carried read with git for a repository on this machine, else from the Git host. Without it, none.
   */
  readonly deployments?: DeploymentStore;
  readonly logLevel: FunctionLogLevel;
  /** JSON lines (default), or readable lines for a terminal. */
  readonly logFormat?: LogFormat;
  readonly onMetrics: (metrics: EmittedMetric[]) => void;
  /** How the analysis function queries Prometheus (default: over HTTP, as on AWS; ADR 0068). */
  readonly prometheus?: MetricProvider;
  /** Configuration repositories of environments with a GitOps delivery (ADR 0103; gitops.ts). */
  readonly gitops?: GitOpsAccess;
  /**
   * One controller step of the simulated cluster (its `tick`), taken before each rollout check of an execution on the
   * virtual clock (ADR 0114). Absent for a real cluster.
   */
  readonly stepCluster?: () => void;
  /** Per-function timeouts in seconds (defaults below). */
  readonly timeouts?: Partial<Record<keyof typeof LOCAL_RESOURCES.functions, number>>;
}

/** The local runtime signs nothing: an analysis that asks for SigV4 fails its measurement, naming why. */
const noCredentials = async (): Promise<never> => {
  throw new Error('the local runtime has no AWS credentials to sign Amazon Managed Prometheus queries with');
};

const DEFAULT_TIMEOUTS: Record<keyof typeof LOCAL_RESOURCES.functions, number> = {
  status: 30,
  approval: 30,
  deploy: 300,
  rollout: 60,
  rollback: 300,
  coordination: 30,
  analysis: 60,
  webhook: 10,
  approvalHttp: 10,
  approvalKeeper: 60,
  approvalCommands: 30,
  buildEvents: 30,
  executionEvents: 60,
};

/** What registering the functions answers: a way to load the Kubernetes client ahead of the first deploy. */
export interface RegisteredFunctions {
  readonly preloadKubernetes: () => Promise<void>;
}

type Register = (key: keyof typeof LOCAL_RESOURCES.functions, handler: LambdaHandler) => void;
type Observe = (service: string) => ReturnType<typeof functionObservability>;

export function registerFunctions(deps: FunctionDependencies): RegisteredFunctions {
  const names = LOCAL_RESOURCES.functions;
  const o: Observe = (service) => functionObservability(service, deps.logLevel, deps.onMetrics, deps.logFormat);
  const timeout = (key: keyof typeof names): number => deps.timeouts?.[key] ?? DEFAULT_TIMEOUTS[key];
  const statusDeps = {
    transportFor: deps.status.transportFor,
    links: deps.status.links,
    contextPrefix: deps.status.contextPrefix,
  };
  const readExecutionInput = describeExecutionReader(deps.sfn);
  const { deploy, preload } = deployDependencies(deps);
  const register: Register = (key, handler) => {
    deps.lambda.register({ name: names[key], handler, timeoutSeconds: timeout(key) });
  };

  register(
    'webhook',
    createWebhookHandler({
      config: deps.config,
      secrets: new StaticWebhookSecrets(deps.webhookSecret),
      ...(deps.handoffSecrets ? { handoffSecrets: deps.handoffSecrets } : {}),
      workflow: deps.workflow,
      parking: deps.parking,
      // A comment command goes on to its function as a queue would take it: answered now, decided after.
      commands: {
        submit: async (command) => {
          const event = { Records: [{ messageId: command.deliveryId, body: JSON.stringify(command) }] };
          void deps.lambda.invoke(names.approvalCommands, event).catch(() => {});
        },
      },
      // An abbreviated commit (a Bitbucket pull request's) is resolved before its run starts (ADR 0090).
      commits: localCommitResolver(deps.commitHost ?? null),
      // "Re-run" on a check run (ADR 0091): the run's input again, through the runtime's own Step Functions API and
      // its one starter, which answers a redelivery of the press as a duplicate even while the re-run still runs.
      reruns: new StepFunctionsRerunStarter(deps.sfn, deps.stateMachineArn, deps.workflow),
      // An issue labelled incident is written to the deployments store (ADR 0099).
      ...(deps.deployments ? { incidents: deps.deployments } : {}),
      maxBodyBytes: deps.maxBodyBytes,
      ...o('stepline-webhook'),
    }) as unknown as LambdaHandler,
  );
  const deployments = deps.deployments
    ? {
        deployments: new DeploymentRecorder(deps.deployments, localCommitLog(hostCommitLog(deps.status.transportFor))),
      }
    : {};
  register(
    'status',
    createStatusHandler({ ...statusDeps, ...deployments, ...o('stepline-status') }) as unknown as LambdaHandler,
  );
  register(
    'buildEvents',
    createBuildEventsHandler({
      ...statusDeps,
      readExecutionInput,
      ...o('stepline-build-events'),
    }) as unknown as LambdaHandler,
  );
  register(
    'executionEvents',
    createExecutionEventsHandler({
      ...statusDeps,
      readExecutionInput,
      ...o('stepline-execution-events'),
    }) as unknown as LambdaHandler,
  );
  registerApprovalFunctions(register, deps, o, statusDeps);
  register('deploy', createDeployHandler({ ...deploy, ...o('stepline-deploy') }) as unknown as LambdaHandler);
  register(
    'rollout',
    withClusterStep(
      createRolloutHandler({ ...deploy, ...o('stepline-rollout') }) as unknown as LambdaHandler,
      deps.stepCluster,
    ),
  );
  register('rollback', createRollbackHandler({ ...deploy, ...o('stepline-rollback') }) as unknown as LambdaHandler);
  register(
    'analysis',
    createAnalysisHandler({
      ...deploy,
      // Its one use of time (a measurement Job's timeout) is against the Job's creationTimestamp, which the cluster
      // writes on the machine's clock: measured on that clock too (ADR 0114).
      clock: systemClock,
      prometheus:
        deps.prometheus ?? prometheusProvider({ fetch: (url, init) => fetch(url, init), credentials: noCredentials }),
      ...o('stepline-analysis'),
    }) as unknown as LambdaHandler,
  );
  register(
    'coordination',
    createCoordinationHandler({
      coordinator: new Coordinator(new SqliteCoordinationStore(deps.db)),
      stopper: stepFunctionsStopper(deps.sfn),
      ...o('stepline-coordination'),
    }) as unknown as LambdaHandler,
  );
  return { preloadKubernetes: preload };
}

/**
 * What the deploy, rollout, rollback and analysis functions are given: the cluster (the Kubernetes client takes
 * seconds to load, so it is loaded on first use, the deploy functions' cold start, or ahead of it by `preload`),
 * file:// manifests, the clock and the GitOps access. The clock is the invoking execution's (ADR 0114): a rollout's
 * deadline is computed and checked on the clock the workflow's Waits between the checks run on, the machine's on the
 * real clock, the execution's virtual time in tests.
 */
function deployDependencies(deps: FunctionDependencies) {
  // The Kubernetes client takes seconds to load: it is loaded on first use, the deploy functions' cold start (or
  // ahead of it by `preloadKubernetes`).
  let access: Promise<ClusterAccess> | null = null;
  const accessOnce = (): Promise<ClusterAccess> => {
    access ??= Promise.all([
      import('../../adapters/kubernetes/access'),
      import('../../adapters/kubernetes/connect'),
    ]).then(
      ([a, c]) =>
        new a.ClusterAccess(new c.ClusterConnector(null), {
          kubeconfigOverride: deps.kubeconfig,
          requestTimeoutMs: 30_000,
        }),
    );
    return access;
  };
  const files = new FileManifestSource();
  const manifests: ManifestSource = {
    read: (location, path) =>
      location.startsWith('s3://')
        ? Promise.reject(
            new ManifestsNotFound(`Cannot read ${location}: the local runtime reads file:// manifests locations only`),
          )
        : files.read(location, path),
  };
  const deploy = {
    open: async (cluster: Parameters<ClusterAccess['open']>[0]) => (await accessOnce()).open(cluster),
    manifests,
    clock: executionClock,
    ...(deps.gitops ? { gitops: deps.gitops } : {}),
  };
  const preload = async (): Promise<void> => {
    await accessOnce();
  };
  return { deploy, preload };
}

/**
 * On the virtual clock, the simulated cluster makes one controller step before each rollout check (ADR 0114). The
 * Wait before a check lets pollSeconds pass on the execution's clock but no time on the cluster's, whose controllers
 * step on a timer of the machine's time: the checks would race that timer, and how fast the machine runs would decide
 * whether a rollout completes within its deadline. With a step per check, a rollout that needs n steps completes by
 * its n-th check at the latest, whatever the machine's speed. On the real clock nothing is added.
 */
function withClusterStep(handler: LambdaHandler, step: (() => void) | undefined): LambdaHandler {
  if (!step) return handler;
  return (event, context) => {
    if (executionClockMode() === 'virtual') step();
    return handler(event, context);
  };
}

/** The approval functions: the gate's task, its page, the comment commands and the keeper. */
function registerApprovalFunctions(
  register: Register,
  deps: FunctionDependencies,
  o: Observe,
  statusDeps: Pick<FunctionDependencies['status'], 'transportFor' | 'links' | 'contextPrefix'>,
): void {
  register(
    'approval',
    createApprovalTaskHandler({
      ...statusDeps,
      store: deps.approvals.store,
      keys: deps.approvals.keys,
      baseUrl: deps.approvals.baseUrl,
      ...o('stepline-approval'),
    }) as unknown as LambdaHandler,
  );
  register(
    'approvalHttp',
    createApprovalHttpHandler({
      store: deps.approvals.store,
      callbacks: stepFunctionsCallbacks(deps.sfn),
      keys: deps.approvals.keys,
      identity: deps.approvals.identity,
      links: deps.status.links,
      baseUrl: deps.approvals.baseUrl,
      logger: o('stepline-approval-http').logger,
    }) as unknown as LambdaHandler,
  );
  register(
    'approvalCommands',
    createApprovalCommandHandler({
      store: deps.approvals.store,
      callbacks: stepFunctionsCallbacks(deps.sfn),
      keys: deps.approvals.keys,
      transportFor: deps.status.transportFor,
      ...o('stepline-approval-commands'),
    }) as unknown as LambdaHandler,
  );
  register(
    'approvalKeeper',
    createApprovalKeeperHandler({
      store: deps.approvals.store,
      callbacks: stepFunctionsCallbacks(deps.sfn),
      ...o('stepline-approval-keeper'),
    }) as unknown as LambdaHandler,
  );
}
