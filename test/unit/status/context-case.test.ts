import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config/parse';
import { ConfigError } from '../../../core/errors';

/**
 * Status contexts are case-insensitive on GitHub ("This field is case-insensitive", the `context` of "Create a
 * commit status" in GitHub's OpenAPI description): suites whose names differ only in case would post to one context
 * and overwrite each other's status (issue 21, item 5). The configuration refuses them.
 */

function config(suites: string[]): unknown {
  return {
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: 'acme/shop',
        branches: [{ pattern: 'main' }],
        build: { imageRepository: 'acme/shop' },
        tests: suites.map((name) => ({ name, buildspec: `ci/${name}.yml` })),
      },
    ],
  };
}

describe('suite names and their status contexts', () => {
  it('refuses two suites whose names differ only in case, naming both', () => {
    // Act
    const act = () => validateConfig(config(['unit', 'e2e', 'Unit']), 'stepline.config.json');

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/repositories\[0\]\.tests\[2\]\.name: suite "Unit" differs from suite "unit" only in case/);
  });

  it('still says "defined twice" for the same name written twice', () => {
    expect(() => validateConfig(config(['unit', 'unit']), 'inline JSON')).toThrow(/suite "unit" is defined twice/);
  });

  it('takes suites whose names differ in more than case', () => {
    const parsed = validateConfig(config(['unit', 'unit-slow', 'E2E']), 'inline JSON');
    expect(parsed.repositories[0]?.tests.map((t) => t.name)).toEqual(['unit', 'unit-slow', 'E2E']);
  });
});
