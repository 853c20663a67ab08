import { DefinitionError } from '../../errors';
import type { AslDefinition, TaskState } from './definition';
import { taskStates } from './definition';
import { jsonataObjectFields, quotedName, unreadableArguments } from './jsonata-object';

/**
 * The IAM permissions a state machine's role needs for its Task states, derived from the definition: what
 * Step Functions documents for each service integration ("IAM policies for integrated services"), scoped to the
 * resources the Task names. Pure: the caller passes the partition, region and account (CDK passes its tokens).
 *
 * A Task whose target is computed at run time (`{% ... %}` or a `.$` path) cannot be scoped and is refused, as is
 * an integration without a rule here: add one rather than widen the role. One computed form is read: a choice
 * between two literal names, `{% <condition> ? 'a' : 'b' %}` (the trusted or untrusted CodeBuild project), scoped to
 * both. Arguments written as one JSONata object (`"{% {'ProjectName': ..., ...} %}"`, which can leave a field out)
 * are read field by field, the target being a quoted name or such a choice (jsonata-object.ts).
 */

export interface PermissionContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Name of the state machine itself: `aws-sdk:sfn:stopExecution` may stop its executions. */
  readonly stateMachineName?: string;
  /** Whether a value is an ARN (or stands for one, as a CDK token does). @default value starts with "arn:" */
  readonly isArn?: (value: string) => boolean;
}

export interface Permission {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface TaskPermission {
  /** The Task's path in the definition (`Tests/RunSuite`). */
  readonly state: string;
  readonly resource: string;
  readonly permissions: readonly Permission[];
}

const SFN_PREFIX = 'arn:aws:states:::';
const CODEBUILD_RULE = 'StepFunctionsGetEventForCodeBuildStartBuildRule';
const SFN_EXECUTION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

const DYNAMODB_ACTIONS: Record<string, string> = {
  getItem: 'dynamodb:GetItem',
  putItem: 'dynamodb:PutItem',
  updateItem: 'dynamodb:UpdateItem',
  deleteItem: 'dynamodb:DeleteItem',
};

function isDynamic(parameters: Record<string, unknown>, key: string): boolean {
  if (Object.hasOwn(parameters, `${key}.$`)) return true;
  const value = parameters[key];
  return typeof value === 'string' && value.trim().startsWith('{%');
}

/** `{% <condition> ? 'a' : 'b' %}`, a condition without quotes or `?`, and two quoted names. */
const CHOICE_OF_TWO = /^\{%\s*[^?'"]+\?\s*'([^']+)'\s*:\s*'([^']+)'\s*%\}$/;

/** The names a Task's target may take: one static name, or both names of a choice between two literals. */
function targetNames(task: TaskState, key: string): string[] {
  const value = task.expression === undefined ? task.parameters[key] : `{% ${expressionField(task, key)} %}`;
  const choice = typeof value === 'string' ? CHOICE_OF_TWO.exec(value.trim()) : null;
  if (choice) return [...new Set([choice[1] as string, choice[2] as string])];
  return [staticParameter(task, key)];
}

/** The text of one field of a Task's Arguments expression; refuses an expression whose fields cannot be read. */
function expressionField(task: TaskState, key: string): string {
  const where = `Task "${task.path}" (${task.resource})`;
  const fields = jsonataObjectFields(task.expression ?? '');
  if (fields === null) throw unreadableArguments(where);
  const value = fields.get(key);
  if (value === undefined) throw new DefinitionError(`${where}: needs ${key} (a string) in its Arguments`);
  return value;
}

function staticParameter(task: TaskState, key: string): string {
  const where = `Task "${task.path}" (${task.resource})`;
  if (task.expression !== undefined) {
    const name = quotedName(expressionField(task, key));
    if (name === undefined) {
      throw new DefinitionError(
        `${where}: ${key} is computed at run time, so the role cannot be scoped to it; name it with a \${Placeholder}`,
      );
    }
    return name;
  }
  if (isDynamic(task.parameters, key)) {
    throw new DefinitionError(
      `${where}: ${key} is computed at run time, so the role cannot be scoped to it; name it with a \${Placeholder}, ` +
        `or choose between two named ones with {% <condition> ? '\${A}' : '\${B}' %}`,
    );
  }
  const value = task.parameters[key];
  if (typeof value !== 'string' || value === '') {
    throw new DefinitionError(
      `${where}: needs ${key} (a string) in its ${task.queryLanguage === 'JSONata' ? 'Arguments' : 'Parameters'}`,
    );
  }
  return value;
}

function unsupported(task: TaskState): DefinitionError {
  return new DefinitionError(
    `Task "${task.path}": no permission rule for ${task.resource}; add one to ` +
      'infra/constructs/PipelineWorkflow/task-permissions.ts (scoped to the resource the Task names)',
  );
}

/** The permissions one Task state needs. */
export function permissionsForTask(task: TaskState, context: PermissionContext): Permission[] {
  const { partition, region, account } = context;
  const isArn = context.isArn ?? ((value: string) => value.startsWith('arn:'));
  const arn = (service: string, resource: string): string =>
    `arn:${partition}:${service}:${region}:${account}:${resource}`;

  if (!task.resource.startsWith(SFN_PREFIX)) {
    // A Lambda function ARN as the Resource, or a placeholder (a CDK token) standing for one. Activities and
    // anything else have no rule.
    const isFunction =
      /^arn:[^:]+:lambda:/.test(task.resource) || (!task.resource.startsWith('arn:') && isArn(task.resource));
    if (isFunction) return [{ actions: ['lambda:InvokeFunction'], resources: [task.resource] }];
    throw unsupported(task);
  }
  const integration = task.resource.slice(SFN_PREFIX.length);
  const [service, rest = ''] = splitOnce(integration, ':');
  const [action, pattern = ''] = splitOnce(rest, '.');

  switch (service) {
    case 'lambda': {
      if (action !== 'invoke' || !['', 'waitForTaskToken'].includes(pattern)) throw unsupported(task);
      const name = staticParameter(task, 'FunctionName');
      return [
        { actions: ['lambda:InvokeFunction'], resources: [isArn(name) ? name : arn('lambda', `function:${name}`)] },
      ];
    }
    case 'codebuild': {
      if (action !== 'startBuild' || !['', 'sync'].includes(pattern)) throw unsupported(task);
      const projects = targetNames(task, 'ProjectName').map((name) =>
        isArn(name) ? name : arn('codebuild', `project/${name}`),
      );
      if (pattern === '') return [{ actions: ['codebuild:StartBuild'], resources: projects }];
      return [
        { actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'], resources: projects },
        {
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [arn('events', `rule/${CODEBUILD_RULE}`)],
        },
      ];
    }
    case 'dynamodb': {
      const iamAction = DYNAMODB_ACTIONS[action];
      if (!iamAction || pattern !== '') throw unsupported(task);
      const name = staticParameter(task, 'TableName');
      return [{ actions: [iamAction], resources: [isArn(name) ? name : arn('dynamodb', `table/${name}`)] }];
    }
    case 'states': {
      if (action !== 'startExecution') throw unsupported(task);
      const machine = staticParameter(task, 'StateMachineArn');
      if (pattern === '' || pattern === 'waitForTaskToken') {
        return [{ actions: ['states:StartExecution'], resources: [machine] }];
      }
      if (pattern !== 'sync' && pattern !== 'sync:2') throw unsupported(task);
      const machineName = machine.split(':').at(-1) ?? '';
      if (!machine.startsWith('arn:') || machineName === '') {
        throw new DefinitionError(`Task "${task.path}": StateMachineArn must be a literal ARN for ${task.resource}`);
      }
      return [
        { actions: ['states:StartExecution'], resources: [machine] },
        {
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [arn('states', `execution:${machineName}:*`)],
        },
        {
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [arn('events', `rule/${SFN_EXECUTION_RULE}`)],
        },
      ];
    }
    case 'aws-sdk': {
      // Only what Stepline's workflow needs: stopping a superseded run of the same state machine.
      if (rest === 'sfn:stopExecution' && context.stateMachineName) {
        return [
          { actions: ['states:StopExecution'], resources: [arn('states', `execution:${context.stateMachineName}:*`)] },
        ];
      }
      // A canary step's CloudWatch metrics (ADR 0068). GetMetricData reads classic metrics, which have no ARN: the
      // Service Authorization Reference ("Actions, resources, and condition keys for Amazon CloudWatch") lists no
      // required resource type for it (only an optional `dataset`, for OTLP data), so the statement names "*".
      if (rest === 'cloudwatch:getMetricData') {
        return [{ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }];
      }
      throw unsupported(task);
    }
    default:
      throw unsupported(task);
  }
}

/** The permissions of every Task state of a definition, one entry per Task, in document order. */
export function taskPermissions(definition: AslDefinition, context: PermissionContext): TaskPermission[] {
  return taskStates(definition).map((task) => ({
    state: task.path,
    resource: task.resource,
    permissions: permissionsForTask(task, context),
  }));
}

/**
 * The permissions of a definition as few policy statements: one per distinct set of actions, with the union of
 * their resources, both sorted so that the template is stable.
 */
export function mergePermissions(tasks: readonly TaskPermission[]): Permission[] {
  const byActions = new Map<string, { actions: string[]; resources: Set<string> }>();
  for (const task of tasks) {
    for (const permission of task.permissions) {
      const actions = [...new Set(permission.actions)].sort();
      const key = actions.join(',');
      const entry = byActions.get(key) ?? { actions, resources: new Set<string>() };
      for (const resource of permission.resources) entry.resources.add(resource);
      byActions.set(key, entry);
    }
  }
  return [...byActions.values()]
    .map((entry) => ({ actions: entry.actions, resources: [...entry.resources].sort() }))
    .sort((a, b) => a.actions.join(',').localeCompare(b.actions.join(',')));
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
