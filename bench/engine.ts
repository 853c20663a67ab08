/**
 * Local Step Functions engine benchmark: state transitions per second and peak memory, beside the baseline
 * `aws-local-stepfunctions` on the same JSONPath machines, in the same run.
 *
 *   npm run bench:engine            (all scenarios, both engines)
 *   npm run bench:engine -- --quick (smaller counts, for a smoke run)
 *
 * Every (engine, scenario) pair runs in a child process of its own, so that the peak memory figures (maxRSS and
 * the sampled heap) belong to one engine and one scenario only. Each child warms up, then measures.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type EngineName = 'stepline' | 'aws-local-stepfunctions';
type ScenarioName = 'executions' | 'map';

interface Measurement {
  readonly engine: EngineName;
  readonly scenario: ScenarioName;
  readonly transitions: number;
  readonly seconds: number;
  readonly transitionsPerSecond: number;
  readonly maxRssMiB: number;
  readonly peakHeapMiB: number;
}

const QUICK = process.argv.includes('--quick');
const EXECUTIONS = QUICK ? 1000 : 10_000;
const MAP_ITEMS = 1000;
const MAP_RUNS = QUICK ? 3 : 10;
const CONCURRENCY = 100;

/**
 * Ten states: Pass and Choice, with Parameters, ResultPath, paths and comparisons on the way, as a small
 * routing workflow would have. Every execution goes through all ten.
 */
export const tenStateMachine = {
  Comment: 'Ten Pass and Choice states',
  StartAt: 'Normalize',
  States: {
    Normalize: {
      Type: 'Pass',
      Parameters: { 'repo.$': '$.repository.name', 'branch.$': '$.ref', 'count.$': '$.commits', stage: 'build' },
      ResultPath: '$.request',
      Next: 'IsMain',
    },
    IsMain: {
      Type: 'Choice',
      Choices: [{ Variable: '$.request.branch', StringEquals: 'refs/heads/main', Next: 'MarkMain' }],
      Default: 'MarkOther',
    },
    MarkMain: { Type: 'Pass', Result: { deploy: true }, ResultPath: '$.decision', Next: 'HasCommits' },
    MarkOther: { Type: 'Pass', Result: { deploy: false }, ResultPath: '$.decision', Next: 'HasCommits' },
    HasCommits: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.request.count', NumericGreaterThan: 0 },
            { Variable: '$.decision.deploy', BooleanEquals: true },
          ],
          Next: 'Plan',
        },
      ],
      Default: 'Skip',
    },
    Plan: {
      Type: 'Pass',
      Parameters: { 'repo.$': '$.request.repo', steps: ['build', 'test', 'deploy'] },
      ResultPath: '$.plan',
      Next: 'Stage',
    },
    Skip: { Type: 'Pass', Result: 'skipped', ResultPath: '$.plan', Next: 'Stage' },
    Stage: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.request.stage', StringEquals: 'build', Next: 'Build' },
        { Variable: '$.request.stage', StringEquals: 'test', Next: 'Test' },
      ],
      Default: 'Test',
    },
    Build: { Type: 'Pass', Result: { image: 'sha256:abc' }, ResultPath: '$.build', Next: 'Test' },
    Test: { Type: 'Pass', Parameters: { 'passed.$': '$.decision.deploy' }, ResultPath: '$.test', Next: 'Report' },
    Report: { Type: 'Pass', OutputPath: '$.test', End: true },
  },
};
/** Normalize, IsMain, MarkMain, HasCommits, Plan, Stage, Build, Test, Report: states entered per execution. */
const TEN_STATE_TRANSITIONS = 9 + 1;
const tenStateInput = { repository: { name: 'stepline' }, ref: 'refs/heads/main', commits: 3 };

/** One inline Map over 1,000 items; each iteration goes through a Choice and a Pass. */
export const mapMachine = {
  StartAt: 'Items',
  States: {
    Items: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 0,
      Iterator: {
        StartAt: 'Check',
        States: {
          Check: {
            Type: 'Choice',
            Choices: [{ Variable: '$.n', NumericGreaterThanEquals: 500, Next: 'High' }],
            Default: 'Low',
          },
          High: { Type: 'Pass', Parameters: { 'n.$': '$.n', band: 'high' }, End: true },
          Low: { Type: 'Pass', Parameters: { 'n.$': '$.n', band: 'low' }, End: true },
        },
      },
      End: true,
    },
  },
};
const mapInput = { items: Array.from({ length: MAP_ITEMS }, (_, n) => ({ n })) };
const MAP_TRANSITIONS = 1 + MAP_ITEMS * 2;

// ------------------------------------------------------------------------------------------------ the engines

type Runner = (definition: unknown, input: unknown) => Promise<unknown>;

async function steplineRunner(): Promise<Runner> {
  const { Engine, compileStateMachine } = await import('../local/engine');
  const engine = new Engine({ clock: 'real' });
  const compiled = new Map<unknown, ReturnType<typeof compileStateMachine>>();
  return async (definition, input) => {
    let machine = compiled.get(definition);
    if (!machine) {
      machine = compileStateMachine(definition as Parameters<typeof compileStateMachine>[0]);
      compiled.set(definition, machine);
    }
    const started = engine.start(machine, input);
    const result = await started.done;
    if (result.status !== 'SUCCEEDED') throw new Error(`execution ${result.status}: ${result.error} ${result.cause}`);
    engine.forget(started.executionArn);
    return result.output;
  };
}

async function baselineRunner(): Promise<Runner> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const machines = new Map<unknown, InstanceType<typeof StateMachine>>();
  return async (definition, input) => {
    let machine = machines.get(definition);
    if (!machine) {
      machine = new StateMachine(definition as ConstructorParameters<typeof StateMachine>[0]);
      machines.set(definition, machine);
    }
    return machine.run(input as never).result;
  };
}

// ------------------------------------------------------------------------------------------------ the child

async function pool(count: number, concurrency: number, task: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < count) {
      started++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

async function child(engine: EngineName, scenario: ScenarioName): Promise<Measurement> {
  const runner = engine === 'stepline' ? await steplineRunner() : await baselineRunner();
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 5);
  const workload = async (scale: number): Promise<number> => {
    if (scenario === 'executions') {
      const n = Math.max(1, Math.round(EXECUTIONS * scale));
      await pool(n, CONCURRENCY, () => runner(tenStateMachine, tenStateInput));
      return n * TEN_STATE_TRANSITIONS;
    }
    const n = Math.max(1, Math.round(MAP_RUNS * scale));
    for (let i = 0; i < n; i++) await runner(mapMachine, mapInput);
    return n * MAP_TRANSITIONS;
  };
  await workload(0.3); // warm-up: JIT, compiled definitions (same share for both engines)
  const t0 = process.hrtime.bigint();
  const transitions = await workload(1);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  return {
    engine,
    scenario,
    transitions,
    seconds,
    transitionsPerSecond: transitions / seconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapMiB: peakHeap / (1024 * 1024),
  };
}

// ------------------------------------------------------------------------------------------------ the parent

function measureInChild(engine: EngineName, scenario: ScenarioName): Measurement {
  const self = fileURLToPath(import.meta.url);
  const args = ['--import', 'tsx', self, '--child', engine, scenario, ...(QUICK ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${engine}/${scenario} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as Measurement;
}

function table(rows: Measurement[]): string {
  const head = ['scenario', 'engine', 'transitions', 'seconds', 'transitions/s', 'max RSS MiB', 'peak heap MiB'];
  const body = rows.map((m) => [
    m.scenario === 'executions' ? `${EXECUTIONS} executions, 10 states` : `Map over ${MAP_ITEMS} items x${MAP_RUNS}`,
    m.engine,
    String(m.transitions),
    m.seconds.toFixed(2),
    Math.round(m.transitionsPerSecond).toLocaleString('en-US'),
    m.maxRssMiB.toFixed(1),
    m.peakHeapMiB.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]): string =>
    `| ${r.map((c, i) => (i >= 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const m = await child(process.argv[i + 1] as EngineName, process.argv[i + 2] as ScenarioName);
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const rows: Measurement[] = [];
  for (const scenario of ['executions', 'map'] as const) {
    for (const engine of ['stepline', 'aws-local-stepfunctions'] as const) rows.push(measureInChild(engine, scenario));
  }
  console.log(
    `Node ${process.version}, ${QUICK ? 'quick run' : 'full run'}; each row measured in a child process of its own.\n`,
  );
  console.log(table(rows));
  console.log('');
  for (const scenario of ['executions', 'map'] as const) {
    const ours = rows.find((r) => r.engine === 'stepline' && r.scenario === scenario) as Measurement;
    const base = rows.find((r) => r.engine === 'aws-local-stepfunctions' && r.scenario === scenario) as Measurement;
    console.log(
      `${scenario}: ${(ours.transitionsPerSecond / base.transitionsPerSecond).toFixed(1)}x the baseline's transitions/s, ` +
        `max RSS ${(ours.maxRssMiB / base.maxRssMiB).toFixed(2)}x, peak heap ${(ours.peakHeapMiB / base.peakHeapMiB).toFixed(2)}x`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
