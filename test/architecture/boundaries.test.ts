import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGraph, describe as describeViolation, isKnown, readLayers, repositoryGraph } from './check';
import { importGraph, importsOf } from './imports';
import { KNOWN_EXCEPTIONS, LAYERS, RULES } from './rules';

const ROOT = resolve(__dirname, '..', '..');

/** The layers' sources, with `planted` files added or replaced: a synthetic graph of the repository. */
function graphWith(planted: Record<string, string>) {
  const { files, sources } = readLayers(ROOT);
  for (const [path, text] of Object.entries(planted)) sources.set(path, text);
  return importGraph(sources, files);
}

/** The violations that are not known exceptions, one line each. */
function newViolations(graph: ReturnType<typeof importGraph>): string[] {
  return checkGraph(graph)
    .filter((violation) => !isKnown(violation))
    .map(describeViolation);
}

describe('the import boundaries of ARCHITECTURE.md', () => {
  const graph = repositoryGraph(ROOT);

  it('holds in the repository: every import follows the layering, and no two folders import each other', () => {
    expect(newViolations(graph)).toEqual([]);
  });

  it('lists no known exception that no longer occurs (remove it from rules.ts when its owner fixes it)', () => {
    // Prepare: every violation, the known ones too (a known upward edge no longer hides its cycle)
    const violations = checkGraph(graph, RULES, []);

    // Act
    const stale = KNOWN_EXCEPTIONS.filter(
      (exception) => exception.rule !== 'lambda-bundle-local-only' && !violations.some((v) => isKnown(v, [exception])),
    );

    // Assess
    expect(stale).toEqual([]);
  });

  it.each([
    [
      'core/status/planted.ts',
      "import { readFileSync } from 'node:fs';\n",
      /\[core-is-pure\] core\/status\/planted\.ts: an import of node:fs/,
    ],
    [
      'core/intake/planted.ts',
      "import type { SFNClient } from '@aws-sdk/client-sfn';\n",
      /type-only import of @aws-sdk\/client-sfn, which the rule does not allow/,
    ],
    ['core/deploy/planted.ts', "import middy from '@middy/core';\n", /\[core-is-pure\] .* @middy\/core/],
    [
      'functions/coordination/planted.ts',
      "import Database from 'better-sqlite3';\n",
      /\[functions-compose-aws-only\] .* better-sqlite3/,
    ],
    [
      'functions/deploy/planted.ts',
      "export { FileManifestSource } from '../../adapters/local/artifacts';\n",
      /\[functions-compose-aws-only\] .* adapters\/local\/artifacts\.ts/,
    ],
    [
      'functions/status/planted.ts',
      "const { Engine } = require('../../local/engine');\n",
      /\[functions-compose-aws-only\] .* local\/engine\/index\.ts/,
    ],
    [
      'infra/constructs/planted.ts',
      "import { createStatusHandler } from '../../functions/status/handler';\n",
      /\[infra-imports-cdk-and-contracts\] .* functions\/status\/handler\.ts/,
    ],
    [
      'local/runtime/planted.ts',
      "import { handler } from '../../functions/status/index';\n",
      /\[local-never-infra\] .* functions\/status\/index\.ts/,
    ],
    [
      'local/demo/planted.ts',
      "const stack = await import('../../infra/stacks/stepline-stack');\n",
      /\[local-never-infra\] .* infra\/stacks\/stepline-stack\.ts/,
    ],
    [
      'adapters/githost/planted.ts',
      "import { statusSettings } from '../../functions/status/settings';\n",
      /\[adapters-below-functions\]/,
    ],
    [
      'adapters/aws/planted.ts',
      "import { SqliteParkingStore } from '../local/parking';\n",
      /\[aws-adapters-never-local\]/,
    ],
    ['core/status/planted.ts', "import { nothing } from './no-such-module';\n", /\[resolvable\] .* \.\/no-such-module/],
  ])('fails on a planted violation: %s importing %j', (path, text, expected) => {
    // Act
    const violations = newViolations(graphWith({ [path]: text }));

    // Assess: the rule's violation (an upward import may close a cycle besides)
    expect(violations).toContainEqual(expect.stringMatching(expected));
    expect(violations.every((v) => v.includes('planted.ts') || v.startsWith('[no-cycles]'))).toBe(true);
  });

  it('fails on a planted cycle between two top-level folders, naming both and a file that closes it', () => {
    // Act: core imports a function (upward), which imports core.
    const violations = newViolations(
      graphWith({ 'core/status/planted.ts': "import '../../functions/shared/http';\n" }),
    );

    // Assess
    expect(violations).toContainEqual(
      expect.stringMatching(/^\[no-cycles\] core: core imports functions \(core\/status\/planted\.ts\)/),
    );
    expect(violations).toContainEqual(
      expect.stringMatching(/^\[no-cycles\] functions: functions imports core .*core ↔ functions/),
    );
  });

  it('fails on a planted cycle between two rooms of local/, however long', () => {
    // Act: the store reaches the engine, which reaches the services, which reach the store.
    const violations = newViolations(
      graphWith({
        'local/store/planted.ts': "import '../engine/planted';\n",
        'local/engine/planted.ts': "import '../services/planted';\n",
        'local/services/planted.ts': "import '../store/planted';\n",
      }),
    );

    // Assess
    expect(violations.filter((v) => v.startsWith('[no-cycles]'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/local\/engine ↔ local\/services ↔ local\/store/)]),
    );
  });

  describe('in a temporary copy of the repository with a planted file', () => {
    const copy = mkdtempSync(join(tmpdir(), 'stepline-boundaries-'));
    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    it('fails where a function imports the local SQLite store, and passes once the file is gone', () => {
      // Prepare
      for (const layer of LAYERS) cpSync(join(ROOT, layer), join(copy, layer), { recursive: true });
      const planted = join(copy, 'functions/coordination/store.ts');
      writeFileSync(planted, "export { SqliteCoordinationStore } from '../../adapters/local/coordination';\n");

      // Act
      const withPlant = newViolations(repositoryGraph(copy));
      rmSync(planted);
      const without = newViolations(repositoryGraph(copy));

      // Assess
      expect(withPlant).toEqual([
        '[functions-compose-aws-only] functions/coordination/store.ts: an import of adapters/local/coordination.ts, which the rule forbids',
      ]);
      expect(without).toEqual([]);
    });
  });
});

describe('reading the imports of a file', () => {
  it('finds every form of import, and which ones TypeScript erases', () => {
    // Prepare
    const source = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import { type C, type D } from 'c';",
      "import { type E, f } from 'e';",
      "import * as g from 'g';",
      "import 'h';",
      "export * from 'i';",
      "export type { J } from 'j';",
      'import {',
      '  k,',
      '  l,',
      "} from 'k';",
      "const m = await import('m');",
      "const n = require('n');",
      "let o: import('o').O;",
      "type P = typeof import('p');",
    ].join('\n');

    // Act
    const imports = importsOf(source).map((edge) => `${edge.specifier}${edge.typeOnly ? ' (type)' : ''}`);

    // Assess
    expect(imports).toEqual([
      'a',
      'b (type)',
      'c (type)',
      'e',
      'g',
      'h',
      'i',
      'j (type)',
      'k',
      'm',
      'n',
      'o (type)',
      'p (type)',
    ]);
  });

  it('takes no specifier from a comment, a string, a template or a regular expression', () => {
    // Prepare
    const source = [
      "// import x from 'comment';",
      "/* require('block') */",
      'const script = "require(\'esbuild\').build(options)";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source under test holds a template literal
      "const template = `import y from 'template' ${require('inside')} and ${`nested ${'deep'}`} import('after')`;",
      "const pattern = /import z from 'regex'/;",
      "const ratio = a / b; const other = c / d; import real from 'real';",
    ].join('\n');

    // Act
    const imports = importsOf(source).map((edge) => edge.specifier);

    // Assess
    expect(imports).toEqual(['inside', 'real']);
  });
});
