import { APPROVAL_KEEPER } from '../../core/approval/contracts';
import { Engine } from '../engine';
import { type AwsApiAnswer, awsApiAnswer, MetricsRegistry } from '../server';
import { localBuilds } from './builds';
import { composeFunctions } from './compose-functions';
import { loadConfig, startupSettings } from './config';
import { localInsight } from './insight';
import { kubernetesTarget } from './kubernetes';
import { listenFirst } from './listen';
import { declareMetrics, ExecutionMetrics } from './metrics';
import { LocalMetricsSource } from './metrics-source';
import { ACCOUNT, REGION, type Runtime, type RuntimeOptions } from './options';
import { DEFAULT_STATE_MACHINE_NAME } from './pipeline';
import { parkedReplay } from './replay';
import { keepGoing, type Recovered, recoverPrevious } from './resume';
import { runtimeRouter } from './routes';
import { ManualRuns, storedRunHistory } from './runs';
import { runtimeSecrets } from './secrets';
import { inProcessSfn, lambdaService, orderedInvoker } from './services';
import { Cleanups } from './shutdown';
import { makeStateFolder, tightenStateFolder } from './state-folder';
import { createPipeline, registerTaskHandlers, statesService } from './step-functions';
import { eventStream, openStores } from './stores';

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
  const { env, log, host, port, stateDir, givenSecret } = startupSettings(options);
  // The state folder is the runtime's alone: 0700, its files 0600, one runtime at a time (ADR 0089).
  makeStateFolder(stateDir);
  const config = loadConfig(options.config, env);
  const stores = openStores(stateDir, log);
  const cleanups = new Cleanups();
  try {
    const { events, emit } = eventStream();
    const metrics = new MetricsRegistry();
    declareMetrics(metrics);
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
    const engine = new Engine({
      region: REGION,
      accountId: ACCOUNT,
      tokenSecret: secrets.tokenSecret,
      clock: options.clock ?? 'real',
    });
    const lambda = lambdaService({ metrics, emit, cluster });
    let awsAnswer: AwsApiAnswer | null = null;
    const sfn = inProcessSfn(internalUrl, () => awsAnswer, cleanups);
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
    awsAnswer = awsApiAnswer({ states, codebuild, builds: stores.builds });
    metrics.collect(() => {
      metrics.reset('stepline_runs_running');
      metrics.set('stepline_runs_running', {}, counted.running);
      metrics.reset('stepline_deliveries_parked');
      metrics.set('stepline_deliveries_parked', {}, stores.parking.stats().parked);
    });
    const metricsSource = new LocalMetricsSource();
    registerTaskHandlers(engine, { lambda, codebuild }, metricsSource);

    // The pipeline state machine; the approval gates allow three keeper periods between two heartbeats (ADR 0036).
    const stateMachineName = options.stateMachineName ?? DEFAULT_STATE_MACHINE_NAME;
    const keeperEvery = options.approvalKeeperEveryMs ?? APPROVAL_KEEPER.localIntervalSeconds * 1000;
    const keeperSeconds =
      keeperEvery > 0 ? Math.max(1, Math.round(keeperEvery / 1000)) : APPROVAL_KEEPER.localIntervalSeconds;
    const { stateMachineArn, definition } = createPipeline({
      states,
      stateMachineName,
      definitionFile: options.definitionFile,
      keeperSeconds,
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
      webhookSecret: secrets.webhookSecret,
      keys: secrets.approvalKeys,
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
      runtimeRouter({ runtime, runtimeOptions: options, env, log, config, aws: awsAnswer, composed, tools, insight }),
    );

    // Recovery: what the previous run left; then the periodic replay and the approval keeper.
    await recoverPrevious(runtime, recovered, { resume: options.resumeOnRestart !== false, log });
    keepGoing(runtime, {
      replayEveryMs: options.replayEveryMs ?? 60_000,
      keeperEveryMs: keeperEvery,
      invokeLater,
      cleanups,
    });
    cleanups.addLast(() => stores.close());
    tightenStateFolder(stateDir);
    return runtime;
  } catch (error) {
    await cleanups.run();
    stores.close();
    throw error;
  }
}
