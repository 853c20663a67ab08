import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { APPROVAL_ENV } from '../../core/approval/contracts';
import { Approvals, type ApprovalsProps } from '../../infra/constructs/Approvals';
import { evaluate, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

function synth(authorizer?: ApprovalsProps['authorizer']) {
  const stack = testStack();
  const api = new apigw.HttpApi(stack, 'Api');
  const approvals = new Approvals(stack, 'Approvals', {
    projectRoot: scratchProject(['approval']),
    httpApi: api,
    stateMachineArn: STATE_MACHINE,
    gitHostTokens: secretsmanager.Secret.fromSecretNameV2(stack, 'Tokens', 'stepline/tokens'),
    ...(authorizer ? { authorizer } : {}),
  });
  return { stack, approvals, template: Template.fromStack(stack) };
}

describe('Approvals', () => {
  const shared = synth();
  const json = shared.template.toJSON() as never;

  it('routes GET and POST /approvals/{id} to the approval pages function', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, p]) => p.RouteKey);

    // Assess
    expect(routes.sort()).toEqual(['GET /approvals/{id}', 'POST /approvals/{id}']);
  });

  it('keeps requests in a table keyed by id, with TTL and point-in-time recovery', () => {
    shared.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('builds both functions from functions/approval with their own handler and the approval settings', () => {
    // Act
    const functions = resourcesOfType(json, 'AWS::Lambda::Function').map(([, fn]) => ({
      handler: fn.Handler,
      variables: evaluate((fn.Environment as { Variables: unknown }).Variables) as Record<string, string>,
    }));

    // Assess
    expect(functions.map((f) => f.handler).sort()).toEqual(['index.httpHandler', 'index.taskHandler']);
    for (const { variables } of functions) {
      expect(variables[APPROVAL_ENV.table]).toMatch(/^ref:ApprovalsRequests/);
      expect(variables[APPROVAL_ENV.keySecret]).toMatch(/^ref:ApprovalsSigningKeys/);
      expect(variables[APPROVAL_ENV.baseUrl]).toMatch(/^getatt:Api.*\.ApiEndpoint$/);
    }
  });

  it('lets only the pages complete tasks, and only of the pipeline state machine', () => {
    // Act
    const statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );

    // Assess
    const callbacks = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')));
    expect(callbacks).toEqual([
      expect.objectContaining({
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        Resource: STATE_MACHINE,
      }),
    ]);
  });

  it('puts a JWT authorizer on the routes when one is configured', () => {
    // Act
    const { template } = synth({ issuer: 'https://idp.example.com', audience: ['stepline'], claim: 'login' });

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://idp.example.com', Audience: ['stepline'] },
    });
    for (const [, route] of resourcesOfType(template.toJSON() as never, 'AWS::ApiGatewayV2::Route')) {
      expect(route.AuthorizationType).toBe('JWT');
    }
    const claims = resourcesOfType(template.toJSON() as never, 'AWS::Lambda::Function').map(
      ([, fn]) => (fn.Environment as { Variables: Record<string, string> }).Variables[APPROVAL_ENV.claim],
    );
    expect(claims).toContain('login');
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(shared.stack.node.root).filter((f) => !f.path.startsWith('Test/Api/'))).toEqual([]);
  });
});
