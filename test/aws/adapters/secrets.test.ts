import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { secretsManagerApprovalKeys } from '../../../adapters/aws/approvals-keys';
import { SecretsManagerWebhookSecrets } from '../../../adapters/aws/secrets';
import { SecretsManagerTokenSource } from '../../../adapters/githost/tokens-secrets-manager';
import { ApprovalKeyError } from '../../../core/approval/errors';
import { SecretsUnavailableError } from '../../../core/intake/errors';
import { motoClientConfig } from '../../support/moto/clients';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The three readers of Secrets Manager against moto, each on the secret the synthesized template declares for it:
 * the webhook secret (adapters/aws/secrets.ts, generated: 40 characters, no punctuation), the Git host tokens
 * (adapters/githost/tokens-secrets-manager.ts, `{}` until an operator fills it) and the approval signing keys
 * (adapters/aws/approvals-keys.ts, generated: 48 characters). A rotation is a PutSecretValue: the new version takes
 * the AWSCURRENT label, which GetSecretValue reads when it names no version (Secrets Manager API Reference,
 * PutSecretValue and GetSecretValue); each reader sees it once its cache time is over.
 */

const moto = useMoto({
  select: (_id, resource) => resource.Type === 'AWS::SecretsManager::Secret',
});

const secret = (prefix: string) => onlyOfType(moto().standIns, 'AWS::SecretsManager::Secret', prefix).ref;
const sm = (): SecretsManagerClient => moto().clients.secretsManager;
const put = (secretId: string, value: string) =>
  sm().send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));

/** A Secrets Manager client for moto that counts the GetSecretValue calls it sends. */
function countingClient(): { client: SecretsManagerClient; reads: () => number } {
  let reads = 0;
  const client = new SecretsManagerClient(motoClientConfig(moto().server.endpoint));
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetSecretValueCommand') reads++;
      return next(args);
    },
    { step: 'initialize', name: 'countReads' },
  );
  return { client, reads: () => reads };
}

describe('webhook secrets from Secrets Manager (moto)', () => {
  it('reads the generated secret as the current secret of every provider', async () => {
    // Prepare
    const id = secret('WebhookIntakeWebhookSecret');
    const stored = (await sm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString;

    // Act
    const source = new SecretsManagerWebhookSecrets(sm(), id, 60_000);
    const [github, bitbucket] = [await source.get('github'), await source.get('bitbucket')];

    // Assess
    expect(stored).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(github).toEqual({ current: stored, previous: null });
    expect(bitbucket).toEqual({ current: stored, previous: null });
  });

  it('picks up a rotation with the previous secret once its cache time is over, not before', async () => {
    // Prepare
    const id = secret('WebhookIntakeWebhookSecret');
    await put(id, 'old-secret');
    let now = 0;
    const { client, reads } = countingClient();
    const source = new SecretsManagerWebhookSecrets(client, id, 60_000, () => now);
    await Promise.all([source.get('github'), source.get('gitlab'), source.get('github')]);
    await put(id, JSON.stringify({ current: 'new-secret', previous: 'old-secret', gitlab: 'gitlab-own' }));

    // Act
    now = 59_999;
    const cached = await source.get('github');
    now = 60_000;
    const rotated = await source.get('github');
    const gitlab = await source.get('gitlab');

    // Assess
    expect(cached).toEqual({ current: 'old-secret', previous: null });
    expect(rotated).toEqual({ current: 'new-secret', previous: 'old-secret' });
    expect(gitlab).toEqual({ current: 'gitlab-own', previous: null });
    expect(reads()).toBe(2);
  });

  it('fails with SecretsUnavailableError naming ResourceNotFoundException for a secret that does not exist', async () => {
    // Act
    const act = new SecretsManagerWebhookSecrets(sm(), 'stepline/no-such-secret', 60_000).get('github');

    // Assess
    await expect(act).rejects.toThrow(SecretsUnavailableError);
    await expect(act).rejects.toThrow(
      'could not read the webhook secret stepline/no-such-secret: ResourceNotFoundException',
    );
  });

  it('fails with SecretsUnavailableError when the secret holds binary, not a string', async () => {
    // Prepare
    await sm().send(new CreateSecretCommand({ Name: 'stepline/binary', SecretBinary: new Uint8Array([0, 1, 2]) }));

    // Act
    const act = new SecretsManagerWebhookSecrets(sm(), 'stepline/binary', 60_000).get('github');

    // Assess
    await expect(act).rejects.toThrow('the webhook secret stepline/binary has no string value');
  });
});

describe('Git host tokens from Secrets Manager (moto)', () => {
  it('has no credential for any provider while the secret is the template\'s "{}"', async () => {
    // Prepare
    const source = new SecretsManagerTokenSource({ client: sm(), secretId: secret('StatusReporterGitHostTokens') });

    // Act
    const credentials = await Promise.all([
      source.credential('github'),
      source.credential('gitlab'),
      source.credential('bitbucket'),
    ]);

    // Assess
    expect(credentials).toEqual([null, null, null]);
  });

  it('reads the JSON an operator puts once for every provider, and again once the cache time is over', async () => {
    // Prepare
    const id = secret('StatusReporterGitHostTokens');
    await put(id, JSON.stringify({ github: 'ghp_old', bitbucket: { username: 'bot', appPassword: 'pw' } }));
    let now = 0;
    const { client, reads } = countingClient();
    const source = new SecretsManagerTokenSource({ client, secretId: id, ttlMs: 1_000, now: () => now });
    const before = await Promise.all([source.credential('github'), source.credential('bitbucket')]);
    now = 999;
    const cached = await source.credential('github');
    await put(id, JSON.stringify({ github: 'ghp_new', gitlab: 'glpat-1' }));

    // Act
    now = 1_000;
    const after = await Promise.all([
      source.credential('github'),
      source.credential('gitlab'),
      source.credential('bitbucket'),
    ]);

    // Assess
    expect(before).toEqual([
      { scheme: 'bearer', token: 'ghp_old' },
      { scheme: 'basic', username: 'bot', password: 'pw' },
    ]);
    expect(cached).toEqual({ scheme: 'bearer', token: 'ghp_old' });
    expect(reads()).toBe(2);
    expect(after).toEqual([
      { scheme: 'bearer', token: 'ghp_new' },
      { scheme: 'private-token', token: 'glpat-1' },
      null,
    ]);
  });

  it('refuses a secret that is not a JSON object, without its value in the message', async () => {
    // Prepare
    const id = secret('StatusReporterGitHostTokens');
    await put(id, 'ghp_plain-token');

    // Act
    const act = new SecretsManagerTokenSource({ client: sm(), secretId: id }).credential('github');

    // Assess
    await expect(act).rejects.toThrow(`secret ${id} is not a JSON object of Git host tokens`);
    await expect(act).rejects.not.toThrow(/ghp_plain-token/);
  });
});

describe('approval signing keys from Secrets Manager (moto)', () => {
  it('reads the generated key, then the current and previous keys of a rotation after the cache time', async () => {
    // Prepare
    const id = secret('ApprovalsSigningKeys');
    const generated = (await sm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString!;
    let now = 0;
    const { client, reads } = countingClient();
    const keys = secretsManagerApprovalKeys({ client, secretId: id, ttlMs: 300_000, now: () => now });
    const first = await keys();
    await put(id, JSON.stringify({ current: 'key-2', previous: generated }));

    // Act
    now = 299_999;
    const cached = await keys();
    now = 300_000;
    const rotated = await keys();

    // Assess
    expect(generated).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(first).toEqual([generated]);
    expect(cached).toEqual([generated]);
    expect(rotated).toEqual(['key-2', generated]);
    expect(reads()).toBe(2);
  });

  it('refuses a JSON document that holds no key, and reads again on the next call', async () => {
    // Prepare
    const id = secret('ApprovalsSigningKeys');
    await put(id, JSON.stringify({ curent: 'misspelt' }));
    const keys = secretsManagerApprovalKeys({ client: sm(), secretId: id, now: () => 0 });

    // Act
    const refused = keys();
    await refused.catch(() => undefined);
    await put(id, JSON.stringify({ current: 'key-2' }));
    const again = await keys();

    // Assess
    await expect(refused).rejects.toThrow(ApprovalKeyError);
    await expect(refused).rejects.toThrow(`secret ${id} has no "current" key`);
    expect(again).toEqual(['key-2']);
  });
});
