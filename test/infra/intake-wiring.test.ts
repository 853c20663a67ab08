import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { STATUS_ENV } from '../../core/status/contracts';
import { createApp } from '../../infra/bin/create-app';
import type { SteplineFunction } from '../../infra/constructs/SteplineFunction';
import { evaluate, FIXTURE_ASL, logicalIdOf, REPO_ROOT, resourcesOfType, SKIP_BUNDLING } from './helpers';

/**
 * The stack's wiring of issue 21 and issue 17 (docs/adr/0090, 0091): the webhook resolves abbreviated commits with
 * the status functions' tokens and re-runs a check run's execution; the run-link route shares the webhook's HTTP
 * API, and every function that posts statuses links through it.
 */

const { stack } = createApp({
  projectRoot: REPO_ROOT,
  definitionFile: FIXTURE_ASL,
  appProps: { context: { ...SKIP_BUNDLING } },
});
const json = Template.fromStack(stack).toJSON() as never;

function variablesOf(fn: SteplineFunction): Record<string, string> {
  const [, properties] = resourcesOfType(json, 'AWS::Lambda::Function').find(
    ([id]) => id === logicalIdOf(fn.function),
  )!;
  return evaluate((properties.Environment as { Variables: unknown }).Variables) as Record<string, string>;
}

function statementsOf(fn: SteplineFunction): { Action: string | string[]; Resource: unknown }[] {
  const role = logicalIdOf(fn.role);
  return resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(role))
    .flatMap(([, p]) => (evaluate(p.PolicyDocument) as { Statement: [] }).Statement);
}

const allows = (fn: SteplineFunction, action: string) =>
  statementsOf(fn)
    .filter((s) => [s.Action].flat().includes(action))
    .flatMap((s) => [s.Resource].flat());

describe('the stack wires the intake to the status functions', () => {
  it('gives the webhook function the Git host tokens secret the status functions read, and read on it', () => {
    // Act
    const webhook = variablesOf(stack.intake.webhookFunction);
    const status = variablesOf(stack.status.statusFunction);

    // Assess
    expect(webhook[STATUS_ENV.tokensSecret]).toMatch(/^ref:StatusReporterGitHostTokens/);
    expect(webhook[STATUS_ENV.tokensSecret]).toBe(status[STATUS_ENV.tokensSecret]);
    expect(allows(stack.intake.webhookFunction, 'secretsmanager:GetSecretValue')).toContain(
      webhook[STATUS_ENV.tokensSecret],
    );
  });

  it('gives the webhook function the deployments table the status function records in, and only PutItem on it', () => {
    // Act
    const webhook = variablesOf(stack.intake.webhookFunction);
    const status = variablesOf(stack.status.statusFunction);
    const table = evaluate(stack.resolve(stack.status.deploymentsTable.tableArn));
    const dynamo = statementsOf(stack.intake.webhookFunction).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('dynamodb:')),
    );

    // Assess: issues labelled incident are written where the four keys are computed from (ADR 0099)
    expect(webhook[INSIGHT_ENV.table]).toMatch(/^ref:StatusReporterDeployments/);
    expect(webhook[INSIGHT_ENV.table]).toBe(status[INSIGHT_ENV.table]);
    expect(dynamo).toEqual([expect.objectContaining({ Action: 'dynamodb:PutItem', Resource: table })]);
  });

  it("lets the webhook describe the pipeline's executions, to re-run one, and nothing else's", () => {
    // Act
    const described = allows(stack.intake.webhookFunction, 'states:DescribeExecution');
    const started = allows(stack.intake.webhookFunction, 'states:StartExecution');
    const read = allows(stack.intake.webhookFunction, 'states:GetExecutionHistory');

    // Assess
    expect(started).toEqual(['arn:aws:states:eu-west-1:123456789012:stateMachine:Stepline-pipeline']);
    expect(described).toEqual(['arn:aws:states:eu-west-1:123456789012:execution:Stepline-pipeline:*']);
    // The history: a re-run from the failed environment reads the image the run built (ADR 0106).
    expect(read).toEqual(['arn:aws:states:eu-west-1:123456789012:execution:Stepline-pipeline:*']);
  });

  it('serves the run links on the HTTP API of the webhook, and every function that posts statuses links there', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, p]) => evaluate(p));
    const runLink = stack.status.runLinkFunction;
    const endpoint = evaluate(stack.resolve(stack.intake.api.apiEndpoint));

    // Assess
    expect(runLink, 'addRunLinks was called').toBeDefined();
    const webhookRoute = routes.find((r) => (r as { RouteKey: string }).RouteKey === 'POST /webhooks/{provider}');
    const runRoute = routes.find((r) => (r as { RouteKey: string }).RouteKey === 'GET /runs/{name}');
    expect(runRoute).toMatchObject({ ApiId: (webhookRoute as { ApiId: string }).ApiId });
    for (const fn of [
      stack.status.statusFunction,
      stack.status.buildEventsFunction,
      stack.status.executionEventsFunction,
      stack.approvals.taskFunction,
    ]) {
      expect(variablesOf(fn)[STATUS_ENV.runLinkUrl], fn.node.path).toBe(endpoint);
    }
    expect(variablesOf(runLink!)[STATUS_ENV.runLinkStateMachineArn]).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:Stepline-pipeline',
    );
  });
});
