import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { ConfigError } from '../../../core/errors';
import { configJsonSchema } from '../../../scripts/generate-schema';

/** The `handoffs` setting (ADR 0100): what is taken, what is refused, and the field each refusal names. */

function config(handoffs: unknown): unknown {
  return {
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: 'acme/shop',
        build: { imageRepository: 'acme/shop' },
        environments: {
          staging: { cluster: { type: 'eks', name: 'main' }, namespace: 'shop', manifests: 'deploy/staging' },
        },
      },
      { provider: 'gitlab', name: 'acme/shop', build: { imageRepository: 'acme/shop' } },
    ],
    ...(handoffs === undefined ? {} : { handoffs }),
  };
}

const JENKINS = {
  repositories: [{ name: 'acme/shop', provider: 'github', environments: ['staging'] }],
  registries: ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'ghcr.io/acme', 'registry.local:5000/team'],
  manifests: ['s3://acme-artifacts/jenkins/', 'file:///srv/manifests/'],
  defaultManifests: 's3://acme-artifacts/jenkins/{commit}',
};

function issues(value: unknown): { path: string; message: string }[] {
  try {
    validateConfig(value, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('handoffs', () => {
  it('is optional, and takes sources with repositories, environments, registries and manifests', () => {
    // Act
    const parsed = validateConfig(config({ sources: { jenkins: JENKINS } }), 'test');

    // Assess
    expect(validateConfig(config(undefined), 'test').handoffs).toBeUndefined();
    expect(parsed.handoffs?.sources['jenkins']).toEqual(JENKINS);
  });

  it.each([
    [
      'a repository that is not configured',
      { ...JENKINS, repositories: [{ name: 'acme/none', environments: ['staging'] }] },
      'handoffs.sources.jenkins.repositories[0].name',
      'not configured',
    ],
    [
      'a name two Git hosts share, without its provider',
      { ...JENKINS, repositories: [{ name: 'acme/shop', environments: ['staging'] }] },
      'handoffs.sources.jenkins.repositories[0].provider',
      'name its provider',
    ],
    [
      'an environment the repository does not define',
      { ...JENKINS, repositories: [{ name: 'acme/shop', provider: 'github', environments: ['qa'] }] },
      'handoffs.sources.jenkins.repositories[0].environments[0]',
      '"qa"',
    ],
    [
      'a registry with a scheme',
      { ...JENKINS, registries: ['https://ghcr.io/acme'] },
      'handoffs.sources.jenkins.registries[0]',
      'registry host',
    ],
    [
      'a manifests location that is not s3:// or file:///',
      { ...JENKINS, manifests: ['https://example.com/'] },
      'handoffs.sources.jenkins.manifests[0]',
      's3://',
    ],
    ['no registry', { ...JENKINS, registries: [] }, 'handoffs.sources.jenkins.registries', ''],
  ])('refuses %s, naming the field', (_, source, path, message) => {
    // Act
    const found = issues(config({ sources: { jenkins: source } }));

    // Assess
    expect(found).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('refuses a source name that could not be a header value', () => {
    // Act
    const found = issues(config({ sources: { 'Jenkins CI': JENKINS } }));

    // Assess
    expect(found.map((i) => i.path)).toContain('handoffs.sources.Jenkins CI');
  });

  it('is described by the published JSON Schema, which takes the same document', () => {
    // Prepare
    const validate = new Ajv2020({ strict: false }).compile(configJsonSchema());

    // Act
    const valid = validate(config({ sources: { jenkins: JENKINS } }));

    // Assess
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });
});
