import {
  CreateSecretCommand,
  DeleteSecretCommand,
  type SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSecretsManagerClient, SecretsManagerWebhookSecrets } from '../../../adapters/aws/secrets';
import { StaticWebhookSecrets } from '../../../adapters/local/secrets';
import { SecretsUnavailableError } from '../../../core/intake/errors';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto/clients';
import { type MotoServer, startMoto } from '../../support/moto/server';
import { awsError, stubHttp } from './stub-http';

/**
 * Webhook secrets through the SDK's SecretsManagerClient, against moto_server's Secrets Manager; throttling, which
 * moto does not produce, from HTTP stubbed under the client.
 */

const SECRET_ID = 'stepline/webhook';

let moto: MotoServer;
let client: SecretsManagerClient;
/** GetSecretValue calls sent through `client` (one per send, whatever the SDK's retries). */
let reads = 0;
let now = 0;

const source = (secretId = SECRET_ID) => new SecretsManagerWebhookSecrets(client, secretId, 60_000, () => now);

beforeAll(async () => {
  moto = await startMoto();
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  client?.destroy();
  client = createSecretsManagerClient({
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand') reads += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countReads' },
  );
  reads = 0;
  now = 0;
});

describe('webhook secrets from Secrets Manager (moto)', () => {
  it('reads the secret once per TTL, not once per delivery', async () => {
    // Prepare
    await client.send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: '{"current":"a","previous":"b"}' }));
    const secrets = source();

    // Act
    const first = await secrets.get('github');
    now = 59_000;
    await secrets.get('gitlab');
    now = 61_000;
    await secrets.get('github');

    // Assess
    expect(first).toEqual({ current: 'a', previous: 'b' });
    expect(reads).toBe(2);
  });

  it('reads the rotated value once the TTL has passed', async () => {
    // Prepare
    await client.send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: 'old' }));
    const secrets = source();
    await secrets.get('github');
    await client.send(
      new UpdateSecretCommand({ SecretId: SECRET_ID, SecretString: '{"current":"new","previous":"old"}' }),
    );
    now = 61_000;

    // Act
    const rotated = await secrets.get('github');

    // Assess
    expect(rotated).toEqual({ current: 'new', previous: 'old' });
  });

  it('keeps serving the cached secret when a refresh fails', async () => {
    // Prepare
    await client.send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: 'old-but-good' }));
    const secrets = source();
    await secrets.get('github');
    await client.send(new DeleteSecretCommand({ SecretId: SECRET_ID, ForceDeleteWithoutRecovery: true }));
    now = 120_000;

    // Act
    const stale = await secrets.get('github');

    // Assess
    expect(stale).toEqual({ current: 'old-but-good', previous: null });
    expect(reads).toBe(2);
  });

  it('fails with SecretsUnavailableError naming the error code when the secret was never read', async () => {
    // Act
    const error = await source('stepline/missing')
      .get('github')
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as Error).message).toBe(
      'could not read the webhook secret stepline/missing: ResourceNotFoundException',
    );
  });

  it('fails with SecretsUnavailableError when the secret has no string value', async () => {
    // Prepare
    await client.send(new CreateSecretCommand({ Name: SECRET_ID, SecretBinary: new Uint8Array([0, 1, 2]) }));

    // Act
    const act = source().get('github');

    // Assess
    await expect(act).rejects.toThrow(/has no string value/);
  });

  it('answers null for a provider the secret does not cover', async () => {
    // Prepare
    await client.send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: '{"github":"only"}' }));

    // Act
    const secrets = await source().get('bitbucket');

    // Assess
    expect(secrets).toBeNull();
  });
});

describe('webhook secrets when Secrets Manager throttles (stubbed HTTP)', () => {
  it('gives up after three attempts with SecretsUnavailableError, and keeps a cached value meanwhile', async () => {
    // Prepare
    const http = stubHttp(() => awsError(400, 'ThrottlingException', 'Rate exceeded'));
    http.enqueue({ status: 200, body: { SecretString: 'cached' } });
    const throttled = createSecretsManagerClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: http.requestHandler,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
    });
    const cold = new SecretsManagerWebhookSecrets(throttled, SECRET_ID, 60_000, () => now);
    const warm = new SecretsManagerWebhookSecrets(throttled, SECRET_ID, 60_000, () => now);
    await warm.get('github');
    now = 120_000;

    // Act
    const stale = await warm.get('github');
    const error = await cold.get('github').catch((e: unknown) => e);

    // Assess
    expect(stale).toEqual({ current: 'cached', previous: null });
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as Error).message).toMatch(/: ThrottlingException$/);
    expect(http.calls('GetSecretValue')).toHaveLength(1 + 3 + 3);
  });
});

describe('webhook secrets given directly', () => {
  it('gives the same secrets to every provider, or each its own', async () => {
    // Act
    const shared = await new StaticWebhookSecrets({ current: 'x', previous: null }).get('gitlab');
    const own = await new StaticWebhookSecrets({ github: { current: 'g', previous: null } }).get('gitlab');

    // Assess
    expect(shared).toEqual({ current: 'x', previous: null });
    expect(own).toBeNull();
  });
});
