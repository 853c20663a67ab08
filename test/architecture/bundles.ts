import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import picomatch from 'picomatch';
import { LOCAL_ONLY } from './rules';

/**
 * What goes into each Lambda bundle, from esbuild's metafile: the exact list of the modules esbuild read to build
 * it. The options are the ones the SteplineFunction construct gives NodejsFunction (infra/constructs/
 * SteplineFunction/index.ts: ESM for Node 24, the createRequire banner, the AWS SDK inside, minified, with a source
 * map), or, for a function that defines its own bundle (the webhook: `ownBundle` in the WebhookIntake construct),
 * that definition. `bundles.test.ts` also builds one function through the construct itself and checks that both
 * read the same modules, so that these options cannot drift from the construct's unseen.
 */

/** Functions bundled by a definition of their own, as the constructs name it (`ownBundle`). */
export const OWN_BUNDLES: Readonly<Record<string, { readonly file: string; readonly optionsExport: string }>> = {
  webhook: { file: 'functions/webhook/bundle.ts', optionsExport: 'webhookBuildOptions' },
};

/** The esbuild options of NodejsFunction as the SteplineFunction construct sets them (its `bundling` props). */
export function nodejsFunctionOptions(root: string, entry: string): BuildOptions {
  return {
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    outfile: join(root, 'cdk.out', 'bundle-check', 'index.mjs'),
  };
}

/** What functions/ holds besides the functions: code they share, which is no entry point. */
const NOT_A_FUNCTION = new Set(['shared']);

/** The name of every function under `root`: each folder of functions/ with an entry point, `index.ts`. */
export function functionNames(root: string): string[] {
  return readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !NOT_A_FUNCTION.has(entry.name))
    .filter((entry) => existsSync(join(root, 'functions', entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** A metafile input path as a module id: a package name for what is under node_modules, else the path. */
export function inputId(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1) return path;
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Which of a bundle's inputs are local-only modules (`LOCAL_ONLY`): the paths, each once. */
export function localOnlyInputs(inputs: Iterable<string>): string[] {
  const localOnly = picomatch([...LOCAL_ONLY]);
  return [...new Set([...inputs].filter((path) => localOnly(inputId(path))))].sort();
}

export interface BundleInputs {
  /** Every module esbuild read (metafile `inputs`), relative to the repository. */
  readonly inputs: string[];
  /** The inputs that put bytes into the handler's output file, as a source map would list them. */
  readonly contributing: string[];
  /** The handler's output file, in bytes. */
  readonly bytes: number;
}

/** Builds in memory (nothing is written), with a metafile; `options` as the construct would give them. */
export async function bundleInputs(root: string, options: BuildOptions): Promise<BundleInputs> {
  const result = await build({ ...options, absWorkingDir: root, write: false, metafile: true, logLevel: 'silent' });
  const metafile = result.metafile as Metafile;
  const [outPath, output] =
    Object.entries(metafile.outputs).find(([path]) => /index\.m?js$/.test(path) && !path.endsWith('.map')) ?? [];
  const out = result.outputFiles?.find((file) => file.path.endsWith(outPath ?? '\0'));
  return {
    inputs: Object.keys(metafile.inputs).sort(),
    contributing: Object.entries(output?.inputs ?? {})
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path)
      .sort(),
    bytes: out?.contents.byteLength ?? 0,
  };
}

/** The options the construct bundles the function `name` with. */
export async function functionBuildOptions(root: string, name: string): Promise<BuildOptions> {
  const own = OWN_BUNDLES[name];
  if (!own) return nodejsFunctionOptions(root, `functions/${name}/index.ts`);
  const definition = (await import(join(root, own.file))) as Record<string, (outfile: string) => BuildOptions>;
  const make = definition[own.optionsExport];
  if (!make) throw new Error(`${own.file} exports no ${own.optionsExport}`);
  return make(join(root, 'cdk.out', 'bundle-check', 'index.js'));
}
