import { describe, expect, it } from 'vitest';
import { SecretsUnavailableError } from '../../../core/intake/errors';
import { parseSecretValue } from '../../../core/intake/secrets';

describe('the stored form of the webhook secret', () => {
  it('reads a plain string as the current secret of every provider', () => {
    // Act
    const secrets = parseSecretValue('  s3cret\n', 'secret x');

    // Assess
    expect(secrets).toEqual({
      github: { current: 's3cret', previous: null },
      gitlab: { current: 's3cret', previous: null },
      bitbucket: { current: 's3cret', previous: null },
    });
  });

  it('reads current and previous, with per-provider entries taking precedence', () => {
    // Act
    const secrets = parseSecretValue(
      JSON.stringify({
        current: 'new',
        previous: 'old',
        gitlab: 'gitlab-token',
        bitbucket: { current: 'b2', previous: 'b1' },
      }),
      'secret x',
    );

    // Assess
    expect(secrets).toEqual({
      github: { current: 'new', previous: 'old' },
      gitlab: { current: 'gitlab-token', previous: null },
      bitbucket: { current: 'b2', previous: 'b1' },
    });
  });

  it('leaves a provider without an entry unconfigured when there is no shared secret', () => {
    // Act
    const secrets = parseSecretValue(JSON.stringify({ github: 'only-github' }), 'secret x');

    // Assess
    expect(secrets).toEqual({ github: { current: 'only-github', previous: null } });
  });

  it.each([
    ['an empty value', '   ', /secret x is empty/],
    ['broken JSON', '{"current": ', /is not JSON/],
    ['an empty current secret', '{"current": ""}', /secret x.current must be a non-empty string/],
    ['a previous secret that is not a string', '{"current": "a", "previous": 3}', /secret x.previous/],
    ['JSON with nothing usable', '{"other": "a"}', /neither "current" nor an entry/],
  ])('refuses %s without quoting the secret', (_name, text, message) => {
    // Act
    const act = () => parseSecretValue(text, 'secret x');

    // Assess
    expect(act).toThrow(SecretsUnavailableError);
    expect(act).toThrow(message);
  });
});
