import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDbApprovalStore } from '../../adapters/aws/approvals-dynamodb';
import { secretsManagerApprovalKeys } from '../../adapters/aws/approvals-keys';
import { stepFunctionsCallbacks } from '../../adapters/aws/approvals-sfn';
import { approvalKeysFromEnv } from '../../adapters/local/approvals-keys';
import { SqliteApprovalStore } from '../../adapters/local/approvals-sqlite';
import { APPROVAL_ENV, type ApprovalStore, type TaskCallbacks } from '../../core/approval/contracts';
import { ApprovalKeyError } from '../../core/approval/errors';
import { type IdentityMode, identityModeFromEnv } from './identity';

/**
 * The one place the approval functions read their environment (`APPROVAL_ENV`), at cold start: the store
 * (SQLite when `STEPLINE_APPROVALS_DB` is set, else DynamoDB), the signing keys (Secrets Manager when
 * `STEPLINE_APPROVAL_KEY_SECRET` is set, else `STEPLINE_APPROVAL_KEYS`), Step Functions, the identity mode.
 */
export interface ApprovalEnvironment {
  readonly store: ApprovalStore;
  readonly keys: () => Promise<readonly string[]>;
  readonly callbacks: TaskCallbacks;
  readonly baseUrl: string;
  readonly identity: IdentityMode;
}

export function approvalEnvironment(env: Readonly<Record<string, string | undefined>>): ApprovalEnvironment {
  const sqlite = env[APPROVAL_ENV.sqlitePath];
  const table = env[APPROVAL_ENV.table];
  if (!sqlite && !table) throw new TypeError(`set ${APPROVAL_ENV.table} (or ${APPROVAL_ENV.sqlitePath} locally)`);
  const store = sqlite ? new SqliteApprovalStore(sqlite) : new DynamoDbApprovalStore(new DynamoDBClient({}), table!);
  const secretId = env[APPROVAL_ENV.keySecret];
  const keys = secretId
    ? secretsManagerApprovalKeys({ client: new SecretsManagerClient({}), secretId })
    : async () => approvalKeysFromEnv(env[APPROVAL_ENV.keys]);
  const baseUrl = env[APPROVAL_ENV.baseUrl];
  if (!baseUrl) throw new ApprovalKeyError(`${APPROVAL_ENV.baseUrl} is not set: approval links need the pages' URL`);
  return {
    store,
    keys,
    callbacks: stepFunctionsCallbacks(new SFNClient({ endpoint: env[APPROVAL_ENV.sfnEndpoint] || undefined })),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    identity: identityModeFromEnv(env),
  };
}
