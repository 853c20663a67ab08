import { DemoError } from './errors';
import { type BreakStep, type DemoOptions, runDemo } from './run';

/**
 * `stepline demo` (issue 7): the whole pipeline on this machine, from a signed push to a sample service to its
 * deployment on the simulated cluster. See run.ts for what it does and ADRs 0080-0085 for why.
 *
 *   stepline demo [--port N] [--keep] [--manual-approval] [--canary | --gitops] [--break build|test|metrics] [--json]
 */

export { type Decision, decideApproval } from './approvals';
export { DemoError } from './errors';
export { type HistoryEventLike, type StateVisit, stateVisits } from './history';
export { RunProgress } from './progress';
export { collectSummary, type DemoSummary } from './report';
export {
  commitChange,
  createSampleRepository,
  readConfig,
  SAMPLE_DIR,
  SAMPLE_REPOSITORY,
  type SampleRepository,
} from './repository';
export { type BreakStep, type DemoOptions, demoEnvironment, prepareRepository, runDemo } from './run';
export { Terminal } from './terminal';
export { CATEGORIES, CATEGORY_LABELS, type Category, pipelineTimeline, type Timeline, WORK } from './timeline';
export { deliver, githubPush, githubSignature } from './webhook';

type Flags = Record<string, string | boolean | undefined>;

const BREAK_STEPS: readonly BreakStep[] = ['build', 'test', 'metrics'];

/** The options of `stepline demo` from its command-line flags; throws `DemoError` naming a bad one. */
export function demoOptions(
  args: readonly string[],
  flags: Flags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): DemoOptions {
  const eaten = npmTookFlags(env, args);
  if (eaten.length > 0) {
    throw new DemoError(
      `npm took ${eaten.join(' ')} for itself: npm run passes flags on after \`--\`, as in \`npm run demo -- ${eaten.join(' ')}\``,
    );
  }
  if (args.length > 0) throw new DemoError(`stepline demo takes no arguments, got "${args.join(' ')}"`);
  const options: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = {};
  if (typeof flags['port'] === 'string') {
    const port = Number(flags['port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new DemoError(`--port must be a port number from 0 to 65535, got "${flags['port']}"`);
    }
    options.port = port;
  }
  if (typeof flags['break'] === 'string') {
    if (!BREAK_STEPS.includes(flags['break'] as BreakStep)) {
      throw new DemoError(`--break takes ${BREAK_STEPS.join(' or ')}, got "${flags['break']}"`);
    }
    options.breakStep = flags['break'] as BreakStep;
  }
  if (flags['canary']) options.canary = true;
  if (flags['gitops']) options.gitops = true;
  if (options.gitops && options.canary) throw new DemoError('--gitops and --canary each change staging: use one');
  if (options.breakStep === 'metrics' && !options.canary) {
    throw new DemoError("--break metrics breaks a canary's analysis: use it with --canary");
  }
  if (flags['keep']) options.keep = true;
  if (flags['json']) options.json = true;
  if (flags['manual-approval']) options.manualApproval = true;
  return options;
}

/** The demo's flags that `npm run demo --flag` (without `--`) gave to npm, which keeps them as npm_config_*. */
function npmTookFlags(env: Readonly<Record<string, string | undefined>>, args: readonly string[]): string[] {
  if (env['npm_lifecycle_event'] !== 'demo') return [];
  const values = [...args];
  const taken: string[] = [];
  for (const [flag, takesValue] of [
    ['keep', false],
    ['port', true],
    ['manual-approval', false],
    ['break', true],
    ['json', false],
    ['canary', false],
    ['gitops', false],
  ] as const) {
    const value = env[`npm_config_${flag.replace(/-/g, '_')}`];
    if (value === undefined || value === '') continue;
    // npm reads `--break build` as a switch and an argument: the argument comes to the demo.
    const given = value === 'true' && takesValue ? values.shift() : value === 'true' ? undefined : value;
    taken.push(given === undefined ? `--${flag}` : `--${flag} ${given}`);
  }
  return taken;
}

/**
 * The CLI's `demo` command: runs the demo, Ctrl-C (SIGINT) or SIGTERM stops it and cleans up. Answers the exit
 * code: 0 the run succeeded, 1 it did not (or the demo could not run), 2 a usage error, 130 stopped.
 */
export async function demoCommand(args: readonly string[], flags: Flags): Promise<number> {
  let options: DemoOptions;
  try {
    options = demoOptions(args, flags);
  } catch (error) {
    process.stderr.write(`stepline demo: ${(error as Error).message}\n`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runDemo({ ...options, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
