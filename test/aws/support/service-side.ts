import type { Authorization } from './iam';
import { impliedAuthorizations } from './implied';
import type { StackValues } from './template';

/**
 * What AWS services do with a resource's role on its behalf, which the role must allow as much as the code's own
 * calls (each from the service's documentation of its execution role):
 * - Lambda writes each invocation's logs with the function's role (`logs:CreateLogStream`, `logs:PutLogEvents` on
 *   its log group) and, with active tracing, sends trace segments (`xray:PutTraceSegments`,
 *   `xray:PutTelemetryRecords`) (Lambda Developer Guide, "Lambda execution role" and "Using X-Ray").
 * - CodeBuild writes the build's logs with the project's service role, restores and saves an S3 cache under the
 *   cache location (`s3:GetObject`, `s3:PutObject`, with the bucket key's KMS permissions), and creates the
 *   report groups a buildspec names (`codebuild:CreateReportGroup`, `CreateReport`, `UpdateReport`,
 *   `BatchPutTestCases` on `report-group/<project>-<name>`) (CodeBuild User Guide, "Create a CodeBuild service
 *   role" and "Test report permissions").
 * - Step Functions, for a state machine with logging to CloudWatch Logs, uses the log delivery actions of the
 *   execution role, and with tracing, the X-Ray actions (Step Functions Developer Guide, "IAM policies for logging to
 *   CloudWatch Logs" and "X-Ray").
 */

function arn(values: StackValues, service: string, resource: string): string {
  return `arn:${values.partition}:${service}:${values.region}:${values.accountId}:${resource}`;
}

/** What Lambda authorizes with the function's role for one invocation. */
export function lambdaServiceCalls(values: StackValues, functionId: string, requestId: string): Authorization[] {
  const props = values.properties(functionId);
  const name = values.ref(functionId);
  const group = (props['LoggingConfig'] as { LogGroup?: unknown } | undefined)?.LogGroup;
  const groupName = group === undefined ? `/aws/lambda/${name}` : values.string(group);
  const stream = arn(
    values,
    'logs',
    `log-group:${groupName}:log-stream:${new Date().toISOString().slice(0, 10)}/[$LATEST]${requestId}`,
  );
  const out: Authorization[] = [
    { action: 'logs:CreateLogStream', resource: stream },
    { action: 'logs:PutLogEvents', resource: stream },
  ];
  if ((props['TracingConfig'] as { Mode?: string } | undefined)?.Mode === 'Active') {
    out.push({ action: 'xray:PutTraceSegments', resource: '*' }, { action: 'xray:PutTelemetryRecords', resource: '*' });
  }
  return out;
}

/** What CodeBuild authorizes with the project's role for one build. */
export function buildServiceCalls(
  values: StackValues,
  projectId: string,
  build: { readonly id: string; readonly reportArns: readonly string[] },
): { operation: string; authorizations: Authorization[] }[] {
  const props = values.resolve<Record<string, unknown>>(values.properties(projectId));
  const name = values.ref(projectId);
  const out: { operation: string; authorizations: Authorization[] }[] = [];
  const logs = (props['LogsConfig'] as { CloudWatchLogs?: { GroupName?: string; Status?: string } } | undefined)
    ?.CloudWatchLogs;
  const groupName = logs?.Status === 'DISABLED' ? null : (logs?.GroupName ?? `/aws/codebuild/${name}`);
  if (groupName) {
    const stream = arn(values, 'logs', `log-group:${groupName}:log-stream:${build.id.split(':').pop()}`);
    out.push({
      operation: 'CodeBuild writes the build log',
      authorizations: [
        { action: 'logs:CreateLogStream', resource: stream },
        { action: 'logs:PutLogEvents', resource: stream },
      ],
    });
  }
  const cache = props['Cache'] as { Type?: string; Location?: string } | undefined;
  if (cache?.Type === 'S3' && cache.Location) {
    for (const [operation, action] of [
      ['s3:GetObject', 's3:GetObject'],
      ['s3:PutObject', 's3:PutObject'],
    ] as const) {
      const object = `arn:${values.partition}:s3:::${cache.Location}/${name}-cache.zip`;
      const decoded = { operation, authorizations: [{ action, resource: object }] };
      out.push({
        operation: `CodeBuild ${action === 's3:GetObject' ? 'restores' : 'saves'} the cache`,
        authorizations: [...decoded.authorizations, ...impliedAuthorizations(values, decoded)],
      });
    }
  }
  const groups = new Set(build.reportArns.map((report) => /:report\/([^:]+):/.exec(report)?.[1]).filter(Boolean));
  for (const group of groups) {
    const resource = arn(values, 'codebuild', `report-group/${group}`);
    out.push({
      operation: 'CodeBuild writes a test report',
      authorizations: ['CreateReportGroup', 'CreateReport', 'UpdateReport', 'BatchPutTestCases'].map((action) => ({
        action: `codebuild:${action}`,
        resource,
      })),
    });
  }
  return out;
}

/** What Step Functions authorizes with the state machine's role when it is created (logging) and per execution. */
export function stateMachineServiceCalls(
  values: StackValues,
  machineId: string,
): { creation: Authorization[]; execution: Authorization[] } {
  const props = values.properties(machineId);
  const logging = props['LoggingConfiguration'] as { Destinations?: unknown[] } | undefined;
  const creation =
    (logging?.Destinations?.length ?? 0) > 0
      ? [
          'CreateLogDelivery',
          'GetLogDelivery',
          'UpdateLogDelivery',
          'DeleteLogDelivery',
          'ListLogDeliveries',
          'PutResourcePolicy',
          'DescribeResourcePolicies',
          'DescribeLogGroups',
        ].map((action) => ({ action: `logs:${action}`, resource: '*' }))
      : [];
  const tracing = (props['TracingConfiguration'] as { Enabled?: boolean } | undefined)?.Enabled === true;
  const execution = tracing
    ? ['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'].map((action) => ({
        action: `xray:${action}`,
        resource: '*',
      }))
    : [];
  return { creation, execution };
}
