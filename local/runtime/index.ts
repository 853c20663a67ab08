import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { stepFunctionsCallbacks } from '../../adapters/aws/approvals-sfn';
import { executionArnOf, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { hostedConfigRepositories } from '../../adapters/githost/gitops';
import { approvalKeyFile, approvalKeysFromEnv } from '../../adapters/local/approvals-keys';
import { SqliteApprovalStore } from '../../adapters/local/approvals-sqlite';
import { SqliteParkingStore } from '../../adapters/local/parking';
import { APPROVAL_KEEPER, heartbeatSecondsFor } from '../../core/approval/contracts';
import { parseConfig, type SteplineConfig, validateConfig } from '../../core/config';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/contracts/webhook';
import { type DrainSummary, drainParkingStore, replayDelivery } from '../../core/intake/replay';
import type { ExecutionInput } from '../../core/intake/types';
import type { IdentityMode } from '../../functions/approval/identity';
import { signInHosts } from '../../functions/approval/sign-in';
import { type ClockMode, Engine, type HistoryEvent } from '../engine';
import {
  type AwsApiAnswer,
  allowedHosts,
  awsApiAnswer,
  buildRouter,
  inProcessAwsHandler,
  MetricsRegistry,
  type Router,
} from '../server';
import { eventJson, executionSummary } from '../server/api';
import { CodeBuildService, codeBuildTaskHandler, installBuildTools } from '../services/codebuild';
import { GitHostSink, sinkOrHostTransport } from '../services/githost';
import { generateCertificates, type ServerCertificates, SimulatedKubernetes } from '../services/kubernetes';
import { LambdaService, lambdaTaskHandler } from '../services/lambda';
import {
  BuildStore,
  type Db,
  type ExecutionRecord,
  ExecutionStore,
  GroupCommit,
  openStateDb,
  RuntimeSettings,
  StatusStore,
  stateFileOf,
} from '../store';
import { ApprovalDesk } from './approvals';
import { executionStatusEvent } from './execution-event';
import { awsKeyPair, checkListenAddress, extraHosts } from './exposure';
import { registerFunctions } from './functions';
import { localGitHost } from './githost';
import { startLocalGitOps } from './gitops';
import { localHandoffSecrets } from './handoff-secrets';
import { defaultLocalIdentity, localSignInConfig } from './identity';
import { localInsight } from './insight';
import { LocalMetricsSource, metricsRoutes } from './metrics-source';
import type { FunctionLogLevel, LogFormat } from './observability';
import {
  DEFAULT_STATE_MACHINE_NAME,
  defaultDefinitionFile,
  LOCAL_RESOURCES,
  loadDefinition,
  localSubstitutions,
} from './pipeline';
import { ManualRuns } from './runs';
import { RuntimeWorkflowStarter } from './starter';
import { createPrivateFile, lockStateFolder, makeStateFolder, tightenStateFolder } from './state-folder';
import { StatesService } from './states';
import { checkWebhookSecret } from './webhook-secret';

export { ApprovalDesk, type ApprovalView } from './approvals';
export { checkpointFromHistory } from './checkpoint';
export type { FunctionLogLevel, LogFormat } from './observability';
export { DEFAULT_STATE_MACHINE_NAME, LOCAL_RESOURCES, localSubstitutions } from './pipeline';
export { ManualRuns, RunRefusedError, type RunRequest, type StartedRun } from './runs';
export { StatesService } from './states';

/**
 * Stepline on one machine: one process, one HTTP server. `startRuntime` opens the state file, starts the
 * simulated Kubernetes API server (unless a kubeconfig is given), the local CodeBuild, the in-process functions
 * and the Step Functions engine, creates the pipeline state machine from `statemachines/pipeline.asl.json`,
 * listens, then recovers what a previous run left: builds and executions that were running, parked deliveries.
 *
 * ```ts
 * const runtime = await startRuntime({ port: 0, stateDir: '/tmp/stepline', config: 'stepline.config.json' });
 * // POST `${runtime.url}/webhooks/github`, `aws --endpoint-url ${runtime.url} stepfunctions list-executions ...`
 * await runtime.stop();
 * ```
 */

export interface RuntimeOptions {
  /** Default `PORT`, else 8080; 0 picks a free port. */
  readonly port?: number;
  /** Default `HOST`, else 127.0.0.1. */
  readonly host?: string;
  /** The URL others reach the server at (status links, approval links). Default `http://<host>:<port>`. */
  readonly publicUrl?: string;
  /** Where the state lives. Default `STEPLINE_STATE_DIR`, else `.stepline` in the working folder. */
  readonly stateDir?: string;
  /**
   * The pipeline configuration: the document, a path, or JSON text. Default `STEPLINE_CONFIG`, else
   * `stepline.config.json` in the working folder if there is one, else no repository (every delivery is ignored).
   */
  readonly config?: SteplineConfig | string;
  /** The workflow definition. Default statemachines/pipeline.asl.json of this checkout. */
  readonly definitionFile?: string;
  /** Default `stepline-pipeline`. */
  readonly stateMachineName?: string;
  /** The webhook secret. Default `WEBHOOK_SECRET`, else one generated once into `<stateDir>/webhook-secret`. */
  readonly webhookSecret?: string;
  /**
   * Kubernetes: a kubeconfig (and context) to deploy to, or `simulated`. Default: `$KUBECONFIG`'s current context
   * where KUBECONFIG is set, else the simulated API server.
   */
  readonly kubernetes?: 'simulated' | { readonly kubeconfig: string; readonly context?: string };
  /**
   * The simulated API server's port (default `STEPLINE_KUBE_PORT`, else a free one) and pace: milliseconds between
   * two controller steps (`STEPLINE_KUBE_TICK_MS`, default 500) and the factor on progress deadlines
   * (`STEPLINE_KUBE_TIME_SCALE`, default 1).
   */
  readonly simulatedCluster?: { readonly port?: number; readonly tickMs?: number; readonly timeScale?: number };
  /** After a restart, resume executions that were running (default) or end them FAILED. */
  readonly resumeOnRestart?: boolean;
  /** Milliseconds in a minute of build timeout (tests shorten it). Default 60,000. */
  readonly buildMinuteMs?: number;
  /** The functions' log level. Default `POWERTOOLS_LOG_LEVEL`, else WARN. */
  readonly logLevel?: FunctionLogLevel;
  /** The functions' log lines: `json` (Powertools' JSON, as on Lambda; the default) or `text` (one readable line). */
  readonly logFormat?: LogFormat;
  /** The engine's clock: `real` (default) or `virtual` (tests: Wait states take no time). */
  readonly clock?: ClockMode;
  /** The environment the runtime reads (tokens, API URLs, approval settings). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Lines for the operator (start, recovery). Default: none. */
  readonly log?: (line: string) => void;
  /** Adds routes before the built-in ones: the web console (`GET /`, `/ui/*`, `/executions/*`). */
  readonly extend?: (router: Router, runtime: Runtime) => void;
  /** How often parked deliveries are retried, in ms. Default 60,000; 0 turns it off. */
  readonly replayEveryMs?: number;
  /**
   * How often the approval keeper heartbeats the waiting approval gates, in ms. Default
   * `APPROVAL_KEEPER.localIntervalSeconds` (the workflow allows three times that between two heartbeats); 0 turns
   * it off, and then a gate ends "approval lost" after that time (ADR 0036).
   */
  readonly approvalKeeperEveryMs?: number;
  /**
   * Whom the console, the CLI and the approval pages decide as where no Git host sign-in is set up (`stepline start
   * --as`). Default: the login part of `git config user.email`, else `$USER`.
   */
  readonly identity?: string;
  /**
   * Listen on a `host` beyond loopback (`stepline start --listen-public`); refused without it. The AWS APIs then
   * require SigV4 with the key pair of `<state>/aws-credentials` (ADR 0087).
   */
  readonly listenPublic?: boolean;
  /** More Host names the server answers (besides its address and `publicUrl`'s); also `STEPLINE_ALLOWED_HOSTS`. */
  readonly allowedHosts?: readonly string[];
  /** Function timeouts in seconds, by local function key (see LOCAL_RESOURCES.functions). */
  readonly functionTimeouts?: Partial<Record<keyof typeof LOCAL_RESOURCES.functions, number>>;
}

export interface KubernetesTarget {
  readonly simulated: boolean;
  /** The kubeconfig the deploy functions use. */
  readonly kubeconfig: string;
  readonly context: string | null;
  /** The API server's URL (the simulated one's `https://127.0.0.1:<port>`). */
  readonly server: string | null;
}

export interface Runtime {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly stateDir: string;
  readonly stateMachineArn: string;
  /** Whether the pipeline definition was found and the state machine created. */
  readonly pipelineLoaded: boolean;
  readonly webhookSecret: string;
  readonly kubernetes: KubernetesTarget;
  /** The simulated cluster, when it is the target. */
  readonly cluster: SimulatedKubernetes | null;
  readonly states: StatesService;
  readonly codebuild: CodeBuildService;
  readonly lambda: LambdaService;
  readonly metrics: MetricsRegistry;
  /** What services "expose" to canary analyses: error ratios by track, Prometheus text and queries (ADR 0068). */
  readonly metricsSource: LocalMetricsSource;
  readonly approvals: ApprovalDesk;
  readonly stores: {
    readonly db: Db;
    readonly executions: ExecutionStore;
    readonly builds: BuildStore;
    readonly statuses: StatusStore;
    readonly parking: SqliteParkingStore;
  };
  /** Emits `event` for everything the stream shows (`{ type: 'history' | 'execution' | 'build' | 'invoke' | ... }`). */
  readonly events: EventEmitter;
  /** A Step Functions client on this runtime (static credentials), answered in process (server/in-process.ts). */
  readonly sfn: SFNClient;
  /** What recovery found at start. */
  readonly recovered: {
    readonly resumed: string[];
    readonly failed: string[];
    readonly builds: string[];
    readonly replayed: DrainSummary | null;
  };
  /**
   * Loads what the first deploy would otherwise load (the Kubernetes client takes seconds: the deploy functions'
   * cold start). Benchmarks call it before they measure.
   */
  warm(): Promise<void>;
  /** Replays the parked deliveries now: one (by execution name) or all. */
  replay(name?: string): Promise<DrainSummary>;
  /** Runs started by hand: `stepline run`, the console's Run and Re-run (runs.ts). */
  readonly runs: ManualRuns;
  /** Stops listening, stops running builds, closes the state file. Running executions stay RUNNING in the store. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

function loadConfig(
  option: RuntimeOptions['config'],
  env: Readonly<Record<string, string | undefined>>,
): SteplineConfig {
  const value =
    option ?? env['STEPLINE_CONFIG'] ?? (existsSync('stepline.config.json') ? 'stepline.config.json' : undefined);
  if (value === undefined) return { version: 1, repositories: [] } as unknown as SteplineConfig;
  if (typeof value !== 'string') return validateConfig(value, 'the runtime options');
  if (value.trimStart().startsWith('{')) return parseConfig(value, 'STEPLINE_CONFIG (inline JSON)');
  const path = resolve(value);
  if (!existsSync(path)) throw new Error(`the configuration ${path} does not exist`);
  return parseConfig(readFileSync(path, 'utf8'), path);
}

/** What an answer acknowledges is committed before the answer leaves (its headers, then its end). */
function commitBeforeAnswering(res: ServerResponse, db: Db): void {
  const writeHead = res.writeHead;
  const end = res.end;
  res.writeHead = function committedWriteHead(this: ServerResponse, ...args: unknown[]) {
    GroupCommit.flush(db);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  res.end = function committedEnd(this: ServerResponse, ...args: unknown[]) {
    GroupCommit.flush(db);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.end;
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : undefined;
}

function secretFile(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

function declareMetrics(metrics: MetricsRegistry): void {
  metrics.counter('stepline_runs_started_total', 'Pipeline executions started, by repository.');
  metrics.counter(
    'stepline_runs_finished_total',
    'Pipeline executions ended, by repository and status (SUCCEEDED, FAILED, ABORTED, TIMED_OUT).',
  );
  metrics.counter('stepline_runs_succeeded_total', 'Pipeline executions that succeeded, by repository.');
  metrics.counter(
    'stepline_runs_failed_total',
    'Pipeline executions that failed, timed out or were aborted, by repository.',
  );
  metrics.gauge('stepline_runs_running', 'Pipeline executions running now.');
  metrics.histogram('stepline_step_duration_seconds', 'Time from entering a state to leaving it, by state.');
  metrics.counter(
    'stepline_deliveries_total',
    'Webhook deliveries by outcome: accepted, duplicate, ignored, rejected, parked, failed.',
  );
  metrics.counter('stepline_deliveries_rejected_total', 'Webhook deliveries refused, by reason.');
  metrics.gauge('stepline_deliveries_parked', 'Deliveries parked now, waiting for a replay.');
  metrics.counter('stepline_deploys_total', 'Deploys by environment and outcome (succeeded, failed).');
  metrics.counter('stepline_rollbacks_total', 'Rollbacks by environment and outcome.');
  metrics.counter('stepline_builds_total', 'Local builds ended, by project and status.');
  metrics.histogram('stepline_build_duration_seconds', 'Local build durations, by project.');
  metrics.counter('stepline_function_invocations_total', 'In-process function invocations, by function and outcome.');
  metrics.histogram(
    'stepline_function_duration_seconds',
    'In-process function durations, by function.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  metrics.counter(
    'stepline_function_metrics_total',
    'Metrics the functions emitted (their CloudWatch metrics), by function and name.',
  );
}

const WEBHOOK_OUTCOMES: Readonly<Record<string, string>> = {
  accepted: 'accepted',
  duplicate: 'duplicate',
  ignored: 'ignored',
  rejected: 'rejected',
  queued: 'parked',
  failed: 'failed',
};

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const host = options.host ?? env['HOST'] ?? '127.0.0.1';
  const port = options.port ?? (env['PORT'] ? Number(env['PORT']) : 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${String(port)}`);
  // Beyond loopback only when asked (ADR 0087); an empty secret never (ADR 0089).
  checkListenAddress(host, options.listenPublic === true);
  const givenSecret =
    checkWebhookSecret(options.webhookSecret, 'the webhookSecret option') ??
    checkWebhookSecret(env['WEBHOOK_SECRET'], 'WEBHOOK_SECRET');
  const stateDir = resolve(options.stateDir ?? env['STEPLINE_STATE_DIR'] ?? '.stepline');
  // The state folder is the runtime's alone: 0700, its files 0600, one runtime at a time (ADR 0089).
  makeStateFolder(stateDir);
  const config = loadConfig(options.config, env);
  const unlock = lockStateFolder(stateDir);
  createPrivateFile(stateFileOf(stateDir));
  const db = openStateDb(stateFileOf(stateDir));
  // The stores' writes of one event-loop turn share one transaction; every HTTP answer and the close commit first
  // (store/db.ts, docs/adr/0086).
  GroupCommit.enable(db, (error) => log(`the state file could not commit: ${(error as Error).message}`));
  const cleanups: (() => void | Promise<void>)[] = [];
  try {
    const settings = new RuntimeSettings(db);
    const executions = new ExecutionStore(db);
    const builds = new BuildStore(db);
    const statuses = new StatusStore(db);
    const parking = new SqliteParkingStore(db);
    const approvalStore = new SqliteApprovalStore(db);
    const events = new EventEmitter();
    events.setMaxListeners(1000);
    const emit = (event: Record<string, unknown> & { type: string }): void => {
      events.emit('event', { ...event, at: new Date().toISOString() });
    };
    const metrics = new MetricsRegistry();
    declareMetrics(metrics);
    const insight = localInsight({ db, metrics, executions });

    // Listen first: the port is part of every URL the functions are given.
    let router: Router | null = null;
    const server: Server = createServer((req, res) => {
      commitBeforeAnswering(res, db);
      if (!router) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: 'starting', message: 'the runtime is starting' }));
        return;
      }
      void router.handle(req, res);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    );
    const actualPort = (server.address() as AddressInfo).port;
    const internalUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actualPort}`;
    const url = (options.publicUrl ?? internalUrl).replace(/\/+$/, '');

    // Kubernetes.
    const kubeOption =
      options.kubernetes ??
      (env['KUBECONFIG'] ? { kubeconfig: env['KUBECONFIG'].split(':')[0] as string } : 'simulated');
    let cluster: SimulatedKubernetes | null = null;
    let kubernetes: KubernetesTarget;
    if (kubeOption === 'simulated') {
      const stored = settings.get('kubernetes-certificates');
      const certificates: ServerCertificates = stored
        ? (JSON.parse(stored) as ServerCertificates)
        : generateCertificates();
      if (!stored) settings.set('kubernetes-certificates', JSON.stringify(certificates));
      cluster = new SimulatedKubernetes({
        certificates,
        // What was deployed stays deployed across restarts, as the revisions that rollbacks read (ADR 0058).
        stateFile: join(stateDir, 'kubernetes.json'),
        port: options.simulatedCluster?.port ?? (env['STEPLINE_KUBE_PORT'] ? Number(env['STEPLINE_KUBE_PORT']) : 0),
        tickMs: options.simulatedCluster?.tickMs ?? positive(env['STEPLINE_KUBE_TICK_MS']) ?? 500,
        timeScale: options.simulatedCluster?.timeScale ?? positive(env['STEPLINE_KUBE_TIME_SCALE']) ?? 1,
      });
      await cluster.start();
      const started = cluster;
      cleanups.push(() => started.stop());
      const kubeconfig = await cluster.writeKubeconfig(join(stateDir, 'kubeconfig'));
      kubernetes = { simulated: true, kubeconfig, context: 'stepline-simulated', server: cluster.url };
    } else {
      kubernetes = {
        simulated: false,
        kubeconfig: resolve(kubeOption.kubeconfig),
        context: kubeOption.context ?? null,
        server: null,
      };
    }

    // Secrets and keys.
    const webhookSecret =
      givenSecret ?? secretFile(join(stateDir, 'webhook-secret'), () => randomBytes(24).toString('base64url'));
    const keys = env['STEPLINE_APPROVAL_KEYS']
      ? approvalKeysFromEnv(env['STEPLINE_APPROVAL_KEYS'])
      : approvalKeyFile(join(stateDir, 'approval-keys'));
    const tokenSecret = settings.getOrCreate('task-token-secret', () => randomBytes(32).toString('base64url'));

    // Services.
    const engine = new Engine({ region: REGION, accountId: ACCOUNT, tokenSecret, clock: options.clock ?? 'real' });
    const lambda = new LambdaService({
      region: REGION,
      accountId: ACCOUNT,
      onInvoke: (info) => {
        // What a deploy or a rollback applied is on disk before its answer is recorded: a kill -9 right after it
        // loses nothing the history says was done (ADR 0089).
        if (
          info.functionName === LOCAL_RESOURCES.functions.deploy ||
          info.functionName === LOCAL_RESOURCES.functions.rollback
        ) {
          cluster?.save();
        }
        const outcome = info.errorType ? 'error' : 'ok';
        metrics.inc('stepline_function_invocations_total', { function: info.functionName, outcome });
        metrics.observe('stepline_function_duration_seconds', { function: info.functionName }, info.durationMs / 1000);
        const environment = (info.event as { environment?: { name?: unknown } } | null)?.environment?.name;
        if (typeof environment === 'string') {
          if (info.functionName === LOCAL_RESOURCES.functions.deploy) {
            metrics.inc('stepline_deploys_total', { environment, outcome: info.errorType ? 'failed' : 'succeeded' });
          }
          if (info.functionName === LOCAL_RESOURCES.functions.rollback) {
            metrics.inc('stepline_rollbacks_total', { environment, outcome: info.errorType ? 'failed' : 'succeeded' });
          }
        }
        if (
          info.functionName !== LOCAL_RESOURCES.functions.approvalHttp &&
          info.functionName !== LOCAL_RESOURCES.functions.webhook
        ) {
          emit({
            type: 'invoke',
            function: info.functionName,
            durationMs: info.durationMs,
            errorType: info.errorType,
            result: info.result,
          });
        }
      },
    });
    // The functions' Step Functions calls (StartExecution, DescribeExecution, SendTask*, StopExecution) go through
    // the SDK as on AWS, answered in process by the API the HTTP route serves (server/in-process.ts). The webhook
    // and the replay start executions with it too, as they do on AWS.
    let awsAnswer: AwsApiAnswer | null = null;
    const sfn = new SFNClient({
      region: REGION,
      endpoint: internalUrl,
      credentials: { accessKeyId: 'stepline-local', secretAccessKey: 'stepline-local' },
      maxAttempts: 3,
      requestHandler: inProcessAwsHandler(() => awsAnswer),
    });
    cleanups.push(() => sfn.destroy());

    const invokeInOrder = new Map<string, Promise<unknown>>();
    cleanups.push(async () => {
      const pending = [...invokeInOrder.values()];
      await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 10_000).unref())]);
    });
    const invokeLater = (key: string, functionName: string, event: unknown): void => {
      const previous = invokeInOrder.get(key) ?? Promise.resolve();
      const next = previous.then(() => lambda.invoke(functionName, event)).catch(() => {});
      invokeInOrder.set(key, next);
      void next.then(() => {
        if (invokeInOrder.get(key) === next) invokeInOrder.delete(key);
      });
    };

    const tools = await installBuildTools(join(stateDir, 'bin'), {
      ...process.env,
      PATH: env['PATH'] ?? process.env['PATH'],
    });
    const codebuild = new CodeBuildService({
      store: builds,
      workRoot: join(stateDir, 'builds'),
      artifactsRoot: join(stateDir, 'artifacts'),
      path: tools.path,
      region: REGION,
      accountId: ACCOUNT,
      logUrl: (id) => `${url}/api/builds/${encodeURIComponent(id)}/log`,
      ...(options.buildMinuteMs !== undefined ? { minuteMs: options.buildMinuteMs } : {}),
      // Fork builds never see the state folder (keys, secrets, database), only the build tools in it (ADR 0088).
      sandbox: { hidden: [stateDir], readOnly: [join(stateDir, 'bin')] },
      onEvent: (event) => {
        const detail = event.detail;
        emit({
          type: 'build',
          detailType: event['detail-type'],
          buildId: detail['build-id'].slice(detail['build-id'].indexOf(':build/') + 7),
          buildStatus: detail['build-status'],
          phase: detail['completed-phase'] ?? detail['current-phase'] ?? null,
          phaseStatus: detail['completed-phase-status'] ?? null,
        });
        if (event['detail-type'] === 'CodeBuild Build State Change' && detail['build-status'] !== 'IN_PROGRESS') {
          const project = detail['project-name'];
          metrics.inc('stepline_builds_total', { project, status: detail['build-status'] });
          const stored = builds.get(detail['build-id'].slice(detail['build-id'].indexOf(':build/') + 7));
          const doc = stored?.document as { startTime?: number; endTime?: number } | undefined;
          if (doc?.startTime && doc.endTime) {
            metrics.observe('stepline_build_duration_seconds', { project }, (doc.endTime - doc.startTime) / 1000);
          }
        }
        invokeLater(`build:${detail['build-id']}`, LOCAL_RESOURCES.functions.buildEvents, event);
      },
      defaultSource: async (variables) => {
        const arn = variables.get('STEPLINE_EXECUTION_ARN');
        const record = arn ? executions.getExecution(arn) : undefined;
        if (!record) return undefined;
        const input = JSON.parse(record.input) as { request?: { repository?: { cloneUrl?: string } } };
        return input.request?.repository?.cloneUrl;
      },
    });
    const projectVariables = [
      { name: 'ECR_REGISTRY', value: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`, type: 'PLAINTEXT' },
      { name: 'ARTIFACTS_BUCKET', value: LOCAL_RESOURCES.artifactsBucket, type: 'PLAINTEXT' },
    ];
    codebuild.registerProject({
      name: LOCAL_RESOURCES.buildProject,
      description: 'Stepline: builds the image at the commit (local)',
      environmentVariables: projectVariables,
    });
    codebuild.registerProject({
      name: LOCAL_RESOURCES.testProject,
      description: "Stepline: runs one test suite's buildspec at the commit (local)",
      environmentVariables: projectVariables.slice(0, 1),
    });
    // Pull requests from forks: no artifacts bucket, a HOME and an images folder of their own (ADR 0062).
    codebuild.registerProject({
      name: LOCAL_RESOURCES.untrustedBuildProject,
      description: 'Stepline: builds the image of a pull request from a fork, without secrets (local)',
      untrusted: true,
    });
    codebuild.registerProject({
      name: LOCAL_RESOURCES.untrustedTestProject,
      description: 'Stepline: runs one test suite of a pull request from a fork, without secrets (local)',
      untrusted: true,
    });
    cleanups.push(() => codebuild.stopAll());

    const stateMachineName = options.stateMachineName ?? DEFAULT_STATE_MACHINE_NAME;
    // The approval keeper's period; the gates allow three of them between two heartbeats (ADR 0036).
    const keeperEvery = options.approvalKeeperEveryMs ?? APPROVAL_KEEPER.localIntervalSeconds * 1000;
    const keeperSeconds =
      keeperEvery > 0 ? Math.max(1, Math.round(keeperEvery / 1000)) : APPROVAL_KEEPER.localIntervalSeconds;
    const running = new Map<string, number>();
    const stepStarts = new Map<string, number>();
    const states = new StatesService({
      engine,
      store: executions,
      region: REGION,
      accountId: ACCOUNT,
      onEvent: (execution: ExecutionRecord, event: HistoryEvent) => {
        const repository = execution.repository ?? 'unknown';
        if (event.type === 'ExecutionStarted') {
          metrics.inc('stepline_runs_started_total', { repository });
          running.set(execution.arn, 1);
        }
        if (event.type === 'ExecutionRedriven') running.set(execution.arn, 1);
        const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
          | { name?: unknown }
          | undefined;
        const name = typeof details?.name === 'string' ? details.name : undefined;
        if (name && event.type.endsWith('StateEntered'))
          stepStarts.set(`${execution.arn}|${name}`, event.timestamp.getTime());
        if (name && event.type.endsWith('StateExited')) {
          const key = `${execution.arn}|${name}`;
          const started = stepStarts.get(key);
          if (started !== undefined) {
            stepStarts.delete(key);
            metrics.observe(
              'stepline_step_duration_seconds',
              { state: name },
              (event.timestamp.getTime() - started) / 1000,
            );
          }
        }
        emit({ type: 'history', executionArn: execution.arn, status: execution.status, event: eventJson(event) });
      },
      onEnd: (execution) => {
        const repository = execution.repository ?? 'unknown';
        running.delete(execution.arn);
        for (const key of [...stepStarts.keys()]) if (key.startsWith(`${execution.arn}|`)) stepStarts.delete(key);
        metrics.inc('stepline_runs_finished_total', { repository, status: execution.status });
        if (execution.status === 'SUCCEEDED') metrics.inc('stepline_runs_succeeded_total', { repository });
        else metrics.inc('stepline_runs_failed_total', { repository });
        emit({ type: 'execution', execution: executionSummary(execution) });
        if (execution.status === 'FAILED' || execution.status === 'TIMED_OUT' || execution.status === 'ABORTED') {
          const event = executionStatusEvent(execution, { region: REGION, accountId: ACCOUNT });
          invokeLater(`execution:${execution.arn}`, LOCAL_RESOURCES.functions.executionEvents, event);
        }
      },
    });
    cleanups.push(() => states.freeze());
    awsAnswer = awsApiAnswer({ states, codebuild, builds });
    metrics.collect(() => {
      metrics.reset('stepline_runs_running');
      metrics.set('stepline_runs_running', {}, running.size);
      metrics.reset('stepline_deliveries_parked');
      metrics.set('stepline_deliveries_parked', {}, parking.stats().parked);
    });
    engine.registerHandler('arn:aws:states:::lambda:invoke', lambdaTaskHandler(lambda));
    engine.registerHandler('arn:aws:states:::lambda:invoke.waitForTaskToken', lambdaTaskHandler(lambda));
    engine.registerHandler('arn:aws:lambda:*:*:function:*', lambdaTaskHandler(lambda));
    engine.registerHandler('arn:aws:states:::codebuild:startBuild', codeBuildTaskHandler(codebuild));
    engine.registerHandler('arn:aws:states:::codebuild:startBuild.sync', codeBuildTaskHandler(codebuild));
    // A canary step's CloudWatch metrics, answered by the local metrics source (ADR 0068).
    const metricsSource = new LocalMetricsSource();
    engine.registerHandler('arn:aws:states:::aws-sdk:cloudwatch:getMetricData', async (request) =>
      metricsSource.getMetricData(request.input as { MetricDataQueries?: Record<string, unknown>[] }),
    );

    // The pipeline state machine.
    const stateMachineArn = states.stateMachineArnOf(stateMachineName);
    const definitionFile = options.definitionFile ?? defaultDefinitionFile();
    const definition = loadDefinition(
      definitionFile,
      localSubstitutions({
        region: REGION,
        accountId: ACCOUNT,
        stateMachineName,
        approvalHeartbeatSeconds: heartbeatSecondsFor(keeperSeconds),
      }),
    );
    if (definition) {
      states.createStateMachine({
        name: stateMachineName,
        definition,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${stateMachineName}-role`,
        replace: true,
      });
    } else {
      log(`no workflow definition at ${definitionFile}: deliveries are parked until one is there`);
    }

    // The functions.
    const sink = new GitHostSink(statuses);
    const gitHost = localGitHost(env, url);
    const approvalKeys = async (): Promise<readonly string[]> => keys;
    // One local identity for the console, the CLI and the approval pages; a host with an OAuth client signs in.
    const approvals = new ApprovalDesk(
      db,
      approvalStore,
      approvalKeys,
      stepFunctionsCallbacks(sfn),
      url,
      options.identity ?? defaultLocalIdentity(env),
    );
    const approvalIdentity: IdentityMode = {
      signIn: signInHosts(localSignInConfig(stateDir, env)),
      trusted: { kind: 'local', current: () => approvals.identity },
    };
    const maxBodyBytes = env['WEBHOOK_MAX_BODY_BYTES'] ? Number(env['WEBHOOK_MAX_BODY_BYTES']) : DEFAULT_MAX_BODY_BYTES;
    // The webhook, the replay and runs started by hand start through one starter, which answers redeliveries.
    const starter = new RuntimeWorkflowStarter(
      new StepFunctionsWorkflowStarter(sfn, stateMachineArn),
      (name) => executions.getExecution(executionArnOf(stateMachineArn, name))?.arn,
    );
    const gitops = startLocalGitOps(stateDir, cluster, url, {
      hosts: hostedConfigRepositories(gitHost.settings, gitHost.tokens),
    });
    cleanups.push(() => gitops.stop());
    const functions = registerFunctions({
      gitops: gitops.access,
      lambda,
      sfn,
      stateMachineArn,
      workflow: starter,
      prometheus: metricsSource.provider(),
      config,
      webhookSecret: { current: webhookSecret, previous: env['WEBHOOK_SECRET_PREVIOUS'] || null },
      handoffSecrets: localHandoffSecrets(stateDir, config),
      maxBodyBytes,
      parking,
      db,
      deployments: insight.store,
      approvals: {
        store: approvalStore,
        keys: approvalKeys,
        baseUrl: url,
        identity: approvalIdentity,
      },
      status: {
        transportFor: sinkOrHostTransport(gitHost.settings, gitHost.tokens, `${internalUrl}/githost`, sink),
        links: gitHost.settings.links,
        contextPrefix: gitHost.settings.contextPrefix,
      },
      kubeconfig: { path: kubernetes.kubeconfig, ...(kubernetes.context ? { context: kubernetes.context } : {}) },
      logLevel: options.logLevel ?? (env['POWERTOOLS_LOG_LEVEL'] as FunctionLogLevel | undefined) ?? 'WARN',
      ...(options.logFormat ? { logFormat: options.logFormat } : {}),
      onMetrics: (list) => {
        for (const m of list) {
          metrics.inc(
            'stepline_function_metrics_total',
            { function: m.service, name: m.name, ...m.dimensions },
            m.value,
          );
          if (m.service === 'stepline-webhook' && WEBHOOK_OUTCOMES[m.name] && m.value > 0) {
            metrics.inc('stepline_deliveries_total', { outcome: WEBHOOK_OUTCOMES[m.name] as string }, m.value);
            if (m.name === 'rejected')
              metrics.inc(
                'stepline_deliveries_rejected_total',
                { reason: m.dimensions['reason'] ?? 'unknown' },
                m.value,
              );
          }
        }
      },
      ...(options.functionTimeouts ? { timeouts: options.functionTimeouts } : {}),
    });

    let replaying: Promise<DrainSummary> | null = null;
    const replay = async (name?: string): Promise<DrainSummary> => {
      if (name) {
        const parked = (await parking.list(100_000)).find((d) => d.name === name);
        if (!parked) return { started: 0, duplicate: 0, failed: 0, results: [] };
        const result = await replayDelivery(parked, starter);
        if (result.outcome === 'failed') await parking.recordFailure(parked.name, result.reason);
        else await parking.remove(parked.name);
        return {
          started: result.outcome === 'started' ? 1 : 0,
          duplicate: result.outcome === 'duplicate' ? 1 : 0,
          failed: result.outcome === 'failed' ? 1 : 0,
          results: [result],
        };
      }
      replaying ??= drainParkingStore(parking, starter).finally(() => {
        replaying = null;
      });
      return replaying;
    };

    const inputOf = (record: ExecutionRecord): ExecutionInput | null => {
      try {
        return JSON.parse(record.input) as ExecutionInput;
      } catch {
        return null;
      }
    };
    const runs = new ManualRuns(config, starter, {
      inputsOf: (provider, repository) =>
        executions
          .listExecutions({ repository }, 50)
          .items.map(inputOf)
          .filter((i): i is ExecutionInput => i?.request?.provider === provider),
      inputOf: (arn) => {
        const record = executions.getExecution(arn);
        const input = record ? inputOf(record) : null;
        return record && input ? { input, status: record.status, cause: record.cause } : undefined;
      },
      historyOf: (arn) => executions.history(arn),
    });

    const recovered: { resumed: string[]; failed: string[]; builds: string[]; replayed: DrainSummary | null } = {
      resumed: [],
      failed: [],
      builds: [],
      replayed: null,
    };
    const runtime: Runtime = {
      metricsSource,
      url,
      port: actualPort,
      host,
      stateDir,
      stateMachineArn,
      pipelineLoaded: definition !== undefined,
      webhookSecret,
      kubernetes,
      cluster,
      states,
      codebuild,
      lambda,
      metrics,
      approvals,
      stores: { db, executions, builds, statuses, parking },
      events,
      sfn,
      recovered,
      replay,
      runs,
      warm: () => functions.preloadKubernetes(),
      stop: async () => {
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch {
            // Keep stopping the rest.
          }
        }
        cleanups.length = 0;
      },
    };
    const describe = () => ({
      url,
      stateDir,
      stateMachineArn,
      pipelineLoaded: runtime.pipelineLoaded,
      region: REGION,
      accountId: ACCOUNT,
      kubernetes,
      gitHost: {
        github: gitHost.settings.baseUrls.github,
        gitlab: gitHost.settings.baseUrls.gitlab,
        bitbucket: gitHost.settings.baseUrls.bitbucket,
        sink: `${url}/githost`,
      },
      buildTools: { dockerEngine: tools.docker, buildah: tools.buildah },
      projects: codebuild.projectNames(),
      functions: lambda.names(),
      repositories: config.repositories.map((r) => ({
        provider: r.provider,
        name: r.name,
        branches: r.branches.map((b) => ({ pattern: b.pattern, environments: b.environments })),
        tags: r.tags.map((t) => ({ pattern: t.pattern, environments: t.environments })),
      })),
      identity: approvals.identity,
      webhooks: ['github', 'gitlab', 'bitbucket'].map((p) => `${url}/webhooks/${p}`),
    });
    router = buildRouter({
      aws: awsAnswer,
      lambda,
      sink,
      metrics,
      api: {
        states,
        executions,
        builds,
        codebuild,
        statuses,
        approvals,
        parking,
        replay,
        describe,
        events,
        runs,
      },
      webhook: { functionName: LOCAL_RESOURCES.functions.webhook, maxBodyBytes },
      approvalPages: { functionName: LOCAL_RESOURCES.functions.approvalHttp },
      extend: (r: Router) => {
        metricsRoutes(r, metricsSource);
        insight.routes(r);
        options.extend?.(r, runtime);
      },
      // Only requests for this server's names; beyond loopback, SigV4 on the AWS APIs (ADR 0087).
      security: {
        allowedHosts: allowedHosts({
          listenHost: host,
          port: actualPort,
          ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
          extra: [...(options.allowedHosts ?? []), ...extraHosts(env)],
        }),
        ...(options.listenPublic ? { awsKeys: awsKeyPair(stateDir, log) } : {}),
        log,
      },
    });

    // Recovery: what the previous run left.
    recovered.builds = await codebuild.recover();
    const outcome = states.recover({ resume: options.resumeOnRestart !== false });
    recovered.resumed = outcome.resumed;
    recovered.failed = outcome.failed;
    for (const arn of outcome.resumed) log(`resumed ${arn} where it stopped`);
    for (const arn of outcome.failed) log(`ended ${arn} FAILED: it was running when the runtime stopped`);
    if (definition && parking.stats().parked > 0) {
      recovered.replayed = await replay();
      log(
        `replayed parked deliveries: ${recovered.replayed.started} started, ${recovered.replayed.duplicate} already started, ${recovered.replayed.failed} still parked`,
      );
    }
    const every = options.replayEveryMs ?? 60_000;
    if (every > 0) {
      const timer = setInterval(() => {
        if (runtime.pipelineLoaded && parking.stats().parked > 0) void replay().catch(() => {});
      }, every);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    if (keeperEvery > 0) {
      const timer = setInterval(() => {
        invokeLater('approval-keeper', LOCAL_RESOURCES.functions.approvalKeeper, {
          source: 'stepline.local',
          'detail-type': 'Scheduled Event',
          detail: {},
        });
      }, keeperEvery);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    cleanups.unshift(() => {
      GroupCommit.flush(db);
      db.close();
      unlock();
    });
    tightenStateFolder(stateDir);
    return runtime;
  } catch (error) {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep unwinding.
      }
    }
    GroupCommit.flush(db);
    db.close();
    unlock();
    throw error;
  }
}
