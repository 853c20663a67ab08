import type { SteplineConfig } from '../../core/config';
import { Engine } from '../engine';
import { type AwsApiAnswer, awsApiAnswer, MetricsRegistry } from '../server';
import type { SimulatedKubernetes } from '../services/kubernetes';
import { localBuilds } from './builds';
import { composeFunctions } from './compose-functions';
import { loadConfig, type StartupSettings, startupSettings } from './config';
import { localInsight } from './insight';
import { kubernetesTarget } from './kubernetes';
import { listenFirst } from './listen';
import { collectGauges, declareMetrics, ExecutionMetrics } from './metrics';
import { LocalMetricsSource } from './metrics-source';
import { ACCOUNT, REGION, type Runtime, type RuntimeOptions } from './options';
import { DEFAULT_STATE_MACHINE_NAME } from './pipeline';
import { parkedReplay } from './replay';
import { keepGoing, type Recovered, recoverPrevious } from './resume';
import { runtimeRouter } from './routes';
import { ManualRuns, storedRunHistory } from './runs';
import { type RuntimeSecrets, runtimeSecrets } from './secrets';
import { inProcessSfn, lambdaService, orderedInvoker } from './services';
import { Cleanups } from './shutdown';
import { makeStateFolder, tightenStateFolder } from './state-folder';
import { createPipeline, keeperPeriod, registerTaskHandlers, statesService } from './step-functions';
import { type Emit, eventStream, openStores, type RuntimeStores } from './stores';

export { checkpointFromHistory, StatesService } from '../services/stepfunctions';
export { ApprovalDesk, type ApprovalView } from './approvals';
export type { FunctionLogLevel, LogFormat } from './observability';
export type { KubernetesTarget, Runtime, RuntimeOptions } from './options';
export { DEFAULT_STATE_MACHINE_NAME, LOCAL_RESOURCES, localSubstitutions } from './pipeline';
export { ManualRuns, RunRefusedError, type RunRequest, type StartedRun } from './runs';

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
 *
 * This is the composition only, in the order things start; each step is a module of this folder (README.md).
 * A step that opens something registers how to close it (shutdown.ts), so a failed start unwinds what it opened.
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const settings = startupSettings(options);
  // The state folder is the runtime's alone: 0700, its files 0600, one runtime at a time (ADR 0089).
  makeStateFolder(settings.stateDir);
  const config = loadConfig(options.config, settings.env);
  const stores = openStores(settings.stateDir, settings.log);
  const cleanups = new Cleanups();
  try {
    const runtime = await compose(options, settings, config, stores, cleanups);
    cleanups.addLast(() => stores.close());
    tightenStateFolder(settings.stateDir);
    return runtime;
  } catch (error) {
    await cleanups.run();
    stores.close();
    throw error;
  }
}

/** Everything after the state file is open, in start order; what it opens it registers with `cleanups`. */
async function compose(
  options: RuntimeOptions,
  { env, log, host, port, stateDir, givenSecret }: StartupSettings,
  config: SteplineConfig,
  stores: RuntimeStores,
  cleanups: Cleanups,
): Promise<Runtime> {
  const { events, emit } = eventStream();
  const metrics = declareMetrics(new MetricsRegistry());
  const insight = localInsight({ db: stores.db, metrics, executions: stores.executions });

  // Listen first: the port is part of every URL the functions are given.
  const listening = await listenFirst({ db: stores.db, host, port, publicUrl: options.publicUrl, cleanups });
  const { url, internalUrl } = listening;
  const { kubernetes, cluster } = await kubernetesTarget({
    runtime: options,
    env,
    settings: stores.settings,
    stateDir,
    cleanups,
  });
  const secrets = runtimeSecrets({ stateDir, env, settings: stores.settings, givenSecret });

  // Services.
  const services = await startServices({
    options,
    env,
    stateDir,
    url,
    internalUrl,
    stores,
    secrets,
    cluster,
    metrics,
    emit,
    cleanups,
  });
  const { lambda, sfn, invokeLater, codebuild, states, metricsSource } = services;

  // The pipeline state machine; the approval gates allow three keeper periods between two heartbeats (ADR 0036).
  const keeper = keeperPeriod(options.approvalKeeperEveryMs);
  const { stateMachineArn, definition } = createPipeline({
    states,
    stateMachineName: options.stateMachineName ?? DEFAULT_STATE_MACHINE_NAME,
    definitionFile: options.definitionFile,
    keeperSeconds: keeper.seconds,
    log,
  });

  // The functions, and what starts runs through them.
  const composed = composeFunctions({
    runtime: options,
    env,
    stateDir,
    url,
    internalUrl,
    config,
    stores,
    secrets,
    lambda,
    sfn,
    stateMachineArn,
    kubernetes,
    cluster,
    metrics,
    metricsSource,
    insight,
    cleanups,
  });
  const replay = parkedReplay(stores.parking, composed.starter);
  const runs = new ManualRuns(config, composed.starter, storedRunHistory(stores.executions));

  const recovered: Recovered = { resumed: [], failed: [], builds: [], replayed: null };
  const { db, executions, builds, statuses, parking } = stores;
  const runtime: Runtime = {
    metricsSource,
    url,
    port: listening.port,
    host,
    stateDir,
    stateMachineArn,
    pipelineLoaded: definition !== undefined,
    webhookSecret: secrets.webhookSecret,
    kubernetes,
    cluster,
    states,
    codebuild,
    lambda,
    metrics,
    approvals: composed.approvals,
    stores: { db, executions, builds, statuses, parking },
    events,
    sfn,
    recovered,
    replay,
    runs,
    warm: () => composed.functions.preloadKubernetes(),
    stop: () => cleanups.run(),
  };
  listening.route(
    runtimeRouter({
      runtime,
      runtimeOptions: options,
      env,
      log,
      config,
      aws: services.awsAnswer,
      composed,
      tools: services.tools,
      insight,
    }),
  );

  // Recovery: what the previous run left; then the periodic replay and the approval keeper.
  await recoverPrevious(runtime, recovered, { resume: options.resumeOnRestart !== false, log });
  keepGoing(runtime, { replayEveryMs: options.replayEveryMs, keeperEveryMs: keeper.everyMs, invokeLater, cleanups });
  return runtime;
}

/**
 * The services, started: the engine, the in-process Lambda service and the Step Functions client the functions
 * call through, the ordered invoker, the local CodeBuild, the Step Functions service and its Task resources.
 */
async function startServices(context: {
  readonly options: RuntimeOptions;
  readonly env: StartupSettings['env'];
  readonly stateDir: string;
  readonly url: string;
  readonly internalUrl: string;
  readonly stores: RuntimeStores;
  readonly secrets: RuntimeSecrets;
  readonly cluster: SimulatedKubernetes | null;
  readonly metrics: MetricsRegistry;
  readonly emit: Emit;
  readonly cleanups: Cleanups;
}) {
  const { options, env, stateDir, url, stores, metrics, emit, cleanups } = context;
  const engine = new Engine({
    region: REGION,
    accountId: ACCOUNT,
    tokenSecret: context.secrets.tokenSecret,
    clock: options.clock ?? 'real',
  });
  const lambda = lambdaService({ metrics, emit, cluster: context.cluster });
  let awsAnswer: AwsApiAnswer | null = null;
  const sfn = inProcessSfn(context.internalUrl, () => awsAnswer, cleanups);
  const invokeLater = orderedInvoker(lambda, cleanups);
  const { codebuild, tools } = await localBuilds({
    stateDir,
    env,
    url,
    buildMinuteMs: options.buildMinuteMs,
    builds: stores.builds,
    executions: stores.executions,
    metrics,
    emit,
    invokeLater,
    cleanups,
  });
  const counted = new ExecutionMetrics(metrics);
  const states = statesService({ engine, executions: stores.executions, counted, emit, invokeLater, cleanups });
  const answer = awsApiAnswer({ states, codebuild, builds: stores.builds });
  awsAnswer = answer;
  collectGauges(metrics, counted, stores.parking);
  const metricsSource = new LocalMetricsSource();
  registerTaskHandlers(engine, { lambda, codebuild }, metricsSource);

  return { engine, lambda, sfn, invokeLater, codebuild, tools, states, awsAnswer: answer, metricsSource };
}
