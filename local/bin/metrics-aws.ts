import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDeploymentStore } from '../../adapters/aws/deployments-dynamodb';
import { describeAwsError } from '../../adapters/aws/errors';
import { endedExecutions, executionHistory } from '../../adapters/aws/executions-history';
import { StackNotFoundError, stackOutputs } from '../../adapters/aws/stack-outputs';
import { hostCommitLog } from '../../adapters/githost/commit-log';
import { gitHostApiUrlsFromEnv, gitHostSettings, transportFor } from '../../adapters/githost/settings';
import { StaticTokenSource, type TokenSource } from '../../adapters/githost/tokens';
import { SecretsManagerTokenSource } from '../../adapters/githost/tokens-secrets-manager';
import type { Provider } from '../../core/config/schema';
import { SteplineError } from '../../core/errors';
import {
  backfill,
  type CommitLog,
  computeDora,
  type DeploymentStore,
  parseSince,
  type Report,
  reportsIn,
} from '../../core/insight';
import type { CliIo, Flags } from './io';
import { type BackfillAnswer, METRICS_USAGE, printDora, str } from './metrics';

/**
 * `stepline metrics dora --aws` (ADR 0118): DORA's four keys of the deployed platform, from the deployment records the
 * status function writes to DynamoDB (the StatusReporter's deployments table), computed and printed exactly as the
 * local runtime's (core/insight `computeDora`, `printDora`). `--backfill` first makes the records of the runs that
 * ended before they were recorded, from the Step Functions executions' histories (core/insight/backfill.ts), writing
 * only the missing ones, with the commit times from the Git hosts' APIs through the tokens the status functions use.
 *
 * Where: the stack's outputs (`--stack-name`, default Stepline; CloudFormation DescribeStacks) `DeploymentsTableName`,
 * `StateMachineArn` and `GitHostTokensSecretArn`; or, with no lookup, `--deployments-table`, `--state-machine-arn`
 * and `--tokens-secret`. Credentials, region and endpoints are the AWS SDK's own chain (`AWS_PROFILE`, `AWS_REGION` or
 * `--region`, `AWS_ENDPOINT_URL[_<SERVICE>]`); the Git hosts' API URLs, the functions' `STEPLINE_<HOST>_API_URL`.
 */

/** Every failure of the AWS path, as one line that says what to do. */
export class AwsInsightError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsInsightError';
  }
}

/** The stack outputs read, by what they are for. */
export const STACK_OUTPUTS = {
  table: 'DeploymentsTableName',
  stateMachine: 'StateMachineArn',
  tokensSecret: 'GitHostTokensSecretArn',
} as const;

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const REFUSED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** A failed AWS call as what to do about it, naming the IAM action and the resource it was for. */
export function explain(error: unknown, action: string, resource: string): AwsInsightError {
  if (error instanceof AwsInsightError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new AwsInsightError(
      'no AWS credentials: the AWS SDK found none (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ' +
        '~/.aws, SSO, a container or instance role); sign in, e.g. `aws sso login`, or export AWS_PROFILE',
      options,
    );
  }
  if (/region is missing/i.test(message)) return noRegion(options);
  if (ACCESS_DENIED.has(name)) {
    return new AwsInsightError(
      `access denied: ${action} on ${resource}; the credentials' policies must allow it (${describeAwsError(error)})`,
      options,
    );
  }
  if (REFUSED.has(name)) {
    return new AwsInsightError(`the credentials were refused (${action}): ${describeAwsError(error)}`, options);
  }
  if (THROTTLED.has(name)) {
    return new AwsInsightError(
      `${action} on ${resource} was throttled, and still was after the SDK's retries (${describeAwsError(error)}): ` +
        'try again later, or give the SDK more attempts (AWS_MAX_ATTEMPTS)',
      options,
    );
  }
  if (name === 'ResourceNotFoundException' || name === 'StateMachineDoesNotExist') {
    return new AwsInsightError(`${resource} does not exist (${action}): ${message}`, options);
  }
  return new AwsInsightError(`${action} on ${resource} failed: ${describeAwsError(error)}`, options);
}

function noRegion(options?: ErrorOptions): AwsInsightError {
  return new AwsInsightError('no AWS region: give --region, or set AWS_REGION (or a region in AWS_PROFILE)', options);
}

/** What the command works on: the records' table, and for backfill the state machine and the tokens secret. */
export interface AwsTargets {
  readonly table: string;
  readonly stateMachineArn: string | null;
  readonly tokensSecret: string | null;
}

/** The SDK clients, all with the same region and retry settings; made when first used. */
interface AwsClients {
  readonly region: string;
  readonly cloudFormation: CloudFormationClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly secretsManager: SecretsManagerClient;
  destroy(): void;
}

/**
 * The clients. A backfill reads one history per execution, and GetExecutionHistory has a small token bucket: unless
 * AWS_MAX_ATTEMPTS or AWS_RETRY_MODE say otherwise, the SDK's adaptive retry mode (client-side rate limiting on
 * throttles) with 8 attempts, where its default is standard mode with 3.
 */
async function awsClients(region: string | undefined): Promise<AwsClients> {
  const retry =
    process.env['AWS_MAX_ATTEMPTS'] || process.env['AWS_RETRY_MODE']
      ? {}
      : { maxAttempts: 8, retryMode: 'adaptive' as const };
  const config = { ...(region ? { region } : {}), ...retry };
  const cloudFormation = new CloudFormationClient(config);
  let resolved: string | undefined;
  try {
    resolved = await cloudFormation.config.region();
  } catch (error) {
    cloudFormation.destroy();
    throw noRegion({ cause: error });
  }
  if (!resolved) throw noRegion();
  const clients = {
    cloudFormation,
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
    secretsManager: new SecretsManagerClient(config),
  };
  return {
    region: resolved,
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/**
 * The targets: from the flags when any of `--deployments-table`, `--state-machine-arn`, `--tokens-secret` is given
 * (no lookup), else from the stack's outputs. An output the command needs and the stack lacks is named.
 */
export async function awsTargets(flags: Flags, clients: AwsClients, io: Pick<CliIo, 'usage'>): Promise<AwsTargets> {
  const backfilling = Boolean(flags['backfill']);
  const explicit = {
    table: str(flags['deployments-table']) ?? null,
    stateMachineArn: str(flags['state-machine-arn']) ?? null,
    tokensSecret: str(flags['tokens-secret']) ?? null,
  };
  if (explicit.table || explicit.stateMachineArn || explicit.tokensSecret) {
    if (!explicit.table) throw io.usage(`--deployments-table is needed with --state-machine-arn or --tokens-secret`);
    if (backfilling && !explicit.stateMachineArn) throw io.usage('--backfill needs --state-machine-arn');
    return { ...explicit, table: explicit.table };
  }
  const stackName = str(flags['stack-name']) ?? 'Stepline';
  let outputs: Record<string, string>;
  try {
    outputs = await stackOutputs(clients.cloudFormation, stackName);
  } catch (error) {
    if (error instanceof StackNotFoundError) {
      throw new AwsInsightError(
        `stack ${stackName} not found in ${clients.region}: give --stack-name (the app's -c stackName) and --region, ` +
          'or --deployments-table and --state-machine-arn',
        { cause: error },
      );
    }
    throw explain(error, 'cloudformation:DescribeStacks', `stack ${stackName}`);
  }
  const needed = backfilling ? [STACK_OUTPUTS.table, STACK_OUTPUTS.stateMachine] : [STACK_OUTPUTS.table];
  const missing = needed.filter((key) => !outputs[key]);
  if (missing.length > 0) {
    throw new AwsInsightError(
      `stack ${stackName} has no output ${missing.join(' or ')} (a stack deployed before Stepline had delivery ` +
        `insight? deploy it again): or give --deployments-table${backfilling ? ' and --state-machine-arn' : ''}`,
    );
  }
  return {
    table: outputs[STACK_OUTPUTS.table]!,
    stateMachineArn: outputs[STACK_OUTPUTS.stateMachine] ?? null,
    tokensSecret: outputs[STACK_OUTPUTS.tokensSecret] ?? null,
  };
}

/** The store, each call's failure explained with its IAM action. */
function explainedStore(store: DynamoDeploymentStore, table: string): DeploymentStore {
  const on = `table ${table}`;
  const guard =
    <A extends unknown[], R>(action: string, f: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      f(...args).catch((error: unknown) => {
        throw explain(error, action, on);
      });
  return {
    recent: guard('dynamodb:Query', (stream, limit) => store.recent(stream, limit)),
    put: guard('dynamodb:PutItem', (record) => store.put(record)),
    list: guard('dynamodb:Scan', (query) => store.list(query)),
    putIncident: guard('dynamodb:PutItem', (incident) => store.putIncident(incident)),
    incidents: guard('dynamodb:Query', (since) => store.incidents(since)),
  };
}

/** A deploy whose commit times backfill could not read, and why. */
export interface UnreadCommits {
  readonly repository: string;
  readonly commit: string;
  readonly reason: string;
}

/**
 * The Git hosts' commit log as the status functions read it (their tokens secret, their transport), which notes each
 * deploy whose commits it could not read, and why: no token for that host, the secret unreadable, the host's answer.
 */
export function watchedCommitLog(
  tokens: TokenSource,
  secret: string | null,
): { log: CommitLog; unread: UnreadCommits[] } {
  const unread: UnreadCommits[] = [];
  // The functions' reader: a malformed STEPLINE_<HOST>_API_URL is refused by name, as at their cold start.
  const settings = gitHostSettings({ baseUrls: gitHostApiUrlsFromEnv(process.env) });
  const noToken = new Set<Provider>();
  let secretProblem: string | null = null;
  const watched: TokenSource = {
    async credential(provider) {
      try {
        const credential = await tokens.credential(provider);
        if (!credential) noToken.add(provider);
        return credential;
      } catch (error) {
        secretProblem = explain(error, 'secretsmanager:GetSecretValue', `secret ${secret}`).message;
        throw error;
      }
    },
  };
  const inner = hostCommitLog((provider) => transportFor(provider, settings, watched));
  const log: CommitLog = {
    async between(range) {
      let reason: string | null = null;
      let found: Awaited<ReturnType<CommitLog['between']>> = null;
      try {
        found = await inner.between(range);
      } catch (error) {
        reason = secretProblem ?? `${range.provider}'s API did not answer (${(error as Error).name})`;
      }
      if (!found) {
        reason ??= noToken.has(range.provider)
          ? secret
            ? `no ${range.provider} token in the tokens secret`
            : 'no tokens secret (--tokens-secret)'
          : `${range.provider}'s API did not give the commits up to it`;
        unread.push({ repository: `${range.provider} ${range.repository}`, commit: range.head, reason });
      }
      return found;
    },
  };
  return { log, unread };
}

/** The reports of environments' ends in every ended execution of the state machine. */
async function reportsOf(sfn: SFNClient, stateMachineArn: string): Promise<Report[]> {
  const reports: Report[] = [];
  let action = 'states:ListExecutions';
  let resource = stateMachineArn;
  try {
    for await (const execution of endedExecutions(sfn, stateMachineArn)) {
      action = 'states:GetExecutionHistory';
      resource = execution.executionArn ?? stateMachineArn;
      reports.push(...reportsIn(await executionHistory(sfn, resource)));
      action = 'states:ListExecutions';
      resource = stateMachineArn;
    }
  } catch (error) {
    throw explain(error, action, resource);
  }
  return reports;
}

async function backfillFromAws(clients: AwsClients, targets: AwsTargets, store: DeploymentStore) {
  const reports = await reportsOf(clients.sfn, targets.stateMachineArn!);
  const tokens: TokenSource = targets.tokensSecret
    ? new SecretsManagerTokenSource({ client: clients.secretsManager, secretId: targets.tokensSecret })
    : new StaticTokenSource({});
  const commits = watchedCommitLog(tokens, targets.tokensSecret);
  const summary = await backfill(reports, store, commits.log);
  return { ...summary, unreadCommits: commits.unread } satisfies BackfillAnswer;
}

export async function awsMetricsCommand(flags: Flags, io: CliIo): Promise<number> {
  const days = parseSince(str(flags['since']) ?? '30d');
  if (days === null) throw io.usage(`--since must be a number of days or weeks (30d, 12w)\n${METRICS_USAGE}`);
  let clients: AwsClients | null = null;
  try {
    clients = await awsClients(str(flags['region']));
    const targets = await awsTargets(flags, clients, io);
    const store = explainedStore(new DynamoDeploymentStore(targets.table, clients.dynamodb), targets.table);
    const backfilled = flags['backfill'] ? await backfillFromAws(clients, targets, store) : null;
    const environment = str(flags['environment']);
    const repository = str(flags['repository']);
    const report = computeDora(await store.list({}), await store.incidents(), {
      now: new Date(),
      days,
      ...(environment ? { environment } : {}),
      ...(repository ? { repository } : {}),
    });
    return printDora(io, report, { flags, backfilled });
  } catch (error) {
    if (!(error instanceof AwsInsightError)) throw error;
    process.stderr.write(`stepline: ${error.message}\n`);
    return 1;
  } finally {
    clients?.destroy();
  }
}
