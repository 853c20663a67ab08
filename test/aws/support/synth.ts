import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CfnTemplate } from './template';

/**
 * The platform as `cdk synth` makes it: the real CDK app (`infra/bin/app.ts`) run the way the CDK CLI runs it
 * (`CDK_OUTDIR`, `CDK_CONTEXT_JSON`), with the Lambda bundles built by the constructs' own esbuild step. The cloud
 * assembly is kept under `node_modules/.cache/stepline-aws/<digest>`, keyed by the digest of everything that goes
 * into it, so that the suite's files (in separate workers) and later runs synthesize once.
 */

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '../../..');
const CACHE = join(REPO_ROOT, 'node_modules/.cache/stepline-aws');
/** What the app reads, besides the configuration file named in the context. */
const INPUTS = ['infra', 'functions', 'core', 'adapters', 'statemachines', 'package-lock.json', 'cdk.json'];

export interface SynthOptions {
  /** The configuration, relative to the project root. */
  readonly config: string;
  readonly stackName: string;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** Absolute path of the folder an asset hash names (`Code.S3Key` is `<hash>.zip`). */
  assetDir(s3Key: string): string;
}

function filesUnder(path: string): string[] {
  const stat = statSync(path);
  if (stat.isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => filesUnder(join(path, entry)));
}

function digestOf(options: SynthOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(options));
  for (const input of [...INPUTS, options.config]) {
    for (const file of filesUnder(join(REPO_ROOT, input))) {
      if (file.includes('/node_modules/') || file.endsWith('.md')) continue;
      hash.update(relative(REPO_ROOT, file));
      hash.update(readFileSync(file));
    }
  }
  return hash.digest('hex').slice(0, 24);
}

async function synthesizeInto(dir: string, options: SynthOptions): Promise<void> {
  const context = { config: options.config, stackName: options.stackName };
  try {
    await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra/bin/app.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_OUTDIR: dir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`cdk synth of the platform failed:\n${(e.stderr ?? e.message).slice(-4000)}`);
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((done) => setTimeout(done, ms));
}

/** Synthesizes the platform (once per content digest, across workers and runs) and reads its template. */
export async function synthesize(options: SynthOptions): Promise<CloudAssembly> {
  const dir = join(CACHE, digestOf(options));
  const done = join(dir, 'manifest.json');
  if (!existsSync(done)) {
    mkdirSync(CACHE, { recursive: true });
    const lock = `${dir}.lock`;
    let owner = false;
    try {
      mkdirSync(lock);
      owner = true;
    } catch {
      // Another worker synthesizes: wait for it (a lock older than five minutes is a crashed one).
      const started = Date.now();
      while (!existsSync(done)) {
        if (!existsSync(lock) || Date.now() - statSync(lock).mtimeMs > 300_000) break;
        if (Date.now() - started > 300_000) throw new Error(`waited 5 minutes for ${lock}`);
        await sleep(200);
      }
    }
    if (!existsSync(done)) {
      const scratch = `${dir}.${process.pid}.tmp`;
      try {
        rmSync(scratch, { recursive: true, force: true });
        await synthesizeInto(scratch, options);
        rmSync(dir, { recursive: true, force: true });
        renameSync(scratch, dir);
        writeFileSync(join(CACHE, 'latest'), `${dir}\n`);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
        if (owner) rmSync(lock, { recursive: true, force: true });
      }
    }
  }
  const template = JSON.parse(readFileSync(join(dir, `${options.stackName}.template.json`), 'utf8')) as CfnTemplate;
  return {
    dir,
    stackName: options.stackName,
    template,
    assetDir: (s3Key) => {
      const path = join(dir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      if (!existsSync(path)) throw new Error(`the cloud assembly ${dir} has no asset ${s3Key}`);
      return path;
    },
  };
}
