import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import Database from 'better-sqlite3';
import type { RunStopper } from '../../../adapters/aws/stopper';
import { SqliteCoordinationStore } from '../../../adapters/local/coordination';
import type { ApprovalTaskEvent } from '../../../core/approval/contracts';
import { Coordinator } from '../../../core/coordination/service';
import type {
  DeployEvent,
  DeployResult,
  RollbackEvent,
  RollbackResult,
  RolloutEvent,
} from '../../../core/deploy/contracts';
import { parseDeployEvent, parseRollbackEvent, parseRolloutEvent } from '../../../core/deploy/events';
import type { ExecutionInput } from '../../../core/intake/types';
import type { StatusEvent } from '../../../core/status/contracts';
import { parseStatusEvent } from '../../../core/status/validate';
import { createCoordinationHandler } from '../../../functions/coordination/handler';
import {
  Engine,
  type JsonValue,
  type RedriveSource,
  type StartedExecution,
  type StateMachineDefinition,
  TaskFailure,
  type TaskRequest,
} from '../../../local/engine';
import { lambdaContext } from '../githost/lambda';
import { type MetricsScript, StrategyStandIn } from './strategy-world';

/**
 * The pipeline workflow (`statemachines/pipeline.asl.json`) on the local engine, with its Task resources answered
 * in process: the real coordination function over SQLite, and recording stand-ins for CodeBuild and the status,
 * approval and deploy functions that check every payload with the real functions' own parsers. A scenario says
 * what fails.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

export const SUBSTITUTIONS: Readonly<Record<string, string>> = {
  BuildProjectName: 'stepline-build',
  TestProjectName: 'stepline-test',
  UntrustedBuildProjectName: 'stepline-build-untrusted',
  UntrustedTestProjectName: 'stepline-test-untrusted',
  StatusFunctionArn: functionArn('stepline-status'),
  ApprovalFunctionArn: functionArn('stepline-approval'),
  DeployFunctionArn: functionArn('stepline-deploy'),
  RolloutFunctionArn: functionArn('stepline-rollout'),
  RollbackFunctionArn: functionArn('stepline-rollback'),
  CoordinationFunctionArn: functionArn('stepline-coordination'),
  AnalysisFunctionArn: functionArn('stepline-analysis'),
  ArtifactsBucketName: 'stepline-artifacts',
  EcrRegistry: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
  AwsRegion: REGION,
  AwsAccountId: ACCOUNT,
  AwsPartition: 'aws',
  StateMachineName: 'stepline-pipeline',
  ApprovalHeartbeatSeconds: '900',
};

/** How often the world's approval keeper heartbeats a waiting gate, in the execution's (virtual) time. */
export const KEEPER_INTERVAL_MS = 300_000;

/** The definition the world runs; `PIPELINE_DEFINITION_FILE` names another (an older version, to see a test fail). */
export const DEFINITION_FILE =
  process.env['PIPELINE_DEFINITION_FILE'] ?? join(__dirname, '../../../statemachines/pipeline.asl.json');

/** The definition as CDK and the local runtime deploy it: every `${Placeholder}` substituted. */
export function pipelineDefinition(): Record<string, unknown> {
  const text = readFileSync(DEFINITION_FILE, 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = SUBSTITUTIONS[name];
    if (value === undefined) throw new Error(`no substitution for ${whole}`);
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>;
}

export const IMAGE_DIGEST = `sha256:${'ab'.repeat(32)}`;

export interface Scenario {
  /** The image build fails in this phase with this exit code. */
  readonly failBuild?: { readonly phase: string; readonly exitCode?: number; readonly message?: string };
  /** These test suites fail. */
  readonly failingSuites?: readonly string[];
  /** Every status report fails (the status function throws). */
  readonly statusFails?: boolean;
  /**
   * What the approver does, for environments that ask for approval. Default: approve. `timeout`: nobody decides
   * while the keeper heartbeats the gate; `lost`: nobody decides and no keeper heartbeats it; `crash`: the run is
   * stopped while the gate waits, as a runtime killed there would leave it.
   */
  readonly approval?: 'approve' | 'reject' | 'timeout' | 'lost' | 'crash';
  /** Environments whose rollout of the new revision fails (ProgressDeadlineExceeded). */
  readonly rolloutFailsIn?: readonly string[];
  /** Rollout checks that answer "in progress" before one answers done. Default 1. */
  readonly checksBeforeDone?: number;
  /** Whether the coordination function can stop a superseded run (false: the stop comes too late). Default true. */
  readonly stopSuperseded?: boolean;
  /**
   * Environments whose deploy function runs out of time after it has applied part of the manifests, failing as the
   * Lambda integration reports a function timeout (see `functionTimeout`).
   */
  readonly deployTimesOutIn?: readonly string[];
  /** The first this many invocations of the rollback function run out of time. Default 0. */
  readonly rollbackTimesOut?: number;
  /**
   * How the Lambda integration reports a function that ran out of time: `Sandbox.Timedout`, the error type the
   * runtime puts in the payload, or `Lambda.Unknown`, when the payload carries no error type. Default the first.
   */
  readonly functionTimeout?: FunctionTimeoutError;
  /** What the canary and blue-green analyses measure (strategy-world.ts). Default healthy. */
  readonly metrics?: MetricsScript;
  /** With `metrics: 'failing'`: the measurement from which the metric fails. Default 1. */
  readonly failFrom?: number;
}

export type FunctionTimeoutError = 'Sandbox.Timedout' | 'Lambda.Unknown';

/**
 * A function that ran out of time, as `arn:aws:states:::lambda:invoke` fails with it: the error is the payload's
 * `errorType` and the cause the payload itself (`{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: …
 * Error: Task timed out after 300.00 seconds"}`); a payload without an error type fails as `Lambda.Unknown`,
 * whose cause quotes it ("The cause could not be determined because Lambda did not return an error type.
 * Returned payload: …", the Step Functions guide's "Handle Lambda service exceptions").
 */
export function functionTimedOut(kind: FunctionTimeoutError, seconds: number): TaskFailure {
  const requestId = '8d2a6c1e-6b0e-4f43-9d0c-1f2e3d4c5b6a';
  const message = `Task timed out after ${seconds.toFixed(2)} seconds`;
  if (kind === 'Sandbox.Timedout') {
    return new TaskFailure(
      kind,
      JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: ${message}` }),
    );
  }
  const payload = JSON.stringify({ errorMessage: `2030-01-01T00:05:00.000Z ${requestId} ${message}` });
  return new TaskFailure(
    kind,
    `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload}`,
  );
}

/** The deploy, rollout and rollback functions' timeout (infra/constructs/EksDeployer: 5 minutes). */
const DEPLOY_FUNCTION_SECONDS = 300;

export interface BuildCall {
  readonly executionName: string;
  readonly project: string;
  /** StartBuild's SourceVersion: the commit, with the reference that leads to it where the host has one. */
  readonly sourceVersion: string;
  /** BuildspecOverride; undefined when the Task sent none (the project's own buildspec runs). */
  readonly buildspec: string | undefined;
  /** Whether the Task's Arguments had the BuildspecOverride key at all. */
  readonly buildspecSent: boolean;
  readonly env: Readonly<Record<string, string>>;
}

/** What one Task received, in order, across every execution of the world. */
export interface Calls {
  readonly status: StatusEvent[];
  readonly builds: BuildCall[];
  readonly approvals: ApprovalTaskEvent[];
  readonly deploys: DeployEvent[];
  readonly rollouts: RolloutEvent[];
  readonly rollbacks: RollbackEvent[];
  readonly coordination: Record<string, unknown>[];
  /** Every call in order, as `<what>:<execution name>[:<detail>]`, for ordering assertions across runs. */
  readonly timeline: string[];
  /** Heartbeats the world's approval keeper sent. */
  heartbeats: number;
}

type LambdaFn = (payload: Record<string, unknown>, request: TaskRequest) => Promise<unknown>;

function lambdaError(name: string, message: string): TaskFailure {
  return new TaskFailure(name, JSON.stringify({ errorMessage: message, errorType: name, trace: [] }));
}

const nameOf = (request: TaskRequest) => request.execution.name;

function gate(): { promise: Promise<void>; release: () => void } {
  let release = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

export class PipelineWorld {
  public readonly engine: Engine;
  public readonly calls: Calls = {
    status: [],
    builds: [],
    approvals: [],
    deploys: [],
    rollouts: [],
    rollbacks: [],
    coordination: [],
    timeline: [],
    heartbeats: 0,
  };
  /** Builds of these executions wait until `release(name)`. */
  private readonly held = new Map<string, { promise: Promise<void>; release: () => void }>();
  /** The next rollout check of these executions waits until `releaseRollout(name)`. */
  private readonly heldRollouts = new Map<string, { promise: Promise<void>; release: () => void }>();
  private readonly functions: Record<string, LambdaFn>;
  private revision = 0;
  private readonly checks = new Map<string, number>();
  private readonly watchers: { predicate: (entry: string) => boolean; resolve: () => void }[] = [];
  /** The canary and blue-green stand-ins: steps, analyses, GetMetricData. */
  public readonly strategy: StrategyStandIn;

  public constructor(private readonly scenario: Scenario = {}) {
    this.engine = new Engine({ clock: 'virtual', region: REGION, accountId: ACCOUNT });
    this.strategy = new StrategyStandIn(scenario.metrics, scenario.failFrom);
    const stopper: RunStopper = {
      stop: async (executionArn, error, cause) => {
        if (this.scenario.stopSuperseded === false) return false;
        this.engine.stop(executionArn, { error, cause });
        return true;
      },
    };
    const coordination = createCoordinationHandler({
      coordinator: new Coordinator(new SqliteCoordinationStore(new Database(':memory:'))),
      stopper,
      logger: new Logger({ serviceName: 'stepline-coordination', logLevel: 'SILENT' }),
    });
    this.functions = {
      [SUBSTITUTIONS.CoordinationFunctionArn as string]: async (payload, request) => {
        this.calls.coordination.push(payload);
        this.record(`${String(payload.action)}:${nameOf(request)}`);
        return coordination(payload, lambdaContext('stepline-coordination'));
      },
      [SUBSTITUTIONS.StatusFunctionArn as string]: async (payload) => this.status(payload),
      [SUBSTITUTIONS.ApprovalFunctionArn as string]: async (payload, request) => this.approve(payload, request),
      [SUBSTITUTIONS.DeployFunctionArn as string]: async (payload, request) => this.deploy(payload, request),
      [SUBSTITUTIONS.RolloutFunctionArn as string]: async (payload, request) => this.rollout(payload, request),
      [SUBSTITUTIONS.RollbackFunctionArn as string]: async (payload, request) => this.rollback(payload, request),
      [SUBSTITUTIONS.AnalysisFunctionArn as string]: async (payload, request) => {
        this.record(`analysis:${nameOf(request)}`);
        return this.strategy.analyze(payload);
      },
    };
    this.engine.registerHandler('arn:aws:states:::lambda:invoke', (request) => this.invoke(request));
    this.engine.registerHandler('arn:aws:states:::codebuild:startBuild.sync', (request) => this.build(request));
    this.engine.registerHandler('arn:aws:states:::aws-sdk:cloudwatch:getMetricData', (request) =>
      this.strategy.getMetricData(request),
    );
  }

  /** Starts a run; with `continueFrom`, continues one from its recorded history, as the runtime does after a restart. */
  public start(input: ExecutionInput, name: string, continueFrom?: RedriveSource): StartedExecution {
    return this.engine.start(pipelineDefinition() as unknown as StateMachineDefinition, input as unknown as JsonValue, {
      name,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:stepline-pipeline`,
      ...(continueFrom ? { continueFrom } : {}),
    });
  }

  /** Makes the builds of an execution wait until `release(name)`. */
  public hold(executionName: string): void {
    this.held.set(executionName, gate());
  }

  public release(executionName: string): void {
    this.held.get(executionName)?.release();
  }

  /**
   * Makes the next rollout check of an execution wait until `releaseRollout(name)`. A waiting check is a handler in
   * progress, so the virtual clock stands still meanwhile: the other runs go on only as far as they need no time.
   */
  public holdRollout(executionName: string): void {
    this.heldRollouts.set(executionName, gate());
  }

  public releaseRollout(executionName: string): void {
    this.heldRollouts.get(executionName)?.release();
    this.heldRollouts.delete(executionName);
  }

  /** Resolves as soon as the timeline records an entry that matches, checked at each entry, not on a timer. */
  public when(predicate: (entry: string) => boolean): Promise<void> {
    if (this.calls.timeline.some(predicate)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ predicate, resolve }));
  }

  private record(entry: string): void {
    this.calls.timeline.push(entry);
    for (const watcher of this.watchers.filter((w) => w.predicate(entry))) {
      this.watchers.splice(this.watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
  }

  /** Statuses of one execution as `<step>[/<suite|environment>]:<state>`. */
  public statusTrail(executionName: string): string[] {
    return this.calls.status
      .filter((s) => s.executionArn?.endsWith(`:${executionName}`))
      .map((s) => `${s.step}${s.suite ? `/${s.suite}` : ''}${s.environment ? `/${s.environment}` : ''}:${s.state}`);
  }

  private async invoke(request: TaskRequest): Promise<unknown> {
    const input = request.input as { FunctionName: string; Payload: Record<string, unknown> };
    const fn = this.functions[input.FunctionName];
    if (!fn) throw lambdaError('Lambda.ResourceNotFoundException', `Function not found: ${input.FunctionName}`);
    try {
      const payload = await fn(input.Payload, request);
      return { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: payload ?? null };
    } catch (error) {
      if (error instanceof TaskFailure) throw error;
      const e = error as Error;
      throw lambdaError(e.name, e.message);
    }
  }

  private async status(payload: Record<string, unknown>): Promise<unknown> {
    const event = parseStatusEvent(payload);
    this.calls.status.push(event);
    if (this.scenario.statusFails) throw Object.assign(new Error('GitHub answered 502 three times'), { name: 'Error' });
    return { provider: event.request.provider, delivered: 1, failed: 0, outcomes: [] };
  }

  private async approve(payload: Record<string, unknown>, request: TaskRequest): Promise<unknown> {
    const event = payload as unknown as ApprovalTaskEvent;
    if (typeof event.taskToken !== 'string' || event.taskToken !== request.taskToken) {
      throw new Error('the approval task was not given its task token');
    }
    this.calls.approvals.push(event);
    this.record(`approval:${nameOf(request)}:${event.environment}`);
    const decision = this.scenario.approval ?? 'approve';
    if (decision === 'lost') return { approvalId: 'a1', existing: false };
    if (decision === 'crash') {
      this.engine.stop(request.execution.executionArn, { error: 'Crash', cause: 'the runtime was killed' });
      return { approvalId: 'a1', existing: false };
    }
    if (decision === 'timeout') {
      // The approval keeper, as on AWS: a heartbeat every interval until the task no longer waits.
      const token = event.taskToken;
      void (async () => {
        for (;;) {
          await request.sleep(KEEPER_INTERVAL_MS);
          try {
            this.engine.sendTaskHeartbeat(token);
            this.calls.heartbeats += 1;
          } catch {
            return;
          }
        }
      })();
      return { approvalId: 'a1', existing: false };
    }
    // Answer from outside the task, as the approval page does, before the handler returns.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (decision === 'approve') {
      this.engine.sendTaskSuccess(
        event.taskToken,
        JSON.stringify({
          approved: true,
          environment: event.environment,
          approvedBy: 'alice',
          approvedAt: '2030-01-01T00:00:00Z',
        }),
      );
    } else {
      this.engine.sendTaskFailure(
        event.taskToken,
        'Stepline.ApprovalRejected',
        JSON.stringify({
          environment: event.environment,
          rejectedBy: 'alice',
          reason: 'not during the sale',
          rejectedAt: '2030-01-01T00:00:00Z',
        }),
      );
    }
    return { approvalId: 'a1', existing: false };
  }

  private async deploy(payload: Record<string, unknown>, request: TaskRequest): Promise<DeployResult> {
    if (payload['action'] === 'step') {
      this.record(`step:${nameOf(request)}:${String(payload['index'])}`);
      const base = this.deployed(payload['environment'] as DeployEvent['environment'], `x@${IMAGE_DIGEST}`, 0);
      return this.strategy.step(payload, base);
    }
    const event = parseDeployEvent(payload);
    this.calls.deploys.push(event);
    this.record(`deploy:${nameOf(request)}:${event.environment.name}`);
    if (this.scenario.deployTimesOutIn?.includes(event.environment.name)) {
      throw functionTimedOut(this.scenario.functionTimeout ?? 'Sandbox.Timedout', DEPLOY_FUNCTION_SECONDS);
    }
    this.revision += 1;
    return this.strategy.started(
      event,
      this.deployed(event.environment, `${event.image.repository}@${event.image.digest}`, this.revision),
    );
  }

  private deployed(environment: DeployEvent['environment'], image: string, revision: number): DeployResult {
    const event = { environment, image: { repository: image.split('@')[0] ?? '', digest: image.split('@')[1] ?? '' } };
    return {
      environment: event.environment.name,
      namespace: event.environment.namespace,
      revision,
      image: `${event.image.repository}@${event.image.digest}`,
      applied: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: event.environment.namespace,
          name: 'shop',
          change: 'configured',
        },
      ],
      changed: 1,
      watch: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: event.environment.namespace,
          name: 'shop',
          generation: 2,
        },
      ],
      rollout: { deadline: '2030-01-01T00:10:00Z', pollSeconds: event.environment.rollout.pollSeconds },
    };
  }

  private async rollout(payload: Record<string, unknown>, request: TaskRequest): Promise<unknown> {
    const event = parseRolloutEvent(payload) as RolloutEvent & { onWaiting?: string };
    this.calls.rollouts.push(event);
    const key = `${nameOf(request)}:${event.environment.name}:${event.revision}`;
    const count = (this.checks.get(key) ?? 0) + 1;
    this.checks.set(key, count);
    this.record(`rollout:${nameOf(request)}:${event.environment.name}`);
    await this.heldRollouts.get(nameOf(request))?.promise;
    const isRollback = this.calls.rollbacks.some(
      (r) => r.executionName === event.executionName && r.environment.name === event.environment.name,
    );
    if (count <= (this.scenario.checksBeforeDone ?? 1)) {
      if (event.onWaiting === 'throw') {
        throw Object.assign(new Error('Deployment shop: 1 of 3 replicas updated'), {
          name: 'Stepline.RolloutInProgress',
        });
      }
      return { state: 'waiting', reason: 'Deployment shop: 1 of 3 replicas updated' };
    }
    if (!isRollback && this.scenario.rolloutFailsIn?.includes(event.environment.name)) {
      throw Object.assign(new Error('Deployment shop exceeded its progress deadline (ProgressDeadlineExceeded)'), {
        name: 'RolloutFailed',
      });
    }
    if (event.step) {
      this.checks.delete(key);
      throw Object.assign(new Error(`${event.step.label}: rolled out`), { name: 'Stepline.StepReady' });
    }
    return { state: 'done', reason: 'rolled out', objects: [], recordedRevision: event.revision };
  }

  private async rollback(payload: Record<string, unknown>, request: TaskRequest): Promise<RollbackResult> {
    const event = parseRollbackEvent(payload);
    this.calls.rollbacks.push(event);
    this.record(`rollback:${nameOf(request)}:${event.environment.name}`);
    if (this.calls.rollbacks.length <= (this.scenario.rollbackTimesOut ?? 0)) {
      throw functionTimedOut(this.scenario.functionTimeout ?? 'Sandbox.Timedout', DEPLOY_FUNCTION_SECONDS);
    }
    return {
      environment: event.environment.name,
      namespace: event.environment.namespace,
      revision: 1,
      commit: 'fedcba9876543210fedcba9876543210fedcba98',
      image: `example@sha256:${'cd'.repeat(32)}`,
      applied: [],
      changed: 1,
      watch: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: event.environment.namespace,
          name: 'shop',
          generation: 3,
        },
      ],
      rollout: { deadline: '2030-01-01T00:20:00Z', pollSeconds: event.environment.rollout.pollSeconds },
      leftover: [],
    };
  }

  private async build(request: TaskRequest): Promise<unknown> {
    const input = request.input as {
      ProjectName: string;
      SourceVersion: string;
      BuildspecOverride?: string;
      EnvironmentVariablesOverride: { Name: string; Value: string; Type: string }[];
    };
    const env = Object.fromEntries(input.EnvironmentVariablesOverride.map((v) => [v.Name, v.Value]));
    this.calls.builds.push({
      executionName: nameOf(request),
      project: input.ProjectName,
      sourceVersion: input.SourceVersion,
      buildspec: input.BuildspecOverride,
      buildspecSent: Object.hasOwn(input, 'BuildspecOverride'),
      env,
    });
    this.record(`build:${nameOf(request)}:${env.STEPLINE_SUITE ?? 'image'}`);
    const id = `${input.ProjectName}:${this.calls.builds.length}`;
    request.submitted({ Build: { Id: id, BuildStatus: 'IN_PROGRESS' } });
    const held = this.held.get(nameOf(request));
    if (held && env.STEPLINE_STEP === 'build') {
      await Promise.race([
        held.promise,
        new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason))),
      ]);
    }
    const logs = {
      DeepLink: `https://console.aws.amazon.com/cloudwatch/home#logsV2:log-groups/${encodeURIComponent(id)}`,
    };
    const failing =
      env.STEPLINE_STEP === 'build'
        ? this.scenario.failBuild
        : this.scenario.failingSuites?.includes(env.STEPLINE_SUITE ?? '')
          ? { phase: 'BUILD', exitCode: 1 }
          : undefined;
    if (failing) {
      const build = {
        Id: id,
        BuildStatus: 'FAILED',
        Logs: logs,
        Phases: [
          { PhaseType: 'INSTALL', PhaseStatus: 'SUCCEEDED' },
          {
            PhaseType: failing.phase,
            PhaseStatus: 'FAILED',
            Contexts: [
              'message' in failing && failing.message
                ? { StatusCode: 'CLIENT_ERROR', Message: failing.message }
                : {
                    StatusCode: 'COMMAND_EXECUTION_ERROR',
                    Message: `Error while executing command: make. Reason: exit status ${failing.exitCode}`,
                  },
            ],
          },
        ],
      };
      throw new TaskFailure('States.TaskFailed', JSON.stringify({ Build: build }));
    }
    const exported =
      input.ProjectName === SUBSTITUTIONS.BuildProjectName
        ? [
            { Name: 'IMAGE_DIGEST', Value: IMAGE_DIGEST },
            { Name: 'MANIFESTS_LOCATION', Value: `s3://stepline-artifacts/${nameOf(request)}` },
          ]
        : [];
    return { Build: { Id: id, BuildStatus: 'SUCCEEDED', Logs: logs, ExportedEnvironmentVariables: exported } };
  }
}
