import { basename, dirname, extname, join } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

/**
 * How the webhook function is bundled for Lambda: the one definition that the CDK construct and the benchmark
 * use (see docs/adr/0008, 0046 and 0066). esbuild, minified, CommonJS for Node 20, with the pinned AWS SDK inside
 * (as `bundleAwsSDK` ships it in the other functions), taken from its ES modules so that esbuild keeps only the
 * commands the function sends; it loads faster than the runtime's copy of the SDK or the SDK's CommonJS build
 * (figures in docs/adr/0066).
 *
 * Two files come out: the handler (`index.js`) and, beside it, the configuration parser (`config-parser.js`: zod and
 * the schema, about 190 KB). The handler requires the parser only for a configuration that is not sealed
 * (adapters/settings.ts); the construct ships a sealed one, so on AWS the parser is never read, not even compiled.
 */

export const WEBHOOK_ENTRY = join(__dirname, 'index.ts');

/** The configuration parser (zod and the schema), its own file beside the handler. */
export const CONFIG_PARSER_ENTRY = join(__dirname, '..', '..', 'core', 'config', 'parse.ts');
export const CONFIG_PARSER_FILE = 'config-parser.js';

/**
 * Minified CommonJS for Node 20, everything inside (the AWS SDK too). `mainFields` puts a package's ES modules
 * (`module`) before its CommonJS build (`main`), as NodejsFunction does for the other functions: the SDK's CommonJS
 * build of a client is one file with every command and its schema, which esbuild cannot shake.
 */
const WEBHOOK_BUNDLE_BASE = {
  bundle: true,
  minify: true,
  sourcemap: false,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  metafile: true,
  logLevel: 'silent',
} as const satisfies BuildOptions;

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

/** What core/config/parse.ts exports, each a getter in the handler's stand-in for the parser. */
const CONFIG_PARSER_EXPORTS = ['parseConfig', 'validateConfig'];

/**
 * adapters/settings.ts imports the parser (`../core/config/parse`: zod and the schema). In the handler's file that
 * import resolves to a stand-in whose exports are getters that require `./config-parser.js`, the second output
 * file, on first use: a sealed configuration never touches them, so zod is neither evaluated nor even compiled
 * (V8 compiles every byte of a file it loads, and zod's 190 KB cost about 20 ms of each cold start that way).
 */
export const configParserApart: Plugin = {
  name: 'config-parser-apart',
  setup(build) {
    build.onResolve({ filter: /[\\/]core[\\/]config[\\/]parse$/ }, (args) =>
      /[\\/]adapters[\\/]settings\.ts$/.test(args.importer)
        ? { path: 'config-parser', namespace: 'config-parser-apart' }
        : undefined,
    );
    build.onResolve({ filter: /^\.\/config-parser\.js$/, namespace: 'config-parser-apart' }, (args) => ({
      path: args.path,
      external: true,
    }));
    build.onLoad({ filter: /.*/, namespace: 'config-parser-apart' }, () => ({
      contents: lazyExports(`./${CONFIG_PARSER_FILE}`, CONFIG_PARSER_EXPORTS),
      loader: 'js',
    }));
  },
};

/** A CommonJS module whose exports `names` are getters that require `specifier` the first time one is read. */
function lazyExports(specifier: string, names: readonly string[]): string {
  const getters = names.map((name) => `  get ${JSON.stringify(name)}() { return load()[${JSON.stringify(name)}]; },`);
  return [
    'let loaded;',
    `const load = () => (loaded ??= require(${JSON.stringify(specifier)}));`,
    'module.exports = {',
    ...getters,
    '};',
    '',
  ].join('\n');
}

/** Node built-ins that @middy/core imports for streamed responses only, which the webhook never gives. */
const MIDDY_STREAMING_BUILTINS = /^node:stream\/(web|promises)$/;

/**
 * @middy/core imports `node:stream/web` and `node:stream/promises` at its top for `streamifyResponse`, and Node
 * then loads its web streams (about 5 ms) for a function that never streams. In the bundle, those two imports of
 * middy's resolve to stand-ins whose exports are getters that require the real module on first use: a streaming
 * handler still works; ours never touches them.
 */
export const lazyMiddyStreams: Plugin = {
  name: 'lazy-middy-streams',
  setup(build) {
    build.onResolve({ filter: MIDDY_STREAMING_BUILTINS }, (args) =>
      /[\\/]@middy[\\/]core[\\/]/.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: lazyExports(args.path, Object.keys(require(args.path) as object)),
      loader: 'js',
    }));
  },
};

/**
 * The build of the webhook function. `outfile` names the handler's file (the construct asks for `index.js`); the
 * configuration parser goes beside it as `config-parser.js`.
 */
export function webhookBuildOptions(outfile: string): BuildOptions & { outdir: string } {
  const name = basename(outfile, extname(outfile));
  return {
    entryPoints: { [name]: WEBHOOK_ENTRY, [basename(CONFIG_PARSER_FILE, '.js')]: CONFIG_PARSER_ENTRY },
    outdir: dirname(outfile),
    entryNames: '[name]',
    ...WEBHOOK_BUNDLE_BASE,
    mainFields: [...WEBHOOK_BUNDLE_BASE.mainFields],
    plugins: [zodEnglishOnly, configParserApart, lazyMiddyStreams],
  };
}
