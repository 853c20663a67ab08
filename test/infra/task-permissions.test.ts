import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  mergePermissions,
  missingSubstitutions,
  parseDefinition,
  permissionsForTask,
  placeholdersIn,
  substitute,
  taskPermissions,
  taskStates,
} from '../../infra/constructs/PipelineWorkflow';

const context = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  stateMachineName: 'Stepline-pipeline',
};
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:stepline-deploy';
const RULE = 'arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventForCodeBuildStartBuildRule';

/** `${name}`, a placeholder of a definition. */
const ph = (name: string): string => `\${${name}}`;

function task(
  resource: string,
  parameters: Record<string, unknown>,
  queryLanguage: 'JSONata' | 'JSONPath' = 'JSONata',
) {
  return { path: 'T', resource, parameters, queryLanguage };
}

/** A JSONata Task whose Arguments are one expression, as the Build Task's are (ADR 0064). */
function expressionTask(resource: string, expression: string) {
  return { path: 'T', resource, parameters: {}, expression, queryLanguage: 'JSONata' as const };
}

const BUILD_ARGUMENTS =
  "{% {'ProjectName': $route.secrets ? 'stepline-build' : 'stepline-build-untrusted', 'SourceVersion': ($r := " +
  "$request; $r.commit.sha & '^{' & $r.commit.sha & '}'), /* 'ProjectName': 'not this one', */ 'BuildspecOverride': " +
  "$route.build.buildspec, 'EnvironmentVariablesOverride': [{'Name': 'A, B', 'Value': \"it's\"}]} %}";

describe('permissionsForTask', () => {
  it.each([
    {
      case: 'lambda:invoke names the function',
      task: task('arn:aws:states:::lambda:invoke', { FunctionName: FN }),
      expected: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }],
    },
    {
      case: 'lambda:invoke.waitForTaskToken needs only InvokeFunction',
      task: task('arn:aws:states:::lambda:invoke.waitForTaskToken', { FunctionName: FN, Payload: {} }),
      expected: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }],
    },
    {
      case: 'a function name becomes the function ARN of the account and region',
      task: task('arn:aws:states:::lambda:invoke', { FunctionName: 'stepline-status' }),
      expected: [
        {
          actions: ['lambda:InvokeFunction'],
          resources: ['arn:aws:lambda:eu-west-1:123456789012:function:stepline-status'],
        },
      ],
    },
    {
      case: 'a Lambda ARN as the Resource itself',
      task: task(FN, {}),
      expected: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }],
    },
    {
      case: 'codebuild:startBuild.sync: the build on the project, the managed rule for its events',
      task: task('arn:aws:states:::codebuild:startBuild.sync', { ProjectName: 'stepline-build' }),
      expected: [
        {
          actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
          resources: ['arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build'],
        },
        { actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [RULE] },
      ],
    },
    {
      case: 'codebuild:startBuild.sync choosing between two named projects may start either',
      task: task('arn:aws:states:::codebuild:startBuild.sync', {
        ProjectName: "{% $states.input.route.secrets ? 'stepline-build' : 'stepline-build-untrusted' %}",
      }),
      expected: [
        {
          actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
          resources: [
            'arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build',
            'arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build-untrusted',
          ],
        },
        { actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [RULE] },
      ],
    },
    {
      case: 'codebuild:startBuild (request-response) needs StartBuild only',
      task: task('arn:aws:states:::codebuild:startBuild', { ProjectName: 'stepline-build' }),
      expected: [
        {
          actions: ['codebuild:StartBuild'],
          resources: ['arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build'],
        },
      ],
    },
    {
      case: 'JSONPath Parameters are read too',
      task: task('arn:aws:states:::lambda:invoke', { FunctionName: FN, 'Payload.$': '$' }, 'JSONPath'),
      expected: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }],
    },
    {
      case: 'dynamodb:updateItem on the named table',
      task: task('arn:aws:states:::dynamodb:updateItem', { TableName: 'locks', Key: {} }),
      expected: [
        { actions: ['dynamodb:UpdateItem'], resources: ['arn:aws:dynamodb:eu-west-1:123456789012:table/locks'] },
      ],
    },
    {
      case: 'states:startExecution.sync:2 watches the child executions through the managed rule',
      task: task('arn:aws:states:::states:startExecution.sync:2', {
        StateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:child',
      }),
      expected: [
        { actions: ['states:StartExecution'], resources: ['arn:aws:states:eu-west-1:123456789012:stateMachine:child'] },
        {
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: ['arn:aws:states:eu-west-1:123456789012:execution:child:*'],
        },
        {
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: ['arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule'],
        },
      ],
    },
    {
      case: 'aws-sdk:sfn:stopExecution may stop executions of this state machine only',
      task: task('arn:aws:states:::aws-sdk:sfn:stopExecution', { ExecutionArn: '{% $superseded %}' }),
      expected: [
        {
          actions: ['states:StopExecution'],
          resources: ['arn:aws:states:eu-west-1:123456789012:execution:Stepline-pipeline:*'],
        },
      ],
    },
    {
      case: 'aws-sdk:cloudwatch:getMetricData gets exactly cloudwatch:GetMetricData, which has no resource ARN',
      task: task('arn:aws:states:::aws-sdk:cloudwatch:getMetricData', { MetricDataQueries: '{% $queries %}' }),
      expected: [{ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }],
    },
    {
      case: 'Arguments written as one JSONata object: the project of its ProjectName field, a choice of two',
      task: expressionTask('arn:aws:states:::codebuild:startBuild.sync', BUILD_ARGUMENTS),
      expected: [
        {
          actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
          resources: [
            'arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build',
            'arn:aws:codebuild:eu-west-1:123456789012:project/stepline-build-untrusted',
          ],
        },
        { actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [RULE] },
      ],
    },
    {
      case: 'Arguments written as one JSONata object: the function of its FunctionName field, quoted',
      task: expressionTask(
        'arn:aws:states:::lambda:invoke',
        `{% {'FunctionName': '${FN}', 'Payload': $states.input} %}`,
      ),
      expected: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }],
    },
  ])('$case', ({ task: input, expected }) => {
    // Act
    const permissions = permissionsForTask(input, context);

    // Assess
    expect(permissions).toEqual(expected);
  });

  it.each([
    {
      case: 'a function computed by JSONata',
      task: task('arn:aws:states:::lambda:invoke', { FunctionName: '{% $states.input.fn %}' }),
      error: /FunctionName is computed at run time/,
    },
    {
      case: 'a function taken from a JSONPath',
      task: task('arn:aws:states:::lambda:invoke', { 'FunctionName.$': '$.fn' }, 'JSONPath'),
      error: /FunctionName is computed at run time/,
    },
    {
      case: 'a project name computed other than as a choice between two literal names',
      task: task('arn:aws:states:::codebuild:startBuild.sync', {
        ProjectName: "{% $states.input.secrets ? 'stepline-build' : $states.input.project %}",
      }),
      error: /ProjectName is computed at run time[\s\S]*choose between two named ones/,
    },
    {
      case: 'a project name that is missing',
      task: task('arn:aws:states:::codebuild:startBuild.sync', {}),
      error: /needs ProjectName \(a string\) in its Arguments/,
    },
    {
      case: 'Arguments as one JSONata object whose function is computed',
      task: expressionTask('arn:aws:states:::lambda:invoke', "{% {'FunctionName': $states.input.fn} %}"),
      error: /FunctionName is computed at run time/,
    },
    {
      case: 'Arguments as one JSONata object without the target',
      task: expressionTask('arn:aws:states:::codebuild:startBuild.sync', "{% {'SourceVersion': 'main'} %}"),
      error: /needs ProjectName \(a string\) in its Arguments/,
    },
    {
      case: 'Arguments as a JSONata expression that is not an object constructor',
      task: expressionTask('arn:aws:states:::codebuild:startBuild.sync', '{% $merge([$states.input.a, {}]) %}'),
      error: /Arguments are a JSONata expression whose fields cannot be read/,
    },
    {
      case: 'an integration without a rule',
      task: task('arn:aws:states:::sns:publish', { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t' }),
      error: /no permission rule for arn:aws:states:::sns:publish/,
    },
    {
      case: 'an aws-sdk call other than stopping own executions',
      task: task('arn:aws:states:::aws-sdk:s3:getObject', { Bucket: 'b', Key: 'k' }),
      error: /no permission rule for arn:aws:states:::aws-sdk:s3:getObject/,
    },
    {
      case: 'an activity',
      task: task('arn:aws:states:eu-west-1:123456789012:activity:approve', {}),
      error: /no permission rule/,
    },
  ])('refuses $case', ({ task: input, error }) => {
    expect(() => permissionsForTask(input, context)).toThrow(error);
  });
});

describe('taskStates and taskPermissions', () => {
  it('finds the Tasks inside Map item processors and Parallel branches', () => {
    // Prepare
    const definition: AslDefinition = {
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Task', Resource: FN, End: true } } },
            {
              StartAt: 'M',
              States: {
                M: {
                  Type: 'Map',
                  ItemProcessor: {
                    StartAt: 'B',
                    States: {
                      B: {
                        Type: 'Task',
                        Resource: 'arn:aws:states:::codebuild:startBuild.sync',
                        Arguments: { ProjectName: 'tests' },
                        End: true,
                      },
                    },
                  },
                  End: true,
                },
              },
            },
          ],
          End: true,
        },
      },
    };

    // Act
    const tasks = taskPermissions(definition, context);

    // Assess
    expect(tasks.map((t) => t.state)).toEqual(['P[0]/A', 'P[1]/M/B']);
    expect(taskStates(definition)[1]?.queryLanguage).toBe('JSONata');
  });

  it('merges the permissions of Tasks with the same actions into one statement with both resources', () => {
    // Prepare
    const other = 'arn:aws:lambda:eu-west-1:123456789012:function:stepline-status';
    const tasks = [
      { state: 'A', resource: 'x', permissions: [{ actions: ['lambda:InvokeFunction'], resources: [FN] }] },
      { state: 'B', resource: 'x', permissions: [{ actions: ['lambda:InvokeFunction'], resources: [other, FN] }] },
    ];

    // Act
    const merged = mergePermissions(tasks);

    // Assess
    expect(merged).toEqual([{ actions: ['lambda:InvokeFunction'], resources: [FN, other].sort() }]);
  });
});

describe('placeholders', () => {
  it('lists each placeholder once and ignores JSONata variables', () => {
    expect(placeholdersIn(`{"a":"${ph('A')}","b":"${ph('B')}","c":"${ph('A')}","d":"{% $states.input %}"}`)).toEqual([
      'A',
      'B',
    ]);
  });

  it('substitutes every placeholder, or names each one that has no value', () => {
    // Prepare
    const text = `{"a":"${ph('A')}","b":"${ph('B')}"}`;

    // Act + Assess
    expect(substitute(text, { A: '1', B: '2' }, 'p.asl.json')).toBe('{"a":"1","b":"2"}');
    expect(missingSubstitutions(text, { A: '1' })).toEqual(['B']);
    expect(() => substitute(text, { A: '1' }, 'p.asl.json')).toThrow(
      /p\.asl\.json: no substitution for \$\{B\}; the workflow provides A/,
    );
  });

  it('says which file is not a state machine', () => {
    expect(() => parseDefinition('{"States":{}}', 'p.asl.json')).toThrow(
      /p\.asl\.json: a state machine definition needs StartAt/,
    );
    expect(() => parseDefinition('{', 'p.asl.json')).toThrow(/p\.asl\.json: not JSON/);
  });
});
