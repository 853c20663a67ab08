import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { PipelineWorkflow, type WorkflowResources } from '../../infra/constructs/PipelineWorkflow';
import { ACCOUNT, FIXTURE_ASL, REGION, scratchProject, testStack } from './helpers';
import {
  deployedDefinition,
  documentedGrants,
  roleGrants,
  SERVICE_GRANTS,
  stateMachineRoleId,
} from './workflow-permissions';

/** `${name}`, a placeholder of a definition. */
const ph = (name: string): string => `\${${name}}`;
const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:stepline-${name}`;

function resources(stack: ReturnType<typeof testStack>): WorkflowResources {
  return {
    // A project of the stack: its name is a token, as in the app (names, not ARNs, fill ...ProjectName).
    buildProject: new codebuild.Project(stack, 'Build', {
      buildSpec: codebuild.BuildSpec.fromObject({ version: '0.2' }),
    }),
    testProject: codebuild.Project.fromProjectName(stack, 'Tests', 'stepline-test'),
    statusFunction: lambda.Function.fromFunctionArn(stack, 'Status', fn('status')),
    approvalFunction: lambda.Function.fromFunctionArn(stack, 'Approval', fn('approval')),
    deployFunction: lambda.Function.fromFunctionArn(stack, 'Deploy', fn('deploy')),
    artifactsBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'stepline-artifacts'),
  };
}

function synth(definitionFile = FIXTURE_ASL, only?: (r: WorkflowResources) => WorkflowResources) {
  const stack = testStack();
  const all = resources(stack);
  const workflow = new PipelineWorkflow(stack, 'Workflow', { definitionFile, resources: only ? only(all) : all });
  return { stack, workflow, template: Template.fromStack(stack) };
}

function definitionFile(text: string): string {
  const root = scratchProject([]);
  const file = path.join(root, 'pipeline.asl.json');
  writeFileSync(file, text);
  return file;
}

describe('PipelineWorkflow', () => {
  // One synth for the tests that only read the template: each synth takes about a second.
  const shared = synth();

  it('creates a Standard state machine that logs ALL events to its log group and traces with X-Ray', () => {
    // Act
    const { template } = shared;

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'Test-pipeline',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('substitutes every placeholder of the definition', () => {
    // Prepare
    const { template } = shared;

    // Act
    const { raw, text, substitutions } = deployedDefinition(template.toJSON() as never);

    // Assess
    const placeholders = [...new Set([...raw.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))];
    expect(placeholders.length).toBeGreaterThan(0);
    expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
    expect(text).not.toMatch(/\$\{[A-Za-z0-9_]+\}/);
    expect(substitutions.StatusFunctionArn).toBe(fn('status'));
    expect(substitutions.BuildProjectName).toMatch(/^ref:Build/);
    expect(substitutions.TestProjectName).toBe('stepline-test');
    expect(substitutions.EcrRegistry).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);
  });

  it('allows the role every Task of the definition and nothing more', () => {
    // Prepare
    const { template } = shared;
    const json = template.toJSON() as never;

    // Act
    const needed = documentedGrants(deployedDefinition(json).text);
    const granted = roleGrants(json, stateMachineRoleId(json));

    // Assess
    const neededSet = new Set([...needed.values()].flat());
    for (const [state, grants] of needed) {
      for (const grant of grants) expect(granted, `state ${state} needs ${grant}`).toContain(grant);
    }
    const extra = granted.filter((grant) => !neededSet.has(grant) && !SERVICE_GRANTS.includes(grant));
    expect(extra).toEqual([]);
    expect(granted.filter((grant) => grant.startsWith('lambda:'))).toHaveLength(3);
  });

  it('passes asl-validator once substituted', () => {
    // Prepare
    const { template } = shared;
    const { text } = deployedDefinition(template.toJSON() as never);

    // Act
    const result = aslValidator(JSON.parse(text));

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('fails synth naming a placeholder that no construct provides', () => {
    // Prepare
    const text = readFileSync(FIXTURE_ASL, 'utf8').replace(ph('DeployFunctionArn'), ph('DeployFunctionArm'));

    // Act + Assess
    expect(() => synth(definitionFile(text))).toThrow(
      /\$\{DeployFunctionArm\}: PipelineWorkflow provides no such substitution/,
    );
  });

  it('fails synth naming the construct a placeholder needs when that construct is missing', () => {
    // Act + Assess
    expect(() => synth(FIXTURE_ASL, ({ deployFunction: _omit, ...rest }) => rest)).toThrow(
      /\$\{DeployFunctionArn\}: comes from the EksDeployer construct \(functions\/deploy\/index\.ts\)/,
    );
  });

  describe('the approval heartbeat', () => {
    // The fixture's approval Task, with its HeartbeatSeconds from the substitution (as statemachines/ has it).
    const heartbeatText = () => {
      const text = readFileSync(FIXTURE_ASL, 'utf8');
      expect(text).toContain('"HeartbeatSeconds": 3600');
      return text.replace('"HeartbeatSeconds": 3600', `"HeartbeatSeconds": ${ph('ApprovalHeartbeatSeconds')}`);
    };

    it('fills the ApprovalHeartbeatSeconds placeholder with the number of seconds it is given', () => {
      // Act
      const { template } = synth(definitionFile(heartbeatText()), (r) => ({ ...r, approvalHeartbeatSeconds: 900 }));
      const { text, substitutions } = deployedDefinition(template.toJSON() as never);

      // Assess
      expect(substitutions.ApprovalHeartbeatSeconds).toBe('900');
      const approve = (JSON.parse(text) as { States: Record<string, Record<string, unknown>> }).States.Approve!;
      expect(approve.HeartbeatSeconds).toBe(900);
      expect(aslValidator(JSON.parse(text)).isValid).toBe(true);
    });

    it('leaves it out of the substitutions when the definition does not use it', () => {
      // Act
      const { workflow } = synth(FIXTURE_ASL, (r) => ({ ...r, approvalHeartbeatSeconds: 900 }));

      // Assess
      expect(workflow.substitutions).not.toHaveProperty('ApprovalHeartbeatSeconds');
    });

    it('fails synth naming the Approvals construct when a definition uses it and nothing gives it', () => {
      expect(() => synth(definitionFile(heartbeatText()))).toThrow(
        /\$\{ApprovalHeartbeatSeconds\}: comes from the Approvals construct \(its keeper's schedule\)/,
      );
    });

    it('refuses a value that is not a positive whole number of seconds', () => {
      expect(() => synth(definitionFile(heartbeatText()), (r) => ({ ...r, approvalHeartbeatSeconds: 1.5 }))).toThrow(
        /approvalHeartbeatSeconds must be a positive whole number of seconds, not 1\.5/,
      );
    });
  });

  it('refuses a Task whose target is computed at run time, since its permission could not be scoped', () => {
    // Prepare
    const text = readFileSync(FIXTURE_ASL, 'utf8').replace(`"${ph('DeployFunctionArn')}"`, '"{% $states.input.fn %}"');

    // Act + Assess
    expect(() => synth(definitionFile(text))).toThrow(/Task "Deploy".*FunctionName is computed at run time/);
  });

  it('fails with the path of a definition file that does not exist', () => {
    expect(() => synth('/nonexistent/statemachines/pipeline.asl.json')).toThrow(
      /pipeline\.asl\.json not found: \/nonexistent\/statemachines\/pipeline\.asl\.json/,
    );
  });
});
