import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDbApprovalStore } from '../../adapters/aws/approvals-dynamodb';
import { secretsManagerApprovalKeys } from '../../adapters/aws/approvals-keys';
import { secretsManagerOAuthClient } from '../../adapters/aws/approvals-oauth';
import { stepFunctionsCallbacks } from '../../adapters/aws/approvals-sfn';
import { APPROVAL_ENV, type ApprovalStore, type TaskCallbacks } from '../../core/approval/contracts';
import { ApprovalKeyError } from '../../core/approval/errors';
import type { OAuthClient } from '../../core/approval/sign-in';
import { parseApprovalKeys } from '../../core/approval/token';
import { PROVIDERS } from '../../core/config/providers';
import type { Provider } from '../../core/config/schema';
import { SIGN_IN_ENV } from '../../core/contracts/environment';
import { type IdentityMode, identityModeFromEnv } from './identity';
import { type HostSignInConfig, signInHosts, signInUrlsFromEnv } from './sign-in';

/**
 * The one place the approval functions read their environment (`APPROVAL_ENV`, `SIGN_IN_ENV`), at cold start:
 * the DynamoDB store, the signing keys (Secrets Manager when `STEPLINE_APPROVAL_KEY_SECRET` is set, else
 * `STEPLINE_APPROVAL_KEYS`), Step Functions, and who is deciding (each host's sign-in: its URLs and its OAuth client,
 * from a Secrets Manager secret or from the environment). The local runtime composes its own (local/runtime): no
 * local adapter reaches this bundle.
 */
export interface ApprovalEnvironment {
  readonly store: ApprovalStore;
  readonly keys: () => Promise<readonly string[]>;
  readonly callbacks: TaskCallbacks;
  readonly baseUrl: string;
  readonly identity: IdentityMode;
}

type Env = Readonly<Record<string, string | undefined>>;

function lazySecretsManager(): () => SecretsManagerClient {
  let client: SecretsManagerClient | null = null;
  return () => {
    client ??= new SecretsManagerClient({});
    return client;
  };
}

/** Each host's sign-in settings: URLs from the environment (or the host's own), the client from where it is kept. */
export function signInConfigFromEnv(env: Env, secrets: () => SecretsManagerClient): Record<Provider, HostSignInConfig> {
  const config = {} as Record<Provider, HostSignInConfig>;
  for (const provider of PROVIDERS) {
    const names = SIGN_IN_ENV[provider];
    const clientId = env[names.clientId];
    const clientSecret = env[names.clientSecret];
    const secretId = env[names.credentialsSecret];
    let client: () => Promise<OAuthClient | null> = async () => null;
    if (clientId && clientSecret) client = async () => ({ clientId, clientSecret });
    else if (secretId) {
      let read: (() => Promise<OAuthClient | null>) | null = null;
      client = () => {
        read ??= secretsManagerOAuthClient({ client: secrets(), secretId });
        return read();
      };
    }
    config[provider] = { ...signInUrlsFromEnv(env, provider), client };
  }
  return config;
}

export function approvalEnvironment(env: Env): ApprovalEnvironment {
  const table = env[APPROVAL_ENV.table];
  if (!table) throw new TypeError(`set ${APPROVAL_ENV.table}`);
  const secrets = lazySecretsManager();
  const secretId = env[APPROVAL_ENV.keySecret];
  const keys = secretId
    ? secretsManagerApprovalKeys({ client: secrets(), secretId })
    : async () => parseApprovalKeys(env[APPROVAL_ENV.keys]);
  const baseUrl = env[APPROVAL_ENV.baseUrl];
  if (!baseUrl) throw new ApprovalKeyError(`${APPROVAL_ENV.baseUrl} is not set: approval links need the pages' URL`);
  return {
    store: new DynamoDbApprovalStore(new DynamoDBClient({}), table),
    keys,
    callbacks: stepFunctionsCallbacks(new SFNClient({ endpoint: env[APPROVAL_ENV.sfnEndpoint] || undefined })),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    identity: identityModeFromEnv(env, signInHosts(signInConfigFromEnv(env, secrets))),
  };
}
