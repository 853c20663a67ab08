import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_ENV,
  APPROVAL_KEEPER,
  APPROVALS_WAITING_INDEX,
  heartbeatSecondsFor,
} from '../../core/approval/contracts';
import { ENV } from '../../core/contracts';
import { SIGN_IN_ENV } from '../../core/contracts/environment';
import { STATUS_ENV } from '../../core/status/contracts';
import { Approvals, type ApprovalsProps } from '../../infra/constructs/Approvals';
import { SteplineFunction } from '../../infra/constructs/SteplineFunction';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
}

/** The statements of the policies attached to `roleId`, intrinsics evaluated. */
function statementsOf(json: never, roleId: string): Statement[] {
  return resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, p]) => (evaluate(p.Roles) as string[]).includes(`ref:${roleId}`))
    .flatMap(([, p]) => (evaluate(p.PolicyDocument) as { Statement: Statement[] }).Statement);
}

/** `action on resource`, one per pair, sorted. */
function grantsOf(statements: readonly Statement[]): string[] {
  return statements
    .flatMap((s) => [s.Action].flat().flatMap((action) => [s.Resource].flat().map((r) => `${action} on ${String(r)}`)))
    .sort();
}

function synth(signInUrls?: ApprovalsProps['signInUrls']) {
  const stack = testStack();
  const api = new apigw.HttpApi(stack, 'Api');
  const projectRoot = scratchProject(['approval', 'webhook']);
  const webhook = new SteplineFunction(stack, 'Webhook', { projectRoot, name: 'webhook', description: 'the webhook' });
  const approvals = new Approvals(stack, 'Approvals', {
    projectRoot,
    httpApi: api,
    stateMachineArn: STATE_MACHINE,
    gitHostTokens: secretsmanager.Secret.fromSecretNameV2(stack, 'Tokens', 'stepline/tokens'),
    commandSource: webhook,
    ...(signInUrls ? { signInUrls } : {}),
  });
  return { stack, approvals, webhook, template: Template.fromStack(stack) };
}

function variablesOf(json: never, handler: string): Record<string, string> {
  const fn = resourcesOfType(json, 'AWS::Lambda::Function').find(([, f]) => f.Handler === handler)![1];
  return evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>;
}

describe('Approvals', () => {
  const shared = synth();
  const json = shared.template.toJSON() as never;

  it('routes GET and POST /approvals/{id} and the sign-in callback to the pages function, with no authorizer', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, p]) => p);

    // Assess
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      'GET /approvals/oauth/callback',
      'GET /approvals/{id}',
      'POST /approvals/{id}',
    ]);
    for (const route of routes) expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
    expect(resourcesOfType(json, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
  });

  it('creates an empty OAuth client secret per Git host, which only the pages read, and outputs the callback URL', () => {
    // Prepare
    const secrets = resourcesOfType(json, 'AWS::SecretsManager::Secret').filter(([id]) => id.includes('OAuthClient'));
    const pages = variablesOf(json, 'index.httpHandler');
    const grants = (handler: string) => {
      const fn = { 'index.httpHandler': 'httpFunction', 'index.taskHandler': 'taskFunction' } as const;
      const role = shared.approvals[fn[handler as keyof typeof fn]].role;
      return grantsOf(statementsOf(json, logicalIdOf(role))).filter((g) => g.includes('OAuthClient'));
    };

    // Assess
    expect(secrets).toHaveLength(3);
    for (const [, secret] of secrets) expect(secret.SecretString).toBe('{}');
    expect(pages[APPROVAL_ENV.identity]).toBe('sign-in');
    for (const provider of ['github', 'gitlab', 'bitbucket'] as const) {
      const id = logicalIdOf(shared.approvals.oauthClients[provider]);
      expect(pages[SIGN_IN_ENV[provider].credentialsSecret]).toBe(`ref:${id}`);
      expect(pages[SIGN_IN_ENV[provider].oauthUrl]).toBeUndefined();
    }
    expect(grants('index.httpHandler').filter((g) => g.startsWith('secretsmanager:GetSecretValue'))).toHaveLength(3);
    expect(grants('index.taskHandler')).toEqual([]);
    const outputs = shared.template.findOutputs('*');
    const callback = Object.entries(outputs).find(([id]) => id.includes('SignInCallbackUrl'))![1];
    expect(evaluate(callback.Value)).toMatch(/^getatt:Api.*\.ApiEndpoint\/approvals\/oauth\/callback$/);
  });

  it("points a host's sign-in at other URLs when told (GitHub Enterprise Server, self-managed GitLab)", () => {
    // Act
    const { template } = synth({
      gitlab: { oauthUrl: 'https://git.example.com', apiUrl: 'https://git.example.com/api/v4' },
    });

    // Assess
    const pages = variablesOf(template.toJSON() as never, 'index.httpHandler');
    expect(pages[SIGN_IN_ENV.gitlab.oauthUrl]).toBe('https://git.example.com');
    expect(pages[SIGN_IN_ENV.gitlab.apiUrl]).toBe('https://git.example.com/api/v4');
    expect(pages[SIGN_IN_ENV.github.oauthUrl]).toBeUndefined();
  });

  it('keeps requests in a table keyed by id, with TTL and point-in-time recovery', () => {
    shared.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('indexes the waiting requests in a sparse index keyed by `waiting`, projecting everything', () => {
    // Act
    const [table, ...others] = resourcesOfType(json, 'AWS::DynamoDB::Table').map(([, t]) => t);

    // Assess
    expect(others).toEqual([]);
    expect(table!.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: APPROVALS_WAITING_INDEX,
        KeySchema: [{ AttributeName: 'waiting', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(table!.AttributeDefinitions).toContainEqual({ AttributeName: 'waiting', AttributeType: 'S' });
  });

  it('builds the four functions from functions/approval with their own handler and the approval settings', () => {
    // Act
    const functions = resourcesOfType(json, 'AWS::Lambda::Function')
      .filter(([id]) => id.startsWith('Approvals'))
      .map(([, fn]) => ({
        handler: fn.Handler as string,
        timeout: fn.Timeout,
        variables: evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>,
      }));

    // Assess
    expect(functions.map((f) => f.handler).sort()).toEqual([
      'index.commandHandler',
      'index.httpHandler',
      'index.keeperHandler',
      'index.taskHandler',
    ]);
    for (const { handler, variables } of functions) {
      expect(variables[APPROVAL_ENV.table]).toMatch(/^ref:ApprovalsRequests/);
      expect(variables[APPROVAL_ENV.baseUrl]).toMatch(/^getatt:Api.*\.ApiEndpoint$/);
      if (handler === 'index.keeperHandler') continue;
      expect(variables[APPROVAL_ENV.keySecret]).toMatch(/^ref:ApprovalsSigningKeys/);
    }
    const keeper = functions.find((f) => f.handler === 'index.keeperHandler')!;
    expect(keeper.timeout).toBe(60);
    expect(keeper.variables[ENV.serviceName]).toBe('stepline-approval-keeper');
    // The keeper reads no secret: it is given none.
    expect(keeper.variables[APPROVAL_ENV.keySecret]).toBeUndefined();
    expect(keeper.variables[STATUS_ENV.tokensSecret]).toBeUndefined();
  });

  it('runs the keeper every 5 minutes, with retries and a dead-letter queue, heartbeating for 3 intervals', () => {
    // Act
    const rules = resourcesOfType(json, 'AWS::Events::Rule').map(([, r]) => evaluate(r) as Record<string, unknown>);
    const keeperId = logicalIdOf(shared.approvals.keeperFunction.function);
    const failuresId = logicalIdOf(shared.approvals.keeperFailures);

    // Assess
    expect(rules).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({
            Arn: `getatt:${keeperId}.Arn`,
            DeadLetterConfig: { Arn: `getatt:${failuresId}.Arn` },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: APPROVAL_KEEPER.awsIntervalSeconds },
          }),
        ],
      }),
    ]);
    shared.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: keeperId },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failuresId, 'Arn'] } } },
    });
    expect(shared.approvals.heartbeatSeconds).toBe(heartbeatSecondsFor(APPROVAL_KEEPER.awsIntervalSeconds));
    expect(shared.approvals.heartbeatSeconds).toBe(900);
  });

  it('lets the keeper query the waiting index, expire requests and heartbeat the pipeline, and nothing more', () => {
    // Act
    const { keeperFunction } = shared.approvals;
    const grants = grantsOf(statementsOf(json, logicalIdOf(keeperFunction.role)));
    const table = `getatt:${logicalIdOf(shared.approvals.table)}.Arn`;
    const logs = `getatt:${logicalIdOf(keeperFunction.logGroup)}.Arn`;
    const failures = `getatt:${logicalIdOf(shared.approvals.keeperFailures)}.Arn`;

    // Assess
    expect(grants).toEqual(
      [
        `dynamodb:Query on ${table}/index/${APPROVALS_WAITING_INDEX}`,
        `dynamodb:UpdateItem on ${table}`,
        'states:SendTaskHeartbeat on *',
        // SteplineFunction's own: its log group, X-Ray, and the on-failure destination of asynchronous invocations.
        `logs:CreateLogStream on ${logs}`,
        `logs:PutLogEvents on ${logs}`,
        'xray:PutTraceSegments on *',
        'xray:PutTelemetryRecords on *',
        `sqs:SendMessage on ${failures}`,
        `sqs:GetQueueAttributes on ${failures}`,
        `sqs:GetQueueUrl on ${failures}`,
      ].sort(),
    );
    expect(grants.some((g) => g.startsWith('dynamodb:Scan'))).toBe(false);
    expect(grants.some((g) => /states:SendTask(Success|Failure)/.test(g))).toBe(false);
    expect(grants.some((g) => g.startsWith('secretsmanager:'))).toBe(false);
  });

  it('lets only the pages complete tasks and only the keeper heartbeat them, on any token (IAM cannot scope them)', () => {
    // Act
    const roles = {
      task: logicalIdOf(shared.approvals.taskFunction.role),
      pages: logicalIdOf(shared.approvals.httpFunction.role),
      keeper: logicalIdOf(shared.approvals.keeperFunction.role),
    };
    const callbacks = Object.fromEntries(
      Object.entries(roles).map(([name, id]) => [
        name,
        grantsOf(statementsOf(json, id)).filter((grant) => grant.startsWith('states:')),
      ]),
    );

    // Assess
    expect(callbacks).toEqual({
      task: [],
      pages: ['states:SendTaskFailure on *', 'states:SendTaskSuccess on *'],
      keeper: ['states:SendTaskHeartbeat on *'],
    });
  });

  it('takes comment commands from a queue the webhook alone may fill, one at a time, into a function that may decide', () => {
    // Prepare
    const { commands } = shared.approvals;
    const queue = logicalIdOf(commands.queue);
    const table = `getatt:${logicalIdOf(shared.approvals.table)}.Arn`;
    const grants = grantsOf(statementsOf(json, logicalIdOf(commands.function.role)));
    const webhookGrants = grantsOf(statementsOf(json, logicalIdOf(shared.webhook.role)));
    const webhookVariables = variablesOf(json, 'index.handler');

    // Assess
    shared.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      BatchSize: 1,
      FunctionName: { Ref: logicalIdOf(commands.function.function) },
    });
    shared.template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(commands.deadLetters), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    expect(grants).toEqual(
      expect.arrayContaining([
        `dynamodb:GetItem on ${table}`,
        `dynamodb:UpdateItem on ${table}`,
        `dynamodb:Query on ${table}/index/${APPROVALS_WAITING_INDEX}`,
        'states:SendTaskSuccess on *',
        'states:SendTaskFailure on *',
      ]),
    );
    expect(grants.some((g) => g.startsWith('dynamodb:PutItem') || g.startsWith('dynamodb:Scan'))).toBe(false);
    expect(webhookGrants).toContain(`sqs:SendMessage on getatt:${queue}.Arn`);
    expect(webhookVariables[APPROVAL_ENV.commandQueueUrl]).toBe(`ref:${queue}`);
    expect(variablesOf(json, 'index.commandHandler')[STATUS_ENV.tokensSecret]).toBeDefined();
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(shared.stack.node.root).filter((f) => !f.path.startsWith('Test/Api/'))).toEqual([]);
  });
});
