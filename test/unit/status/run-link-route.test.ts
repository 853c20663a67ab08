import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { describe, expect, it } from 'vitest';
import { STATUS_ENV } from '../../../core/status/contracts';
import { StatusReporter } from '../../../infra/constructs/StatusReporter';
import { scratchProject, testStack } from '../../infra/helpers';

/** The run-link route (docs/adr/0090): where GitLab statuses link when the console link is over 255 characters. */

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline';

describe('StatusReporter.addRunLinks', () => {
  const stack = testStack();
  const api = new apigw.HttpApi(stack, 'Api');
  const reporter = new StatusReporter(stack, 'Status', {
    projectRoot: scratchProject(['status', 'build-events', 'execution-events', 'status/run-link']),
    stateMachineArn: STATE_MACHINE,
    stateMachineName: 'Test-pipeline',
    projectNames: ['stepline-build'],
  });
  reporter.addRunLinks(api);
  const template = Template.fromStack(stack);

  it('routes GET /runs/{name} to the run-link function', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /runs/{name}' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [STATUS_ENV.runLinkStateMachineArn]: STATE_MACHINE } },
    });
  });

  it("gives the three status functions the route's base URL", () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const withLink = Object.values(functions).filter(
      (f) =>
        (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment
          ?.Variables?.[STATUS_ENV.runLinkUrl] !== undefined,
    );
    expect(withLink).toHaveLength(3);
  });
});
