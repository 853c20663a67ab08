import type { EventEmitter } from 'node:events';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SqliteParkingStore } from '../../adapters/local/parking';
import type { SteplineConfig } from '../../core/config';
import type { DrainSummary } from '../../core/intake/replay';
import type { ClockMode } from '../engine';
import type { MetricsRegistry, Router } from '../server';
import type { CodeBuildService } from '../services/codebuild';
import type { SimulatedKubernetes } from '../services/kubernetes';
import type { LambdaService } from '../services/lambda';
import type { StatesService } from '../services/stepfunctions';
import type { BuildStore, Db, ExecutionStore, StatusStore } from '../store';
import type { ApprovalDesk } from './approvals';
import type { LocalMetricsSource } from './metrics-source';
import type { FunctionLogLevel, LogFormat } from './observability';
import type { LOCAL_RESOURCES } from './pipeline';
import type { ManualRuns } from './runs';

/**
 * What `startRuntime` takes and what it gives back: the runtime's options, the Kubernetes target it chose, and the
 * running runtime. The account and region the local services claim are here too, the one place that names them.
 */

/** The region the local services answer for (ARNs, the SDK clients, the workflow's substitutions). */
export const REGION = 'us-east-1';
/** The account the local ARNs name. */
export const ACCOUNT = '000000000000';

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
