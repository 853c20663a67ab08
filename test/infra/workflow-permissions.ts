import { ACCOUNT, evaluate, REGION, resourcesOfType } from './helpers';

/**
 * The test's own reading of a synthesized state machine and its role, kept apart from the code under test: the
 * actions each Task needs come from the Step Functions developer guide ("IAM policies for integrated services"),
 * written out here, not from infra/constructs/PipelineWorkflow/task-permissions.ts.
 */

export type Grant = `${string} on ${string}`;

type Template = Parameters<typeof resourcesOfType>[0];
type State = {
  Type: string;
  Resource?: string;
  Arguments?: Record<string, unknown> | string;
  Parameters?: Record<string, unknown>;
} & Record<string, unknown>;
type Machine = { StartAt: string; States: Record<string, State> };

const CODEBUILD_RULE = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule`;

/** What the developer guide documents for each Task resource, for the static target the Task names. */
const DOCUMENTED: Record<string, (args: Record<string, unknown>) => Grant[]> = {
  'arn:aws:states:::lambda:invoke': (args) => [`lambda:InvokeFunction on ${String(args.FunctionName)}`],
  'arn:aws:states:::lambda:invoke.waitForTaskToken': (args) => [
    `lambda:InvokeFunction on ${String(args.FunctionName)}`,
  ],
  'arn:aws:states:::codebuild:startBuild.sync': (args) => {
    const value = String(args.ProjectName);
    // A JSONata choice between two projects names each in quotes: the Task may start either.
    const names = value.startsWith('{%') ? [...value.matchAll(/'([^']+)'/g)].map((m) => m[1]!) : [value];
    const projects = names.map((name) =>
      name.startsWith('arn:') ? name : `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${name}`,
    );
    return [
      ...projects.flatMap((project): Grant[] => [
        `codebuild:StartBuild on ${project}`,
        `codebuild:StopBuild on ${project}`,
        `codebuild:BatchGetBuilds on ${project}`,
      ]),
      `events:PutTargets on ${CODEBUILD_RULE}`,
      `events:PutRule on ${CODEBUILD_RULE}`,
      `events:DescribeRule on ${CODEBUILD_RULE}`,
    ];
  },
  // The AWS SDK integrations need the API's own action ("Call other AWS services", IAM policies); GetMetricData on
  // classic metrics has no resource type in the Service Authorization Reference.
  'arn:aws:states:::aws-sdk:cloudwatch:getMetricData': () => ['cloudwatch:GetMetricData on *'],
};

/** Statements Step Functions itself needs for logging to CloudWatch Logs and for X-Ray: no resource scoping exists. */
export const SERVICE_GRANTS: readonly Grant[] = [
  'logs:CreateLogDelivery on *',
  'logs:GetLogDelivery on *',
  'logs:UpdateLogDelivery on *',
  'logs:DeleteLogDelivery on *',
  'logs:ListLogDeliveries on *',
  'logs:PutResourcePolicy on *',
  'logs:DescribeResourcePolicies on *',
  'logs:DescribeLogGroups on *',
  'xray:PutTraceSegments on *',
  'xray:PutTelemetryRecords on *',
  'xray:GetSamplingRules on *',
  'xray:GetSamplingTargets on *',
];

/** The definition of the (only) state machine of a template, with its DefinitionSubstitutions applied. */
export function deployedDefinition(template: Template): {
  text: string;
  raw: string;
  substitutions: Record<string, string>;
} {
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const [, props] = machines[0]!;
  const raw = evaluate(props.DefinitionString) as string;
  const substitutions = evaluate(props.DefinitionSubstitutions ?? {}) as Record<string, string>;
  const text = raw.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => substitutions[name] ?? whole);
  return { text, raw, substitutions };
}

/**
 * The project of a CodeBuild Task whose Arguments are one JSONata object (`"{% {'ProjectName': <a choice of two
 * quoted names, or one>, ...} %}"`), as a `{% ... %}` of its own, as an Arguments object would have it.
 */
function targetsOfExpression(expression: string): Record<string, unknown> {
  const match = /'ProjectName'\s*:\s*([^'?,]*\?\s*'[^']+'\s*:\s*'[^']+'|'[^']+')/.exec(expression);
  return match ? { ProjectName: `{% ${match[1]} %}` } : {};
}

/** Every Task state, nested ones included, with its static arguments. */
export function tasksOf(machine: Machine): { name: string; resource: string; args: Record<string, unknown> }[] {
  const out: { name: string; resource: string; args: Record<string, unknown> }[] = [];
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Task' && state.Resource) {
      const args = state.Arguments ?? state.Parameters ?? {};
      out.push({ name, resource: state.Resource, args: typeof args === 'string' ? targetsOfExpression(args) : args });
    }
    const inner = (state.ItemProcessor ?? state.Iterator) as Machine | undefined;
    if (inner) out.push(...tasksOf(inner));
    for (const branch of (state.Branches as Machine[] | undefined) ?? []) out.push(...tasksOf(branch));
  }
  return out;
}

/** The grants each Task needs according to the developer guide; throws for a Task resource the table lacks. */
export function documentedGrants(definitionText: string): Map<string, Grant[]> {
  const machine = JSON.parse(definitionText) as Machine;
  const needs = new Map<string, Grant[]>();
  for (const task of tasksOf(machine)) {
    const rule = DOCUMENTED[task.resource];
    if (!rule) throw new Error(`the test has no documented policy for ${task.resource} (state ${task.name})`);
    needs.set(task.name, rule(task.args));
  }
  return needs;
}

/** Every (action, resource) pair the role's policies allow, from the template. */
export function roleGrants(template: Template, roleLogicalId: string): Grant[] {
  const grants: Grant[] = [];
  for (const [, props] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const roles = evaluate(props.Roles) as string[];
    if (!roles.includes(`ref:${roleLogicalId}`)) continue;
    const document = evaluate(props.PolicyDocument) as {
      Statement: { Effect: string; Action: string | string[]; Resource: string | string[] }[];
    };
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat()) {
        for (const resource of [statement.Resource].flat()) grants.push(`${action} on ${resource}`);
      }
    }
  }
  return grants;
}

/** The logical id of the role the state machine runs as. */
export function stateMachineRoleId(template: Template): string {
  const [, props] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0]!;
  const role = evaluate(props.RoleArn) as string;
  const match = /^getatt:(.+)\.Arn$/.exec(role);
  if (!match) throw new Error(`the state machine's RoleArn is not a role of this stack: ${role}`);
  return match[1]!;
}
