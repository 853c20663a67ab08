import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';

/**
 * SDK clients pointed at a moto server, with fixed test credentials and region. moto accepts any credentials
 * unless SigV4 checking is turned on (`POST /moto-api/reset-auth`); every resource lives in moto's default account.
 */

/** moto's default account: the one every resource of these credentials lives in. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'eu-west-1';
export const MOTO_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;

export interface MotoClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly secretsManager: SecretsManagerClient;
  readonly sts: STSClient;
  /** Closes every client's sockets. */
  destroy(): void;
}

/** The settings each client takes: the endpoint, the test credentials and region, one attempt per call. */
export function motoClientConfig(endpoint: string) {
  return {
    endpoint,
    region: MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
    // A stand-in that fails, fails the test at once: no retry hides an error moto answered.
    maxAttempts: 1,
  };
}

export function motoClients(endpoint: string): MotoClients {
  const config = motoClientConfig(endpoint);
  const clients = {
    dynamodb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    // moto serves S3 at the endpoint's path (`/bucket/key`), not at `bucket.host`.
    s3: new S3Client({ ...config, forcePathStyle: true }),
    secretsManager: new SecretsManagerClient(config),
    sts: new STSClient(config),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
