import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  configDigest,
  openSealedConfig,
  parseConfig,
  type SteplineConfig,
  sealConfig,
} from '../../../core/config';

const EXAMPLE = join(__dirname, '../../../stepline.config.json');

/** The same value with the keys of every object in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).reverse();
  return Object.fromEntries(entries.map(([key, member]) => [key, reversedKeys(member)]));
}

/** A sealed document, after JSON, as a test may tamper with it. */
interface Tampered {
  stepline?: string;
  version?: number;
  digest?: string;
  config: { repositories: Array<{ build: { imageRepository: string }; extra?: boolean }> };
}

function example(): SteplineConfig {
  return parseConfig(readFileSync(EXAMPLE, 'utf8'), 'stepline.config.json');
}

describe('canonical JSON', () => {
  it.each([
    [
      'keys sorted at every depth',
      { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    ],
    ['no whitespace, strings escaped as JSON escapes them', { s: 'a "q"\n\u2028' }, '{"s":"a \\"q\\"\\n\u2028"}'],
    ['members that are undefined left out', { a: undefined, b: true }, '{"b":true}'],
    ['numbers as JSON writes them', [1e21, 0.1, -0, 5], '[1e+21,0.1,0,5]'],
  ])('has %s', (_name, value, text) => {
    // Act + Assess
    expect(canonicalJson(value)).toBe(text);
  });

  it('is the same text whatever order the keys were written in', () => {
    // Act + Assess
    expect(canonicalJson({ a: 1, b: [{ x: 1, y: 2 }] })).toBe(canonicalJson({ b: [{ y: 2, x: 1 }], a: 1 }));
  });
});

describe('a sealed configuration', () => {
  it('carries the marker, the version, the SHA-256 of the canonical JSON and the validated configuration', () => {
    // Prepare
    const config = example();

    // Act
    const sealed = sealConfig(config);

    // Assess
    expect(sealed).toEqual({ stepline: 'sealed-config', version: 1, digest: configDigest(config), config });
    expect(sealed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // defaults applied: what the parser gives, not only what the file says (its second suite names no timeout)
    expect(sealed.config.repositories[0]!.tests[1]).toEqual({
      name: 'integration',
      buildspec: 'services/api/ci/integration.yml',
      timeoutMinutes: 60,
    });
  });

  it('opens, through JSON and back, to the configuration it sealed', () => {
    // Prepare
    const config = example();
    const text = JSON.stringify(sealConfig(config), null, 2);

    // Act
    const opened = openSealedConfig(JSON.parse(text));

    // Assess
    expect(opened).toEqual(config);
  });

  it('opens whatever the order of its keys (the digest is over the canonical form)', () => {
    // Prepare
    const sealed = sealConfig(example());
    const reordered = JSON.parse(JSON.stringify(reversedKeys(sealed)));
    expect(JSON.stringify(reordered.config)).not.toBe(JSON.stringify(sealed.config));

    // Act
    const opened = openSealedConfig(reordered);

    // Assess
    expect(opened).toEqual(sealed.config);
  });

  it.each([
    ['a changed value', (s: Tampered) => (s.config.repositories[0]!.build.imageRepository = 'evil/repo')],
    ['an added field', (s: Tampered) => (s.config.repositories[0]!.extra = true)],
    ['a removed repository', (s: Tampered) => s.config.repositories.pop()],
    ['another digest', (s: Tampered) => (s.digest = `sha256:${'0'.repeat(64)}`)],
    ['no digest', (s: Tampered) => delete s.digest],
    ['another marker', (s: Tampered) => (s.stepline = 'config')],
    ['another version', (s: Tampered) => (s.version = 2)],
    ['a configuration that is not an object', (s: Tampered) => ((s as { config: unknown }).config = [s.config])],
  ])('does not open with %s', (_name, tamper) => {
    // Prepare
    const sealed = JSON.parse(JSON.stringify(sealConfig(example())));
    tamper(sealed);

    // Act
    const opened = openSealedConfig(sealed);

    // Assess
    expect(opened).toBeNull();
  });

  it.each([null, 'text', 42, [], { version: 1, repositories: [] }])('is not found in %j', (value) => {
    // Act + Assess
    expect(openSealedConfig(value)).toBeNull();
  });
});
