import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { EXECUTION_DETAIL_TYPE } from '../../../core/status/contracts';
import { Engine, type HistoryEvent, TaskFailure, type TaskHandler } from '../../../local/engine';
import { StatesService } from '../../../local/runtime/states';
import { awsApiAnswer } from '../../../local/server/aws';
import { CodeBuildService, codeBuildTaskHandler, installBuildTools } from '../../../local/services/codebuild';
import { generateCertificates, SimulatedKubernetes } from '../../../local/services/kubernetes';
import { LambdaService, lambdaTaskHandler } from '../../../local/services/lambda';
import { BuildStore, type ExecutionRecord, ExecutionStore, openStateDb } from '../../../local/store';
import { FakeGitHost } from '../../support/githost/fake-git-host';
import { type MotoClients, motoClients } from '../../support/moto/clients';
import { generatedName, TemplateResolver, tokenFrom } from '../../support/moto/resolver';
import { createStandIns } from '../../support/moto/resources';
import { type MotoServer, startMoto } from '../../support/moto/server';
import { type OAuthStandIn, startOAuthStandIn } from '../../support/oauth/server';
import { AwsEndpoint } from './aws-endpoint';
import { type EksCluster, EksStandIn } from './eks';
import { EventBridgeStandIn } from './events';
import { type DeployedFunction, deployFunctions } from './functions';
import { HttpApiStandIn } from './gateway';
import { type Authorization, IamModel, type Principal } from './iam';
import { impliedAuthorizations } from './implied';
import { buildServiceCalls, lambdaServiceCalls, stateMachineServiceCalls } from './service-side';
import { createStack } from './stack-creation';
import { type CloudAssembly, synthesize } from './synth';
import { StackValues } from './template';

/**
 * Stepline as synthesized, run end to end on this machine: the template's tables, queues, buckets and secrets on
 * moto; its Lambda functions as their built bundles with their template environment and roles; its HTTP API, event
 * rules and state machine (the definition with `DefinitionSubstitutions` applied) on stand-ins; CodeBuild on the
 * local CodeBuild; EKS on the simulated Kubernetes API server; the Git host on a recording stand-in. Every AWS call
 * a function, a build or the state machine makes is authorized against its role from the template (iam.ts).
 */

export const STACK_NAME = 'SteplineE2e';

/** What a scenario does while a Task's function runs: `running` settles when the function has answered. */
export type TaskHook = (task: { payload: unknown; running: Promise<unknown>; executionArn: string }) => Promise<void>;
export const CONFIG_FILE = 'test/aws/fixtures/stepline.config.json';
export const GITHUB_TOKEN = 'ghp_e2e0000000000000000000000000000000000';
/** The OAuth app an operator registers at GitHub for the approval sign-in. */
export const OAUTH_CLIENT = {
  clientId: 'Iv1.e2e0000000000000',
  clientSecret: 'e2e-oauth-client-secret-0000000000000000',
};
/** The people who can sign in at the GitHub stand-in: the environments' approver, and someone who is not one. */
export const APPROVAL_PEOPLE = [
  { login: 'release-manager', id: 101 },
  { login: 'mallory', id: 102 },
];

export interface WorldOptions {
  /** The EKS clusters that exist, with their authentication mode. */
  readonly clusters: readonly EksCluster[];
  /** Namespaces that exist in the cluster from the start. */
  readonly namespaces: readonly string[];
}

export class AwsWorld {
  private readonly cleanups: (() => unknown)[] = [];
  public assembly!: CloudAssembly;
  public values!: StackValues;
  public iam!: IamModel;
  public moto!: MotoServer;
  public clients!: MotoClients;
  public endpoint!: AwsEndpoint;
  public functions!: Map<string, DeployedFunction>;
  public gateway!: HttpApiStandIn;
  public events!: EventBridgeStandIn;
  public kubernetes!: SimulatedKubernetes;
  public eks!: EksStandIn;
  public engine!: Engine;
  public states!: StatesService;
  public codebuild!: CodeBuildService;
  public lambda!: LambdaService;
  public githost!: FakeGitHost;
  public oauth!: OAuthStandIn;
  public stateMachineArn!: string;
  public webhookSecret!: string;
  private workDir!: string;

  public static async start(options: WorldOptions): Promise<AwsWorld> {
    const world = new AwsWorld();
    try {
      await world.boot(options);
    } catch (error) {
      await world.stop();
      throw error;
    }
    return world;
  }

  private async boot(options: WorldOptions): Promise<void> {
    this.workDir = mkdtempSync(join(tmpdir(), 'stepline-aws-'));
    this.cleanups.push(() => rmSync(this.workDir, { recursive: true, force: true }));
    this.assembly = await synthesize({ config: CONFIG_FILE, stackName: STACK_NAME });
    const { template } = this.assembly;

    // AWS: the template's resources on moto, and the one endpoint every caller is pointed at.
    this.moto = await startMoto();
    this.cleanups.push(() => this.moto.stop());
    this.clients = motoClients(this.moto.endpoint);
    this.cleanups.push(() => this.clients.destroy());
    const resolver = new TemplateResolver(template, { pseudo: { 'AWS::StackName': STACK_NAME } });
    const created = await createStandIns(template, { clients: this.clients, resolver });
    this.values = new StackValues(template, resolver);
    provideTheRest(this.values);
    this.endpoint = new AwsEndpoint();
    await this.endpoint.start();
    this.cleanups.push(() => this.endpoint.stop());
    for (const standIn of Object.values(created)) {
      if (standIn.type !== 'AWS::SQS::Queue') continue;
      // A queue's URL names the endpoint it is called at: the suite's, so that its calls are authorized too.
      const url = new URL(standIn.ref);
      resolver.provide(standIn.logicalId, {
        ref: `${this.endpoint.url}${url.pathname}`,
        attributes: { ...standIn.attributes, QueueUrl: `${this.endpoint.url}${url.pathname}` },
      });
    }
    this.iam = new IamModel(this.values);

    // The API's endpoint is the stand-in's URL: functions that put it in links (the approval pages) point there.
    const apiId = this.values.resourcesOf('AWS::ApiGatewayV2::Api')[0];
    if (!apiId) throw new Error('the template has no HTTP API');
    this.gateway = new HttpApiStandIn(this.values, apiId, (id) => this.fn(id));
    await this.gateway.start();
    this.cleanups.push(() => this.gateway.stop());
    resolver.provide(apiId, {
      ref: resolver.ref(apiId),
      attributes: { ApiId: resolver.ref(apiId), ApiEndpoint: this.gateway.url },
    });

    this.githost = await new FakeGitHost({
      expectAuth: { github: { header: 'authorization', value: `Bearer ${GITHUB_TOKEN}` } },
    }).start();
    this.cleanups.push(() => this.githost.close());
    this.oauth = await startOAuthStandIn({
      provider: 'github',
      client: OAUTH_CLIENT,
      callbackUrl: `${this.gateway.url}/approvals/oauth/callback`,
      users: APPROVAL_PEOPLE,
      platformToken: GITHUB_TOKEN,
    });
    this.cleanups.push(() => this.oauth.close());
    await this.fillSecrets();

    this.kubernetes = new SimulatedKubernetes({
      certificates: generateCertificates(),
      tickMs: 20,
      timeScale: 0.01,
      namespaces: options.namespaces,
    });
    await this.kubernetes.start();
    this.cleanups.push(() => this.kubernetes.stop());
    this.eks = new EksStandIn(this.values, this.iam, this.kubernetes, options.clusters);

    this.functions = deployFunctions({
      assembly: this.assembly,
      values: this.values,
      iam: this.iam,
      endpointUrl: this.endpoint.url,
      // The approval pages sign people in with GitHub (OAuth and the user API on its stand-in); every other
      // function reaches GitHub's status API on the status stand-in.
      redirect: (logicalId): Record<string, string> =>
        logicalId.startsWith('ApprovalsPages')
          ? { STEPLINE_GITHUB_OAUTH_URL: this.oauth.oauthUrl, STEPLINE_GITHUB_API_URL: this.oauth.apiUrl }
          : {
              STEPLINE_GITHUB_API_URL: this.githost.baseUrl('github'),
              STEPLINE_GITLAB_API_URL: this.githost.baseUrl('gitlab'),
              STEPLINE_BITBUCKET_API_URL: this.githost.baseUrl('bitbucket'),
            },
    });
    this.cleanups.push(() => {
      for (const f of this.functions.values()) f.fn.stop();
    });
    for (const deployed of this.functions.values()) {
      const principal = this.iam.principal(deployed.roleId);
      deployed.fn.observe(() =>
        this.serviceSide(
          principal,
          'Lambda writes the invocation’s logs',
          lambdaServiceCalls(this.values, deployed.logicalId, randomUUID()),
        ),
      );
    }
    this.events = new EventBridgeStandIn(this.values, (arn) => {
      const found = [...this.functions.values()].find((f) => f.fn.spec.arn === arn);
      return found ? { logicalId: found.logicalId, fn: found.fn } : undefined;
    });

    await this.startWorkflow();
    this.endpoint.serve({
      iam: this.iam,
      where: {
        region: this.values.region,
        accountId: this.values.accountId,
        partition: this.values.partition,
        secretArn: (id) => this.secretArn(id),
      },
      motoUrl: this.moto.endpoint,
      local: {
        states: (request) => this.awsApi(request.headers['x-amz-target'], request.body),
        codebuild: (request) => this.awsApi(request.headers['x-amz-target'], request.body),
        eks: (request) => this.eks.describeCluster(request),
      },
      implied: (decoded) => impliedAuthorizations(this.values, decoded),
    });
    await createStack(this.values, options.clusters, (arn) =>
      [...this.functions.values()].find((f) => f.fn.spec.arn === arn),
    );
  }

  private answer!: ReturnType<typeof awsApiAnswer>;

  private async awsApi(target: string | string[] | undefined, body: Buffer) {
    return this.answer(String(target ?? ''), body);
  }

  /** The Git host token goes where the operator puts it: the tokens secret the stack outputs. */
  private async fillSecrets(): Promise<void> {
    const tokens = this.values.resourcesOf('AWS::SecretsManager::Secret').filter((id) => /GitHostTokens/.test(id));
    if (tokens.length !== 1) throw new Error(`expected one Git host tokens secret, found ${tokens.join(', ')}`);
    await this.clients.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: this.values.ref(tokens[0]!),
        SecretString: JSON.stringify({ github: GITHUB_TOKEN }),
      }),
    );
    // The operator registers an OAuth app at GitHub and puts its client into the secret the stack created.
    const github = this.values.resourcesOf('AWS::SecretsManager::Secret').find((id) => /OAuthClientgithub/i.test(id));
    if (!github) throw new Error('the template has no OAuth client secret for GitHub');
    await this.clients.secretsManager.send(
      new PutSecretValueCommand({ SecretId: this.values.ref(github), SecretString: JSON.stringify(OAUTH_CLIENT) }),
    );
    const webhook = this.values.resourcesOf('AWS::SecretsManager::Secret').find((id) => /WebhookSecret/.test(id));
    if (!webhook) throw new Error('the template has no webhook secret');
    const value = await this.clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: this.values.ref(webhook) }),
    );
    this.webhookSecret = value.SecretString ?? '';
  }

  private secretArn(id: string): string {
    if (id.startsWith('arn:')) return id;
    const found = this.values
      .resourcesOf('AWS::SecretsManager::Secret')
      .map((logical) => this.values.ref(logical))
      .find((arn) => arn.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') === id);
    return (
      found ?? `arn:${this.values.partition}:secretsmanager:${this.values.region}:${this.values.accountId}:secret:${id}`
    );
  }

  private async startWorkflow(): Promise<void> {
    const { values } = this;
    const db = openStateDb(join(this.workDir, 'state.db'));
    this.cleanups.push(() => db.close());
    this.engine = new Engine({
      region: values.region,
      accountId: values.accountId,
      tokenSecret: randomBytes(32).toString('base64url'),
      clock: 'virtual',
    });
    this.lambda = new LambdaService({ region: values.region, accountId: values.accountId });
    for (const deployed of this.functions.values()) {
      this.lambda.register({
        name: deployed.fn.spec.name,
        handler: (event, context) => deployed.fn.invoke(event, context),
        // The bundle's own timeout ends an invocation first (lambda-host.ts); this one never should.
        timeoutSeconds: deployed.fn.spec.timeoutSeconds + 60,
      });
    }
    const tools = await installBuildTools(join(this.workDir, 'bin'));
    this.codebuild = new CodeBuildService({
      store: new BuildStore(db),
      workRoot: join(this.workDir, 'builds'),
      artifactsRoot: join(this.workDir, 'artifacts'),
      path: tools.path,
      region: values.region,
      accountId: values.accountId,
      logUrl: (id) => `https://console.aws.amazon.com/codesuite/codebuild/projects/build/${encodeURIComponent(id)}`,
      onEvent: (event) => {
        this.events.put(event as unknown as Record<string, unknown>);
        if (event['detail-type'] === 'CodeBuild Build State Change' && event.detail['build-status'] !== 'IN_PROGRESS') {
          this.buildEnded(event.detail['project-name'], event.detail['build-id']);
        }
      },
    });
    this.cleanups.push(() => this.codebuild.stopAll());
    this.registerProjects();

    const machineId = values.resourcesOf('AWS::StepFunctions::StateMachine')[0];
    if (!machineId) throw new Error('the template has no state machine');
    const machine = values.properties(machineId);
    const machineRole = this.iam.principal(this.iam.roleIdOf(machine['RoleArn']));
    const serviceCalls = stateMachineServiceCalls(values, machineId);
    this.serviceSide(machineRole, 'Step Functions sets up the execution logs', serviceCalls.creation);
    machineRole.users.push('the state machine');
    this.states = new StatesService({
      engine: this.engine,
      store: new ExecutionStore(db),
      region: values.region,
      accountId: values.accountId,
      onEnd: (execution) => this.events.put(executionEvent(values, execution)),
      onEvent: (_execution, event) => {
        if (event.type === 'ExecutionStarted')
          this.serviceSide(machineRole, 'Step Functions traces the execution', serviceCalls.execution);
      },
    });
    this.answer = awsApiAnswer({ states: this.states, codebuild: this.codebuild });
    const lambdaTask = authorizedTask(
      this.iam,
      machineRole,
      this.withTaskHooks(lambdaTaskHandler(this.lambda)),
      (request) => {
        const name = String((request.input as { FunctionName?: unknown }).FunctionName ?? '');
        return [{ action: 'lambda:InvokeFunction', resource: name }];
      },
    );
    const ruleArn = `arn:${values.partition}:events:${values.region}:${values.accountId}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule`;
    const buildTask = authorizedTask(this.iam, machineRole, codeBuildTaskHandler(this.codebuild), (request) => {
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

    const definition = this.definition(machine);
    const name = values.string(machine['StateMachineName']);
    this.stateMachineArn = this.states.createStateMachine({
      name,
      definition,
      roleArn: machineRole.roleArn,
    }).stateMachineArn;
    this.cleanups.push(() => this.states.freeze());
  }

  private readonly taskHooks: { readonly functionPrefix: string; readonly hook: TaskHook }[] = [];

  /**
   * Runs `hook` while a Task invokes a function whose logical id starts with `functionPrefix`, before the Task's
   * handler answers: what a person or the world does meanwhile (approve from the link in the status, time the
   * function out) happens while the Task is in progress, so the execution's virtual clock stands still for it.
   */
  public onTask(functionPrefix: string, hook: TaskHook): () => void {
    const entry = { functionPrefix, hook };
    this.taskHooks.push(entry);
    return () => this.taskHooks.splice(this.taskHooks.indexOf(entry), 1);
  }

  private withTaskHooks(handler: TaskHandler): TaskHandler {
    return async (request) => {
      const name = String((request.input as { FunctionName?: unknown }).FunctionName ?? '');
      const deployed = [...this.functions.values()].find((f) => f.fn.spec.arn === name || f.fn.spec.name === name);
      const hooks = deployed ? this.taskHooks.filter((h) => deployed.logicalId.startsWith(h.functionPrefix)) : [];
      if (hooks.length === 0) return handler(request);
      const payload = (request.input as { Payload?: unknown }).Payload;
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

  /** Errors thrown by task hooks (a scenario's own steps), for the test to show. */
  public readonly hookErrors: string[] = [];

  /** `DefinitionString` with `DefinitionSubstitutions` applied, as CloudFormation does. */
  private definition(machine: Record<string, unknown>): string {
    const text = this.values.string(machine['DefinitionString']);
    const substitutions = this.values.resolve<Record<string, unknown>>(machine['DefinitionSubstitutions'] ?? {});
    return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
      if (!(key in substitutions))
        throw new Error(`the definition names ${whole}, which DefinitionSubstitutions lacks`);
      return String(substitutions[key]);
    });
  }

  private registerProjects(): void {
    const { values } = this;
    for (const id of values.resourcesOf('AWS::CodeBuild::Project')) {
      const props = values.resolve<Record<string, unknown>>(values.properties(id));
      const principal = this.iam.principal(this.iam.roleIdOf(values.properties(id)['ServiceRole']));
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
        AWS_ENDPOINT_URL: this.endpoint.url,
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

  /** Posts a signed delivery to the HTTP API's webhook route, as the Git host does. */
  public async deliver(provider: string, delivery: { headers: Readonly<Record<string, string>>; body: string }) {
    const response = await fetch(`${this.gateway.url}/webhooks/${provider}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: response.status, body };
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

  private readonly serviceCalls = new Set<Promise<unknown>>();

  /** Authorizes what a service does with a role on the resource's behalf (service-side.ts). */
  private serviceSide(principal: Principal, operation: string, authorizations: readonly Authorization[]): void {
    if (authorizations.length === 0) return;
    const call = this.iam.authorize(principal, operation, authorizations);
    this.serviceCalls.add(call);
    void call.finally(() => this.serviceCalls.delete(call));
  }

  private buildEnded(projectName: string, buildArn: string): void {
    const projectId = this.values
      .resourcesOf('AWS::CodeBuild::Project')
      .find((id) => this.values.ref(id) === projectName);
    if (!projectId) return;
    const id = buildArn.slice(buildArn.indexOf(':build/') + ':build/'.length);
    const doc = this.codebuild.get(id);
    const principal = this.iam.principal(this.iam.roleIdOf(this.values.properties(projectId)['ServiceRole']));
    for (const call of buildServiceCalls(this.values, projectId, { id, reportArns: doc?.reportArns ?? [] })) {
      this.serviceSide(principal, call.operation, call.authorizations);
    }
  }

  /** Resolves once every authorization of a service's own work has been recorded. */
  public async settled(): Promise<void> {
    await this.events.settled();
    while (this.serviceCalls.size > 0) await Promise.allSettled([...this.serviceCalls]);
  }

  /** The deployed function with this logical id. */
  public fn(logicalId: string) {
    const found = this.functions.get(logicalId);
    if (!found) throw new Error(`no function ${logicalId}`);
    return found.fn;
  }

  /** The function whose logical id starts with this construct path (`EksDeployerDeployFunction`). */
  public fnNamed(prefix: string) {
    const ids = [...this.functions.keys()].filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) throw new Error(`${ids.length} functions start with ${prefix}`);
    return this.fn(ids[0]!);
  }

  public async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep stopping the rest.
      }
    }
    this.cleanups.length = 0;
  }
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

function executionEvent(
  values: StackValues,
  execution: {
    arn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    startDate: number;
    stopDate: number | null;
    input: string;
    error: string | null;
    cause: string | null;
  },
): Record<string, unknown> {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': EXECUTION_DETAIL_TYPE,
    source: 'aws.states',
    account: values.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: values.region,
    resources: [execution.arn],
    detail: {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      stopDate: execution.stopDate,
      input: execution.input,
      inputDetails: { included: true },
      output: null,
      error: execution.error,
      cause: execution.cause,
    },
  };
}

/**
 * Values for the resources that neither moto nor the resolver's placeholders give (an API integration, a KMS key,
 * an alarm), shaped as CloudFormation returns them where the suite reads them, generated otherwise.
 */
function provideTheRest(values: StackValues): void {
  const { resolver } = values;
  for (const [id, resource] of Object.entries(values.template.Resources)) {
    try {
      resolver.returnValues(id);
      continue;
    } catch {
      // Not given yet: made below.
    }
    const name = generatedName(resolver.pseudo, id, 64);
    if (resource.Type === 'AWS::KMS::Key') {
      const keyId = `${tokenFrom(id, 8, '0123456789abcdef')}-0000-4000-8000-${tokenFrom(id, 12, '0123456789abcdef')}`;
      const arn = `arn:${values.partition}:kms:${values.region}:${values.accountId}:key/${keyId}`;
      resolver.provide(id, { ref: keyId, attributes: { Arn: arn, KeyId: keyId } });
    } else {
      resolver.provide(id, { ref: name, attributes: {} });
    }
  }
}
