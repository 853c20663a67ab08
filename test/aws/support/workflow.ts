import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { Engine, type HistoryEvent, TaskFailure, type TaskHandler } from '../../../local/engine';
import { executionStatusEvent } from '../../../local/runtime/execution-event';
import { awsApiAnswer } from '../../../local/server/aws';
import { CodeBuildService, codeBuildTaskHandler, installBuildTools } from '../../../local/services/codebuild';
import { LambdaService, lambdaTaskHandler } from '../../../local/services/lambda';
import { StatesService } from '../../../local/services/stepfunctions';
import { BuildStore, type ExecutionRecord, ExecutionStore, openStateDb } from '../../../local/store';
import type { EventBridgeStandIn } from './events';
import type { DeployedFunction } from './functions';
import type { Authorization, IamModel, Principal } from './iam';
import { buildServiceCalls, stateMachineServiceCalls } from './service-side';
import type { StackValues } from './template';

/**
 * The workflow side of the suite: the template's state machine (its `DefinitionString` with
 * `DefinitionSubstitutions` applied, as CloudFormation does) on the local engine, behind the Step Functions API;
 * its Tasks invoke the functions' bundles (the Lambda integration) and the local CodeBuild (projects made from the
 * template, with their role's credentials), each Task first authorized against the state machine's role; the
 * services' own work with each role (logs, reports, traces) authorized too (service-side.ts). The engine runs on a
 * virtual clock: a Wait or a heartbeat timeout takes no time, and a hook that runs while a Task is in progress
 * (`onTask`) holds the clock still.
 */

/** What a scenario does while a Task's function runs: `running` settles when the function has answered. */
export type TaskHook = (task: { payload: unknown; running: Promise<unknown>; executionArn: string }) => Promise<void>;

export interface WorkflowDeps {
  readonly values: StackValues;
  readonly iam: IamModel;
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  readonly events: EventBridgeStandIn;
  readonly endpointUrl: string;
  readonly workDir: string;
  readonly cleanups: (() => unknown)[];
  /** Authorizes what a service does with a role on the resource's behalf. */
  readonly serviceSide: (principal: Principal, operation: string, authorizations: readonly Authorization[]) => void;
}

export class Workflow {
  public engine!: Engine;
  public states!: StatesService;
  public codebuild!: CodeBuildService;
  public lambda!: LambdaService;
  public stateMachineArn!: string;
  public answer!: ReturnType<typeof awsApiAnswer>;
  /** Errors thrown by task hooks (a scenario's own steps), for the test to show. */
  public readonly hookErrors: string[] = [];
  private readonly taskHooks: { readonly functionPrefix: string; readonly hook: TaskHook }[] = [];

  private constructor(private readonly deps: WorkflowDeps) {}

  public static async compose(deps: WorkflowDeps): Promise<Workflow> {
    const workflow = new Workflow(deps);
    await workflow.start();
    return workflow;
  }

  private async start(): Promise<void> {
    const { values, workDir, cleanups } = this.deps;
    const db = openStateDb(join(workDir, 'state.db'));
    cleanups.push(() => db.close());
    this.engine = new Engine({
      region: values.region,
      accountId: values.accountId,
      tokenSecret: randomBytes(32).toString('base64url'),
      clock: 'virtual',
    });
    this.lambda = new LambdaService({ region: values.region, accountId: values.accountId });
    for (const deployed of this.deps.functions.values()) {
      this.lambda.register({
        name: deployed.fn.spec.name,
        handler: (event, context) => deployed.fn.invoke(event, context),
        // The bundle's own timeout ends an invocation first (lambda-host.ts); this one never should.
        timeoutSeconds: deployed.fn.spec.timeoutSeconds + 60,
      });
    }
    const builds = new BuildStore(db);
    const tools = await installBuildTools(join(workDir, 'bin'));
    this.codebuild = new CodeBuildService({
      store: builds,
      workRoot: join(workDir, 'builds'),
      artifactsRoot: join(workDir, 'artifacts'),
      path: tools.path,
      region: values.region,
      accountId: values.accountId,
      logUrl: (id) => `https://console.aws.amazon.com/codesuite/codebuild/projects/build/${encodeURIComponent(id)}`,
      onEvent: (event) => {
        this.deps.events.put(event as unknown as Record<string, unknown>);
        if (event['detail-type'] === 'CodeBuild Build State Change' && event.detail['build-status'] !== 'IN_PROGRESS') {
          this.buildEnded(event.detail['project-name'], event.detail['build-id']);
        }
      },
    });
    cleanups.push(() => this.codebuild.stopAll());
    this.registerProjects();

    const machineId = values.resourcesOf('AWS::StepFunctions::StateMachine')[0];
    if (!machineId) throw new Error('the template has no state machine');
    const machine = values.properties(machineId);
    const machineRole = this.deps.iam.principal(this.deps.iam.roleIdOf(machine['RoleArn']));
    const serviceCalls = stateMachineServiceCalls(values, machineId);
    this.deps.serviceSide(machineRole, 'Step Functions sets up the execution logs', serviceCalls.creation);
    machineRole.users.push('the state machine');
    this.states = new StatesService({
      engine: this.engine,
      store: new ExecutionStore(db),
      region: values.region,
      accountId: values.accountId,
      onEnd: (execution) =>
        this.deps.events.put(executionStatusEvent(execution, values) as unknown as Record<string, unknown>),
      onEvent: (_execution, event) => {
        if (event.type === 'ExecutionStarted')
          this.deps.serviceSide(machineRole, 'Step Functions traces the execution', serviceCalls.execution);
      },
    });
    this.answer = awsApiAnswer({ states: this.states, codebuild: this.codebuild, builds });
    const lambdaTask = authorizedTask(
      this.deps.iam,
      machineRole,
      this.withTaskHooks(lambdaTaskHandler(this.lambda)),
      (request) => {
        const name = String((request.input as { FunctionName?: unknown }).FunctionName ?? '');
        return [{ action: 'lambda:InvokeFunction', resource: name }];
      },
    );
    const ruleArn = `arn:${values.partition}:events:${values.region}:${values.accountId}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule`;
    // Step Functions stops the build when the execution is stopped (the .sync integration's StopBuild).
    const stopping: TaskHandler = async (request) => {
      const project = String((request.input as { ProjectName?: unknown }).ProjectName ?? '');
      const onAbort = (): void =>
        this.deps.serviceSide(machineRole, 'Step Functions stops the build of a stopped execution', [
          {
            action: 'codebuild:StopBuild',
            resource: `arn:${values.partition}:codebuild:${values.region}:${values.accountId}:project/${project}`,
          },
        ]);
      request.signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await codeBuildTaskHandler(this.codebuild)(request);
      } finally {
        request.signal.removeEventListener('abort', onAbort);
      }
    };
    const buildTask = authorizedTask(this.deps.iam, machineRole, this.withTaskHooks(stopping), (request) => {
      const project = String((request.input as { ProjectName?: unknown }).ProjectName ?? '');
      const projectArn = `arn:${values.partition}:codebuild:${values.region}:${values.accountId}:project/${project}`;
      return [
        { action: 'codebuild:StartBuild', resource: projectArn },
        { action: 'codebuild:BatchGetBuilds', resource: projectArn },
        { action: 'events:PutTargets', resource: ruleArn },
        { action: 'events:PutRule', resource: ruleArn },
        { action: 'events:DescribeRule', resource: ruleArn },
      ];
    });
    this.engine.registerHandler('arn:aws:states:::lambda:invoke', lambdaTask);
    this.engine.registerHandler('arn:aws:states:::lambda:invoke.waitForTaskToken', lambdaTask);
    this.engine.registerHandler('arn:aws:states:::codebuild:startBuild.sync', buildTask);
    this.engine.registerHandler(
      'arn:aws:states:::aws-sdk:cloudwatch:getMetricData',
      getMetricDataTask(this.deps.endpointUrl, values.region, machineRole),
    );

    const definition = this.definition(machine);
    const name = values.string(machine['StateMachineName']);
    this.stateMachineArn = this.states.createStateMachine({
      name,
      definition,
      roleArn: machineRole.roleArn,
    }).stateMachineArn;
    cleanups.push(() => this.states.freeze());
  }

  /**
   * Runs `hook` while a Task invokes a function (or starts a build of a CodeBuild project) whose logical id starts
   * with `prefix`, before the Task's handler answers: what a person or the world does meanwhile (approve from the
   * link in the status, time the function out, push again) happens while the Task is in progress, so the
   * execution's virtual clock stands still for it.
   */
  public onTask(prefix: string, hook: TaskHook): () => void {
    const entry = { functionPrefix: prefix, hook };
    this.taskHooks.push(entry);
    return () => this.taskHooks.splice(this.taskHooks.indexOf(entry), 1);
  }

  /** The logical id of what a Task calls: the function it invokes, or the project it builds with. */
  private targetOf(input: { FunctionName?: unknown; ProjectName?: unknown }): string | undefined {
    if (input.FunctionName !== undefined) {
      const name = String(input.FunctionName);
      return [...this.deps.functions.values()].find((f) => f.fn.spec.arn === name || f.fn.spec.name === name)
        ?.logicalId;
    }
    const { values } = this.deps;
    return values.resourcesOf('AWS::CodeBuild::Project').find((id) => values.ref(id) === input.ProjectName);
  }

  private withTaskHooks(handler: TaskHandler): TaskHandler {
    return async (request) => {
      const input = request.input as { FunctionName?: unknown; ProjectName?: unknown; Payload?: unknown };
      const target = this.targetOf(input);
      const hooks = target ? this.taskHooks.filter((h) => target.startsWith(h.functionPrefix)) : [];
      if (hooks.length === 0) return handler(request);
      const payload = input.Payload ?? input;
      const running = Promise.resolve(handler(request));
      running.catch(() => {});
      const results = await Promise.allSettled(
        hooks.map((h) => h.hook({ payload, running, executionArn: request.execution.executionArn })),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) this.hookErrors.push(String(failed.reason));
      return running;
    };
  }

  /** `DefinitionString` with `DefinitionSubstitutions` applied, as CloudFormation does. */
  private definition(machine: Record<string, unknown>): string {
    const text = this.deps.values.string(machine['DefinitionString']);
    const substitutions = this.deps.values.resolve<Record<string, unknown>>(machine['DefinitionSubstitutions'] ?? {});
    return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
      if (!(key in substitutions))
        throw new Error(`the definition names ${whole}, which DefinitionSubstitutions lacks`);
      return String(substitutions[key]);
    });
  }

  private registerProjects(): void {
    const { values } = this.deps;
    for (const id of values.resourcesOf('AWS::CodeBuild::Project')) {
      const props = values.resolve<Record<string, unknown>>(values.properties(id));
      const principal = this.deps.iam.principal(this.deps.iam.roleIdOf(values.properties(id)['ServiceRole']));
      const name = values.ref(id);
      principal.users.push(`CodeBuild ${name}`);
      const environment = (props['Environment'] ?? {}) as {
        EnvironmentVariables?: { Name: string; Value: string; Type?: string }[];
      };
      const own = (environment.EnvironmentVariables ?? []).map((v) => ({
        name: v.Name,
        value: String(v.Value),
        type: v.Type ?? 'PLAINTEXT',
      }));
      // CodeBuild gives the build the project role's credentials; the suite's endpoint stands in for AWS.
      const aws = {
        AWS_REGION: values.region,
        AWS_DEFAULT_REGION: values.region,
        AWS_ACCESS_KEY_ID: principal.accessKeyId,
        AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
        AWS_ENDPOINT_URL: this.deps.endpointUrl,
      };
      this.codebuild.registerProject({
        name,
        environmentVariables: [
          ...own,
          ...Object.entries(aws).map(([n, value]) => ({ name: n, value, type: 'PLAINTEXT' })),
        ],
        ...(props['TimeoutInMinutes'] !== undefined ? { timeoutInMinutes: Number(props['TimeoutInMinutes']) } : {}),
      });
    }
  }

  /** Resolves with the execution's record once it has ended (an explicit event of the engine, not a poll). */
  public async ended(executionArn: string): Promise<ExecutionRecord> {
    const done = (): ExecutionRecord | undefined => {
      const record = this.states.execution(executionArn);
      return record.status === 'RUNNING' ? undefined : record;
    };
    return (
      done() ??
      new Promise<ExecutionRecord>((resolve) => {
        const unsubscribe = this.engine.subscribe((arn, event) => {
          if (arn !== executionArn || !/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type)) return;
          unsubscribe();
          // The store records the event after the engine tells its listeners: read it on the next turn.
          setImmediate(() => resolve(this.states.execution(executionArn)));
        });
      })
    );
  }

  /** Resolves once the execution has entered a state of this name (in any Map iteration). */
  public async entered(executionArn: string, stateName: string): Promise<void> {
    const seen = (): boolean =>
      this.engine
        .history(executionArn)
        .some((e) => e.type.endsWith('StateEntered') && stateDetails(e)?.name === stateName);
    if (seen()) return;
    await new Promise<void>((resolve) => {
      const unsubscribe = this.engine.subscribe((arn, event) => {
        if (arn !== executionArn || !event.type.endsWith('StateEntered') || stateDetails(event)?.name !== stateName)
          return;
        unsubscribe();
        resolve();
      });
    });
  }

  /** The history of an execution, oldest first. */
  public history(executionArn: string): readonly HistoryEvent[] {
    return this.engine.history(executionArn);
  }

  private buildEnded(projectName: string, buildArn: string): void {
    const projectId = this.deps.values
      .resourcesOf('AWS::CodeBuild::Project')
      .find((id) => this.deps.values.ref(id) === projectName);
    if (!projectId) return;
    const id = buildArn.slice(buildArn.indexOf(':build/') + ':build/'.length);
    const doc = this.codebuild.get(id);
    const principal = this.deps.iam.principal(
      this.deps.iam.roleIdOf(this.deps.values.properties(projectId)['ServiceRole']),
    );
    for (const call of buildServiceCalls(this.deps.values, projectId, { id, reportArns: doc?.reportArns ?? [] })) {
      this.deps.serviceSide(principal, call.operation, call.authorizations);
    }
  }
}

/**
 * The AWS SDK integration `aws-sdk:cloudwatch:getMetricData` as Step Functions runs it: the call made with the state
 * machine role's credentials, through the suite's endpoint (so it is signed, decoded and IAM-checked like every
 * other call) to moto's CloudWatch; the answer in the API's PascalCase; a failure named `CloudWatch.<exception>`
 * ("Call other AWS services" in the Step Functions guide: errors are the service name and the exception's).
 */
function getMetricDataTask(endpointUrl: string, region: string, role: Principal): TaskHandler {
  const client = new CloudWatchClient({
    endpoint: endpointUrl,
    region,
    credentials: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey },
    maxAttempts: 1,
  });
  return async (request) => {
    const input = request.input as unknown as {
      MetricDataQueries: MetricDataQuery[];
      StartTime: string;
      EndTime: string;
    };
    try {
      const output = await client.send(
        new GetMetricDataCommand({
          MetricDataQueries: input.MetricDataQueries,
          StartTime: new Date(input.StartTime),
          EndTime: new Date(input.EndTime),
        }),
      );
      const { $metadata: _metadata, ...result } = output;
      return JSON.parse(JSON.stringify(result));
    } catch (error) {
      const e = error as Error;
      throw new TaskFailure(`CloudWatch.${e.name}`, e.message);
    }
  };
}

function stateDetails(event: HistoryEvent): { name?: string } | undefined {
  return Object.entries(event).find(([key]) => key.endsWith('EventDetails'))?.[1] as { name?: string } | undefined;
}

/** A Task handler that first has the state machine's role authorize what Step Functions calls for the Task. */
function authorizedTask(
  iam: IamModel,
  role: Principal,
  handler: TaskHandler,
  authorizations: (request: Parameters<TaskHandler>[0]) => { action: string; resource: string }[],
): TaskHandler {
  return async (request) => {
    const needed = authorizations(request);
    const allowed = await iam.authorize(role, `${request.baseResource} (task)`, needed);
    if (!allowed) {
      const first = needed[0]!;
      throw new TaskFailure(
        first.action.startsWith('lambda:') ? 'Lambda.AWSLambdaException' : 'CodeBuild.AWSCodeBuildException',
        `User: ${role.roleArn} is not authorized to perform: ${first.action} on resource: ${first.resource} because no identity-based policy allows the ${first.action} action`,
      );
    }
    return handler(request);
  };
}
