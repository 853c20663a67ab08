import { join } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

/**
 * How the webhook function is bundled for Lambda: the one definition that the CDK construct and the benchmark
 * use (see docs/adr/0008). esbuild, minified, CommonJS for Node 20; `@aws-sdk/*` is left to the Lambda runtime,
 * which ships the AWS SDK v3; zod's translations of its messages are left out (the messages are English).
 */

export const WEBHOOK_ENTRY = join(__dirname, 'index.ts');

/** Modules the bundle does not contain: the Lambda runtime provides them. */
export const WEBHOOK_EXTERNALS = ['@aws-sdk/*'];

/**
 * zod's classic API re-exports every locale (about 250 KB minified) through the `z` namespace, which defeats tree
 * shaking. Stepline's messages are English, so the bundle resolves zod's locale index to English alone.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales-en', namespace: 'zod-english-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: join(__dirname, '..', '..'),
    }));
  },
};

export function webhookBuildOptions(outfile: string): BuildOptions & { outfile: string } {
  return {
    entryPoints: [WEBHOOK_ENTRY],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: WEBHOOK_EXTERNALS,
    plugins: [zodEnglishOnly],
    metafile: true,
    logLevel: 'silent',
  };
}
