import { join } from 'node:path';
import { build } from 'esbuild';
import { ConsoleBundleError } from './errors';

/**
 * The console's browser bundle: `app/main.ts` (Preact with htm, the graph layout, the views) and its CSS, bundled
 * by the installed esbuild into memory when the console is created. Nothing is fetched: every module comes from
 * node_modules and this folder.
 */

export interface ConsoleBundle {
  readonly js: string;
  readonly css: string;
  /** Bytes, before compression. */
  readonly size: { readonly js: number; readonly css: number };
  /** How long esbuild took, in milliseconds. */
  readonly buildMs: number;
}

export interface BundleOptions {
  /** Minify (default true). */
  readonly minify?: boolean;
}

let cached: Promise<ConsoleBundle> | undefined;

/** Bundles the console (once per process for the default options). */
export function consoleBundle(options: BundleOptions = {}): Promise<ConsoleBundle> {
  if (options.minify === false) return buildBundle(options);
  cached ??= buildBundle(options).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function buildBundle(options: BundleOptions): Promise<ConsoleBundle> {
  const started = performance.now();
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      entryPoints: [join(__dirname, 'app', 'main.ts')],
      bundle: true,
      write: false,
      outdir: '/stepline-console',
      format: 'esm',
      platform: 'browser',
      target: ['chrome120', 'firefox120', 'safari16'],
      minify: options.minify !== false,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
  } catch (error) {
    throw new ConsoleBundleError(`the console could not be bundled: ${(error as Error).message}`, { cause: error });
  }
  const js = (result.outputFiles ?? []).find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = (result.outputFiles ?? []).find((f) => f.path.endsWith('.css'))?.text ?? '';
  return {
    js,
    css,
    size: { js: Buffer.byteLength(js), css: Buffer.byteLength(css) },
    buildMs: Math.round(performance.now() - started),
  };
}
