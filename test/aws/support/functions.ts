import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IamModel } from './iam';
import { BundleFunction } from './lambda-host';
import { type CloudAssembly, REPO_ROOT } from './synth';
import { StackValues } from './template';

/**
 * The template's Lambda functions as the suite runs them: each function's built bundle (its `Code.S3Key` asset),
 * handler, timeout and memory, and its environment as the template sets it, plus what the Lambda runtime sets
 * (`AWS_REGION`, `LAMBDA_TASK_ROOT`, `_HANDLER`, ...) and the credentials of the function's role. The suite adds
 * only redirections: `AWS_ENDPOINT_URL` (every AWS call goes to the suite's endpoint) and, through `redirect`, the
 * Git hosts' API URLs; nothing else of the template is changed. A value under `/var/task/` names a file of the
 * bundle and is read from the asset folder.
 */

export interface FunctionsOptions {
  readonly assembly: CloudAssembly;
  readonly values: StackValues;
  readonly iam: IamModel;
  readonly endpointUrl: string;
  /** Variables the suite adds to a function (the Git hosts' URLs on the stand-ins), by its logical id. */
  readonly redirect: (logicalId: string) => Readonly<Record<string, string>>;
}

export interface DeployedFunction {
  readonly logicalId: string;
  readonly fn: BundleFunction;
  readonly roleId: string;
}

export function deployFunctions(options: FunctionsOptions): Map<string, DeployedFunction> {
  const { assembly, values, iam } = options;
  const out = new Map<string, DeployedFunction>();
  for (const logicalId of values.resourcesOf('AWS::Lambda::Function')) {
    const props = values.properties(logicalId);
    const code = props['Code'] as { S3Key?: unknown; ZipFile?: unknown } | undefined;
    let taskRoot: string;
    if (code?.S3Key) taskRoot = assembly.assetDir(values.string(code.S3Key));
    else if (code?.ZipFile !== undefined) {
      // Inline code: CloudFormation writes it to index.js (CommonJS); the Node.js runtime provides the AWS SDK v3.
      taskRoot = mkdtempSync(join(tmpdir(), `stepline-inline-${logicalId.slice(0, 20)}-`));
      writeFileSync(join(taskRoot, 'index.js'), values.string(code.ZipFile));
      writeFileSync(join(taskRoot, 'package.json'), '{"type":"commonjs"}\n');
    } else throw new Error(`${logicalId} has neither Code.S3Key nor Code.ZipFile`);
    const roleId = iam.roleIdOf(props['Role']);
    const principal = iam.principal(roleId);
    const name = values.ref(logicalId);
    principal.users.push(name);
    const handler = values.string(props['Handler']);
    const variables = values.resolve<Record<string, unknown>>(
      (props['Environment'] as { Variables?: unknown } | undefined)?.Variables ?? {},
    );
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: '/tmp',
      AWS_REGION: values.region,
      AWS_DEFAULT_REGION: values.region,
      AWS_ACCESS_KEY_ID: principal.accessKeyId,
      AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props['MemorySize'] ?? 128),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${String(props['Runtime'] ?? 'nodejs')}`,
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      _HANDLER: handler,
    };
    for (const [key, value] of Object.entries(variables)) {
      env[key] = String(value).replace(/^\/var\/task(?=\/|$)/, taskRoot);
    }
    // The runtime's own copy of the AWS SDK v3, for code that does not bundle it (inline code).
    env['NODE_PATH'] = join(REPO_ROOT, 'node_modules');
    Object.assign(env, options.redirect(logicalId), { AWS_ENDPOINT_URL: options.endpointUrl });
    const fn = new BundleFunction({
      name,
      arn: values.attribute(logicalId, 'Arn'),
      handler,
      timeoutSeconds: Number(props['Timeout'] ?? 3),
      memoryMb: Number(props['MemorySize'] ?? 128),
      taskRoot,
      env,
    });
    out.set(logicalId, { logicalId, fn, roleId });
  }
  return out;
}

/** The logical id of the function a value (`Fn::GetAtt [id, Arn]`, `Ref id`) names. */
export function functionIdOf(value: unknown): string | undefined {
  return StackValues.targetOf(value);
}
