import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { ConfigError } from '../../../core/errors';

/** An environment's `delivery` (core/config/delivery.ts, ADR 0102): defaults, and what is refused with which message. */

const SAMPLE = JSON.parse(readFileSync(join(__dirname, '../../../local/demo/sample/stepline.config.json'), 'utf8'));

function withDelivery(delivery: unknown) {
  const config = structuredClone(SAMPLE);
  config.repositories[0].environments.staging.delivery = delivery;
  return config;
}

function issues(delivery: unknown): string[] {
  try {
    validateConfig(withDelivery(delivery), 'inline');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

const base = {
  type: 'gitops',
  repository: { provider: 'github', name: 'acme/deploy' },
  path: 'apps/shop',
  format: { type: 'kustomize' },
  controller: { kind: 'Application', name: 'shop-staging' },
};

describe('an environment delivery', () => {
  it('defaults to the main branch and commit mode', () => {
    const config = validateConfig(withDelivery(base), 'inline');
    expect(config.repositories[0]?.environments['staging']?.delivery).toEqual({
      ...base,
      branch: 'main',
      mode: 'commit',
    });
  });

  it('takes each format with its own fields', () => {
    for (const format of [
      { type: 'helm', digestKey: 'image.digest', repositoryKey: 'image.repository' },
      { type: 'flux', policy: 'flux-system:shop-api' },
      { type: 'argocdSource', image: 'shop/api' },
    ]) {
      expect(issues({ ...base, format, mode: 'pullRequest' })).toEqual([]);
    }
  });

  it('refuses a path that leaves the repository, a policy without its namespace and an unknown mode, naming the field', () => {
    const found = [
      ...issues({ ...base, path: '../other' }),
      ...issues({ ...base, format: { type: 'flux', policy: 'shop-api' } }),
      ...issues({ ...base, mode: 'push' }),
    ];
    expect(found).toEqual([
      expect.stringMatching(/delivery\.path: must be a path relative to the repository root, without \.\./),
      expect.stringMatching(/delivery\.format\.policy: must be "<namespace>:<image policy name>"/),
      expect.stringMatching(/delivery\.mode: /),
    ]);
  });
});
