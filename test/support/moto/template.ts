import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The parts of a synthesized CloudFormation template that the stand-ins read. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export const REPO_ROOT = path.resolve(__dirname, '../../..');

/**
 * The context the template is synthesized with: bundling skipped (as test/infra/helpers.ts does: the template is
 * what is read), and a configuration whose environments all deploy to EKS (the sample stepline.config.json has a
 * local-only kubeconfig environment, which the AWS app refuses). The tables, queues, buckets and secrets do not
 * depend on the repositories configured.
 */
const DEFAULT_CONTEXT = {
  'aws:cdk:bundling-stacks': [] as string[],
  config: 'test/support/moto/stepline.config.json',
};

/** What the app's template is made of: a change to any of these is a new template. */
const INPUTS = [
  'infra',
  'core',
  'functions',
  'statemachines',
  'stepline.config.json',
  'test/support/moto/stepline.config.json',
  'cdk.json',
  'package-lock.json',
];

const memo = new Map<string, CfnTemplate>();

/**
 * The Stepline stack's template as `createApp` synthesizes it from this checkout (`DEFAULT_CONTEXT`, then
 * `context`). Synthesis takes seconds, so the template is kept per process and in a file under the OS temporary
 * folder named by a hash of every input file (test files run in separate processes; a changed input synthesizes
 * again).
 */
export async function synthesizedTemplate(
  options: { readonly context?: Record<string, unknown> } = {},
): Promise<CfnTemplate> {
  const context = { ...DEFAULT_CONTEXT, ...options.context };
  const key = inputsHash(context);
  const known = memo.get(key);
  if (known) return known;
  const cacheDir = path.join(tmpdir(), 'stepline-moto-templates');
  const cacheFile = path.join(cacheDir, `${key}.json`);
  let template: CfnTemplate;
  try {
    template = JSON.parse(readFileSync(cacheFile, 'utf8')) as CfnTemplate;
  } catch {
    template = await synthesize(context);
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(template));
    renameSync(partial, cacheFile);
  }
  memo.set(key, template);
  return template;
}

async function synthesize(context: Record<string, unknown>): Promise<CfnTemplate> {
  // Loaded here, not at the top: aws-cdk-lib takes seconds to load, and a cached template needs none of it.
  const { createApp } = await import('../../../infra/bin/create-app');
  const { app, stack } = createApp({ projectRoot: REPO_ROOT, nag: false, appProps: { context } });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

function inputsHash(context: Record<string, unknown>): string {
  const hash = createHash('sha256').update(JSON.stringify(context));
  const visit = (relative: string) => {
    const absolute = path.join(REPO_ROOT, relative);
    const stat = statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(absolute).sort()) visit(path.join(relative, name));
      return;
    }
    hash.update(relative).update('\0').update(readFileSync(absolute)).update('\0');
  };
  for (const input of INPUTS) visit(input);
  return hash.digest('hex').slice(0, 32);
}
