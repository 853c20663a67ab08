import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerHandoffSecrets } from '../../../adapters/aws/handoff-secrets';
import { SecretsUnavailableError } from '../../../core/intake/errors';
import { motoClientConfig } from '../../support/moto/clients';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The hand-off sources' secrets (adapters/aws/handoff-secrets.ts, docs/adr/0100) against moto, on the secret the
 * synthesized template declares (WebhookIntake's HandoffSecret: `{"default": "<40 characters>"}` until an operator
 * adds the sources). A rotation is a PutSecretValue, seen once the cache time is over.
 */

const moto = useMoto({
  select: (_id, resource) => resource.Type === 'AWS::SecretsManager::Secret',
});

const sm = (): SecretsManagerClient => moto().clients.secretsManager;
const handoffSecret = () =>
  onlyOfType(moto().standIns, 'AWS::SecretsManager::Secret', 'WebhookIntakeHandoffSecret').ref;

describe('hand-off secrets from Secrets Manager (moto)', () => {
  it('reads the generated secret as the "default" source, and no other', async () => {
    // Prepare
    const id = handoffSecret();
    const stored = JSON.parse((await sm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString!);

    // Act
    const source = new SecretsManagerHandoffSecrets(sm(), id, 60_000);

    // Assess
    expect(stored).toEqual({ default: expect.stringMatching(/^[A-Za-z0-9]{40}$/) });
    expect(await source.get('default')).toEqual({ current: stored.default, previous: null });
    expect(await source.get('jenkins')).toBeNull();
  });

  it('sees sources added and rotated once its cache time is over', async () => {
    // Prepare
    const id = handoffSecret();
    let now = 0;
    const source = new SecretsManagerHandoffSecrets(sm(), id, 60_000, () => now);
    await source.get('default');
    await sm().send(
      new PutSecretValueCommand({
        SecretId: id,
        SecretString: JSON.stringify({ jenkins: { current: 'new', previous: 'old' }, circleci: 'c' }),
      }),
    );

    // Act
    const cached = await source.get('jenkins');
    now = 60_000;
    const refreshed = [await source.get('jenkins'), await source.get('circleci')];

    // Assess
    expect(cached).toBeNull();
    expect(refreshed).toEqual([
      { current: 'new', previous: 'old' },
      { current: 'c', previous: null },
    ]);
  });

  it('fails with SecretsUnavailableError naming the secret, never its value, when it cannot be read', async () => {
    // Prepare
    const source = new SecretsManagerHandoffSecrets(
      new SecretsManagerClient(motoClientConfig(moto().server.endpoint)),
      'stepline/no-such-secret',
      60_000,
    );

    // Act
    const error = await source.get('jenkins').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as Error).message).toMatch(/stepline\/no-such-secret: ResourceNotFoundException/);
  });
});
