import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { SteplineFunction } from '../../infra/constructs/SteplineFunction';
import { testStack } from '../infra/helpers';
import { bundleInputs, functionBuildOptions, functionNames, localOnlyInputs, nodejsFunctionOptions } from './bundles';
import { isKnown } from './check';
import { KNOWN_EXCEPTIONS } from './rules';

const ROOT = resolve(__dirname, '..', '..');
/** Bundling a function takes a second or two, more when the machine is busy. */
const BUNDLE_TIMEOUT_MS = 120_000;

describe('the Lambda bundles', () => {
  it.each(functionNames(ROOT))(
    'functions/%s/index.ts bundles no local-only module (adapters/local, local/, better-sqlite3)',
    async (name) => {
      // Act
      const { inputs } = await bundleInputs(ROOT, await functionBuildOptions(ROOT, name));

      // Assess: nothing local-only but the known exceptions, and each known exception still there
      const entry = `functions/${name}/index.ts`;
      const found = localOnlyInputs(inputs);
      const violation = (target: string) => ({ rule: 'lambda-bundle-local-only', from: entry, target, detail: '' });
      expect(found.filter((target) => !isKnown(violation(target)))).toEqual([]);
      const stale = KNOWN_EXCEPTIONS.filter(
        (known) =>
          known.rule === 'lambda-bundle-local-only' &&
          known.from === entry &&
          !found.some((target) => isKnown(violation(target), [known])),
      );
      expect(stale).toEqual([]);
    },
    BUNDLE_TIMEOUT_MS,
  );

  it(
    'fails on a planted entry that reaches the SQLite store, built with the same options (nothing written to the tree)',
    async () => {
      // Prepare: an entry point given to esbuild as text, in the coordination function's folder.
      const options = nodejsFunctionOptions(ROOT, 'functions/coordination/index.ts');
      const planted = {
        ...options,
        entryPoints: undefined,
        stdin: {
          contents: [
            "export { handler } from './index';",
            "export { SqliteCoordinationStore } from '../../adapters/local/coordination';",
            "export { default as Database } from 'better-sqlite3';",
          ].join('\n'),
          resolveDir: join(ROOT, 'functions/coordination'),
          sourcefile: 'functions/coordination/planted.ts',
          loader: 'ts' as const,
        },
      };

      // Act
      const { inputs } = await bundleInputs(ROOT, planted);

      // Assess
      expect(localOnlyInputs(inputs)).toEqual(
        expect.arrayContaining(['adapters/local/coordination.ts', 'node_modules/better-sqlite3/lib/index.js']),
      );
    },
    BUNDLE_TIMEOUT_MS,
  );

  it(
    'reads the same modules and makes the same bytes as the SteplineFunction construct (the options do not drift)',
    async () => {
      // Prepare
      const stack = testStack({ bundle: true });
      new SteplineFunction(stack, 'Status', { projectRoot: ROOT, name: 'status', description: 'drift check' });

      // Act: the construct bundles it (NodejsFunction, local esbuild), and so does the check.
      const assembly = (stack.node.root as App).synth();
      const template = assembly.getStackByName('Test').template as {
        Resources: Record<string, { Type: string; Properties: { Code: { S3Key: string } } }>;
      };
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
      const assetDir = join(assembly.directory, `asset.${fn?.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      const sourceMap = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
      const ours = await bundleInputs(ROOT, nodejsFunctionOptions(ROOT, 'functions/status/index.ts'));

      // Assess: esbuild wrote the map's sources relative to its staging folder, directly under the assembly's.
      const theirs = sourceMap.sources.map((source) => relative(ROOT, resolve(assembly.directory, 'staging', source)));
      expect(theirs.sort()).toEqual(ours.contributing);
      expect(readFileSync(join(assetDir, 'index.mjs')).byteLength).toBe(ours.bytes);
    },
    BUNDLE_TIMEOUT_MS,
  );
});
