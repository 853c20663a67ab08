import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Engine, HistoryEvent } from '../../../local/engine';
import type { CodeBuildService } from '../../../local/services/codebuild';
import { generateCertificates, SimulatedKubernetes } from '../../../local/services/kubernetes';
import type { StatesService } from '../../../local/services/stepfunctions';
import type { ExecutionRecord } from '../../../local/store';
import { FakeGitHost } from '../../support/githost/fake-git-host';
import { type MotoClients, motoClients } from '../../support/moto/clients';
import { generatedName, TemplateResolver, tokenFrom } from '../../support/moto/resolver';
import { createStandIns } from '../../support/moto/resources';
import { type MotoServer, startMoto } from '../../support/moto/server';
import { type OAuthStandIn, startOAuthStandIn } from '../../support/oauth/server';
import { AwsEndpoint } from './aws-endpoint';
import { type EksCluster, EksStandIn } from './eks';
import { EventSources } from './event-sources';
import { EventBridgeStandIn } from './events';
import { type DeployedFunction, deployFunctions } from './functions';
import { HttpApiStandIn } from './gateway';
import { type Authorization, IamModel, type Principal } from './iam';
import { impliedAuthorizations } from './implied';
import { lambdaServiceCalls } from './service-side';
import { createStack } from './stack-creation';
import { type CloudAssembly, synthesize } from './synth';
import { StackValues } from './template';
import { type TaskHook, Workflow } from './workflow';

/**
 * Stepline as synthesized, run end to end on this machine: the template's tables, queues, buckets and secrets on
 * moto; its Lambda functions as their built bundles with their template environment and roles; its HTTP API, event
 * rules and state machine (the definition with `DefinitionSubstitutions` applied) on stand-ins; CodeBuild on the
 * local CodeBuild; EKS on the simulated Kubernetes API server; the Git host on a recording stand-in. Every AWS call
 * a function, a build or the state machine makes is authorized against its role from the template (iam.ts).
 */

export const STACK_NAME = 'SteplineE2e';

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
  /** The configuration the platform is synthesized with, relative to the project root. @default CONFIG_FILE */
  readonly config?: string;
  /** More redirections for a function's environment (a Git host stand-in of the scenario's own), by logical id. */
  readonly redirect?: (logicalId: string) => Readonly<Record<string, string>>;
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
  public eventSources!: EventSources;
  public kubernetes!: SimulatedKubernetes;
  public eks!: EksStandIn;
  public workflow!: Workflow;
  public githost!: FakeGitHost;
  public oauth!: OAuthStandIn;
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
    this.assembly = await synthesize({ config: options.config ?? CONFIG_FILE, stackName: STACK_NAME });
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
      // The approval pages sign people in with GitHub and the comment commands answer there (OAuth, the user and
      // comments API on its stand-in); every other function reaches GitHub's status API on the status stand-in.
      redirect: (logicalId): Record<string, string> => ({
        ...(logicalId.startsWith('ApprovalsPages') || logicalId.startsWith('ApprovalsCommands')
          ? { STEPLINE_GITHUB_OAUTH_URL: this.oauth.oauthUrl, STEPLINE_GITHUB_API_URL: this.oauth.apiUrl }
          : {
              STEPLINE_GITHUB_API_URL: this.githost.baseUrl('github'),
              STEPLINE_GITLAB_API_URL: this.githost.baseUrl('gitlab'),
              STEPLINE_BITBUCKET_API_URL: this.githost.baseUrl('bitbucket'),
            }),
        ...options.redirect?.(logicalId),
      }),
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

    this.eventSources = new EventSources(this.values, this.iam, this.functions, this.endpoint.url);
    this.workflow = await Workflow.compose({
      values: this.values,
      iam: this.iam,
      functions: this.functions,
      events: this.events,
      endpointUrl: this.endpoint.url,
      workDir: this.workDir,
      cleanups: this.cleanups,
      serviceSide: (principal, operation, authorizations) => this.serviceSide(principal, operation, authorizations),
    });
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
    await this.createStack();
  }

  private async awsApi(target: string | string[] | undefined, body: Buffer) {
    return this.workflow.answer(String(target ?? ''), body);
  }

  public get engine(): Engine {
    return this.workflow.engine;
  }

  public get states(): StatesService {
    return this.workflow.states;
  }

  public get codebuild(): CodeBuildService {
    return this.workflow.codebuild;
  }

  public get stateMachineArn(): string {
    return this.workflow.stateMachineArn;
  }

  public get hookErrors(): readonly string[] {
    return this.workflow.hookErrors;
  }

  /** Runs what CloudFormation runs at deploy time (custom resources, access entries) against the clusters as they are. */
  public createStack(): Promise<void> {
    return createStack(this.values, this.eks.clusterList, (arn) =>
      [...this.functions.values()].find((f) => f.fn.spec.arn === arn),
    );
  }

  /** See Workflow.onTask. */
  public onTask(functionPrefix: string, hook: TaskHook): () => void {
    return this.workflow.onTask(functionPrefix, hook);
  }

  /**
   * The execution's record once it has ended, and what its last steps put on the bus (its builds' final state
   * changes, its own status change) has been delivered: on AWS too those reach their functions after the run ends.
   * Only the deliveries under way then are awaited, not those the scenarios running alongside put later.
   */
  public async ended(executionArn: string): Promise<ExecutionRecord> {
    const record = await this.workflow.ended(executionArn);
    await this.events.delivered();
    return record;
  }

  public entered(executionArn: string, stateName: string): Promise<void> {
    return this.workflow.entered(executionArn, stateName);
  }

  public history(executionArn: string): readonly HistoryEvent[] {
    return this.workflow.history(executionArn);
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

  private readonly serviceCalls = new Set<Promise<unknown>>();

  /** Authorizes what a service does with a role on the resource's behalf (service-side.ts). */
  private serviceSide(principal: Principal, operation: string, authorizations: readonly Authorization[]): void {
    if (authorizations.length === 0) return;
    const call = this.iam.authorize(principal, operation, authorizations);
    this.serviceCalls.add(call);
    void call.finally(() => this.serviceCalls.delete(call));
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
