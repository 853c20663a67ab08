import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DIR } from '../../local/demo';
import { buildahAvailable } from '../../local/services/codebuild';

/**
 * `stepline demo` as a user runs it: a child process, as README shows it (`npm run demo -- --port N`) or through its
 * entry (`tsx local/cli.ts demo`), its output read as a person would read it. One run must succeed end to end; one
 * with `--break test` must fail and say which step failed and why; one kept up with the gate left to the reader
 * must print commands that work as printed (`npx stepline demo --keep --manual-approval`). All three run at once
 * to keep the suite short.
 */

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'local/cli.ts');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// The environment of a fresh shell: no token, no KUBECONFIG, no AWS account (the demo must not need them).
const ENV = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', TMPDIR: process.env['TMPDIR'] };

/** The demo through `tsx local/cli.ts demo`, or, with `npm: true`, as README says: `npm run demo -- <flags>`. */
async function demo(...args: string[]): Promise<Outcome> {
  const npm = args[0] === 'npm';
  const [file, argv] = npm ? ['npm', ['run', 'demo', '--', ...args.slice(1)]] : [TSX, [CLI, 'demo', ...args]];
  return run(file, argv, { cwd: ROOT, env: ENV, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** How many tests a suite of the sample has: its `it(` calls. */
function testsIn(file: string): number {
  return readFileSync(join(SAMPLE_DIR, file), 'utf8').match(/^\s*it\(/gm)?.length ?? 0;
}

/** The value of a field of the summary (`  tests         unit: 10 passed ...`) and its continuation lines. */
function field(stdout: string, name: string): string {
  const lines = stdout.slice(stdout.indexOf('\nSummary\n')).split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${name.padEnd(13)} `));
  if (start < 0) return '';
  const value = [lines[start]!.slice(16)];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith(' '.repeat(16))) break;
    value.push(line.trim());
  }
  return value.join('\n');
}

const UNIT = testsIn('test/unit/app.test.js');
const HTTP = testsIn('test/http/server.test.js');

/** A bash command line, as a person pastes what the demo printed. */
async function shell(command: string): Promise<Outcome> {
  return run('bash', ['-c', command], { cwd: ROOT, env: ENV, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

interface Kept {
  /** The printed hint and what running it as printed answered. */
  readonly ran: { readonly hint: string; readonly outcome: Outcome }[];
  readonly code: number | null;
  readonly stdout: string;
}

/**
 * `npx stepline demo --keep --manual-approval`: the gate is decided by running the command the demo prints for it,
 * then every command it prints while it keeps the runtime up is run as printed, then Ctrl-C.
 */
function keptDemo(): Promise<Kept> {
  // Its own process group: Ctrl-C (SIGINT) reaches npx and the demo under it, as in a terminal.
  const child = spawn('npx', ['stepline', 'demo', '--keep', '--manual-approval'], {
    cwd: ROOT,
    env: ENV,
    detached: true,
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // Gone already.
    }
  };
  const ran: { hint: string; outcome: Outcome }[] = [];
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let decided = false;
  let listed = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`the kept demo did not get through in time:\n${stdout}\n${stderr}`));
    }, 170_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const decide = /decide it: (.+)$/m.exec(stdout)?.[1];
      if (decide && !decided) {
        decided = true;
        void shell(decide).then((outcome) => ran.push({ hint: decide, outcome }));
      }
      if (!listed && /^ {2}repository {4}\S+$/m.test(stdout.slice(stdout.indexOf('keeps running (--keep)')))) {
        listed = true;
        const kept = stdout.slice(stdout.indexOf('keeps running (--keep)'));
        const hints = [
          ...kept.matchAll(/^ {2}(?:CLI|kubectl|AWS CLI|) +((?:npx stepline|kubectl|AWS_DEFAULT_REGION=).+)$/gm),
        ].map((m) => m[1] as string);
        void (async () => {
          for (const hint of hints) ran.push({ hint, outcome: await shell(hint) });
          signal('SIGINT');
        })();
      }
    });
    child.on('exit', (code, killed) => {
      clearTimeout(timer);
      // npx ends by the signal it was sent (Ctrl-C); the demo under it ends 0.
      resolve({ ran, code: killed === 'SIGINT' ? 0 : code, stdout });
    });
  });
}

let port: number;
let passing: Outcome;
let failing: Outcome;
let kept: Promise<Kept>;

beforeAll(async () => {
  port = await freePort();
  kept = keptDemo();
  kept.catch(() => {});
  [passing, failing] = await Promise.all([demo('npm', '--port', String(port)), demo('--break', 'test')]);
}, 180_000);

describe('stepline demo', () => {
  it('exits 0 and reports the run SUCCEEDED', () => {
    // Assess
    expect(passing.code, `${passing.stderr}\n${passing.stdout}`).toBe(0);
    expect(passing.stdout).toMatch(/^\s+\S+\s+pipeline\s+ok SUCCEEDED$/m);
    expect(field(passing.stdout, 'result')).toMatch(/^SUCCEEDED in \d/);
    expect(passing.stderr).toBe('');
  });

  it('sends a signed push to its own runtime, on the port asked for', () => {
    // Assess
    expect(passing.stdout).toContain(`runtime       http://127.0.0.1:${port} `);
    expect(passing.stdout).toMatch(
      /webhook\s+POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/github: push of [0-9a-f]{7} to main/,
    );
    expect(passing.stdout).toMatch(/webhook\s+202 started: execution stepline-demo-hello-service-[0-9a-f]{7}-/);
  });

  it('shows the build phases as they complete, and the image digest', () => {
    // Assess
    for (const phase of ['DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD']) {
      expect(passing.stdout).toMatch(new RegExp(`\\s build\\s+ok ${phase}\\b.*\\s\\d+(ms|\\.\\ds)$`, 'm'));
    }
    expect(passing.stdout).toMatch(/\s build\s+ok SUCCEEDED in [\d.]+m?s: image sha256:[0-9a-f]{12}…$/m);
    const image = field(passing.stdout, 'image');
    expect(image).toMatch(
      /^000000000000\.dkr\.ecr\.us-east-1\.amazonaws\.com\/stepline-demo\/hello-service@sha256:[0-9a-f]{64}\n/,
    );
    expect(image).toContain(
      buildahAvailable() ? 'an OCI image built with buildah' : 'no image was built (buildah is not installed)',
    );
  });

  it('shows each test suite with the counts of its JUnit report', () => {
    // Assess
    expect(passing.stdout).toMatch(new RegExp(`\\stest unit\\s+ok ${UNIT} passed in `));
    expect(passing.stdout).toMatch(new RegExp(`\\stest http\\s+ok ${HTTP} passed in `));
    expect(field(passing.stdout, 'tests')).toBe(`unit: ${UNIT} passed · http: ${HTTP} passed`);
  });

  it('shows the rollout replicas of each environment until all are available', () => {
    // Assess
    expect(passing.stdout).toMatch(/\sstaging\s+applied revision 1 to namespace hello-staging: 4 objects/);
    expect(passing.stdout).toMatch(
      /\sstaging\s+replicas deployment\/hello-service: 2\/2 updated, 2\/2 ready, 2\/2 available$/m,
    );
    expect(passing.stdout).toMatch(
      /\sproduction\s+replicas deployment\/hello-service: 3\/3 updated, 3\/3 ready, 3\/3 available$/m,
    );
    expect(passing.stdout).toMatch(/\sproduction\s+ok rolled out: deployment "hello-service" successfully rolled out/);
  });

  it('stops at the production gate and approves it as the approver the configuration names', () => {
    // Assess
    expect(passing.stdout).toMatch(
      /\sproduction\s+waiting for approval by release-manager: http:\/\/127\.0\.0\.1:\d+\/approvals\//,
    );
    expect(passing.stdout).toMatch(/\sproduction\s+ok approved by release-manager$/m);
  });

  it('prints the history, one row per state visit, in the order of the run', () => {
    // Assess
    expect(passing.stdout).toMatch(/^History: \d+ events in \d+ state visits$/m);
    const rows = passing.stdout
      .slice(passing.stdout.indexOf('History:'), passing.stdout.indexOf('Summary'))
      .split('\n')
      .filter((l) => /^\s+\d+\s+\+\d/.test(l));
    const states = rows.map((r) => r.trim().split(/\s{2,}/)[3]);
    expect(states.slice(0, 5)).toEqual(['PathsChanged', 'ReportPending', 'Register', 'ImageGiven', 'Build']);
    expect(states).toContain('Test[1] › RunSuite');
    expect(states).toContain('Promote[1] › Approve');
    expect(states.at(-1)).toBe('ReportSuccess');
    expect(rows.every((r) => r.trimEnd().endsWith('ok'))).toBe(true);
  });

  it('sums up the commit, the environments reached, the time and the statuses', () => {
    // Assess
    expect(field(passing.stdout, 'commit')).toMatch(
      /^[0-9a-f]{7} "Add hello-service" on main of stepline-demo\/hello-service$/,
    );
    expect(field(passing.stdout, 'environments')).toMatch(
      /^staging: revision 1 in namespace hello-staging, deployment\/hello-service 2\/2 available\nproduction: revision 1 in namespace hello-production, deployment\/hello-service 3\/3 available, approved by release-manager$/,
    );
    expect(field(passing.stdout, 'time')).toMatch(
      /^[\d.]+m?s in buildspec commands, [\d.]+m?s in rollouts, [\d.]+m?s at the approval gate, [\d.]+m?s Stepline\n\(intake /,
    );
    expect(field(passing.stdout, 'statuses')).toMatch(/^stepline success · stepline\/build success · /);
    expect(field(passing.stdout, 'console')).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/executions/arn%3Aaws%3Astates%3A`),
    );
  });

  it('writes plain text when its output is not a terminal', () => {
    // Assess
    expect(passing.stdout).not.toContain('\u001b[');
    expect(passing.stdout).not.toContain('\r');
  });

  it('stops the runtime and removes its folder when it ends', async () => {
    // Prepare
    const folder = /a git repository in (\S+)\/hello-service/.exec(passing.stdout)?.[1];
    // Act
    const reached = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => true,
      () => false,
    );
    // Assess
    expect(folder).toMatch(/stepline-demo-/);
    expect(existsSync(folder as string)).toBe(false);
    expect(reached).toBe(false);
  });
});

describe('stepline demo --break test', () => {
  it('exits 1 with the failing step, its suite and its reason', () => {
    // Assess
    expect(failing.code, `${failing.stderr}\n${failing.stdout}`).toBe(1);
    expect(field(failing.stdout, 'result')).toMatch(/^FAILED after [\d.]+m?s: Stepline\.TestsFailed$/);
    expect(field(failing.stdout, 'failed step')).toBe(
      `test, suite unit: 1 of ${UNIT} tests failed: "falls back to defaults outside a cluster"`,
    );
    expect(field(failing.stdout, 'log')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/builds\/stepline-test%3A/);
  });

  it('shows the failed test and its message as the suite ends, and lets the other suite finish', () => {
    // Assess
    expect(failing.stdout).toMatch(new RegExp(`\\stest unit\\s+FAILED ${UNIT - 1} passed, 1 failed in `));
    expect(failing.stdout).toMatch(/✗ test › falls back to defaults outside a cluster: .*greeting: 'Hi'/);
    expect(failing.stdout).toMatch(new RegExp(`\\stest http\\s+ok ${HTTP} passed in `));
    expect(failing.stdout).toMatch(/\spipeline\s+FAILED: Stepline\.TestsFailed$/m);
  });

  it('deploys nowhere', () => {
    // Assess
    expect(field(failing.stdout, 'environments')).toBe('staging: not reached\nproduction: not reached');
    expect(failing.stdout).not.toMatch(/applied revision/);
  });
});

describe('npx stepline demo --keep --manual-approval', () => {
  it('prints commands that work as printed: the approval, the CLI (delivery insight too), kubectl and the AWS CLI', async () => {
    // Act
    const { ran, code, stdout } = await kept;

    // Assess
    expect(ran.map((r) => r.hint.split(' ').slice(0, 3).join(' '))).toEqual([
      expect.stringMatching(/^npx stepline approve$/),
      'npx stepline executions',
      'npx stepline statuses',
      'npx stepline metrics',
      expect.stringMatching(/^kubectl --kubeconfig /),
      expect.stringMatching(/^AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local /),
    ]);
    for (const { hint, outcome } of ran) {
      expect(outcome.stderr, hint).toBe('');
      expect(outcome.code, hint).toBe(0);
    }
    expect(ran[0]?.outcome.stdout).toMatch(/^approved: production \(as release-manager\)$/m);
    // As README's Delivery insight section calls it: the run's one successful deploy to each environment.
    expect(ran[3]?.hint).toMatch(/^npx stepline metrics dora --url http:\/\/127\.0\.0\.1:\d+$/);
    expect(ran[3]?.outcome.stdout).toMatch(/^production\s+1\s+0\.03\/day, weekly\s/m);
    expect(ran[3]?.outcome.stdout).toMatch(/^staging\s+1\s+0\.03\/day, weekly\s/m);
    expect(stdout).toMatch(/^ {2}console {7}http:\/\/127\.0\.0\.1:\d+\/ \(delivery insight: http:\/\/\S+\/insight\)$/m);
    expect(ran[5]?.outcome.stdout).toContain('stepline-demo-hello-service-');
    expect(field(stdout, 'result')).toMatch(/^SUCCEEDED in \d/);
    expect(code).toBe(0);
  }, 180_000);
});

describe('stepline demo with a bad option', () => {
  it('exits 2 and names what is wrong', async () => {
    // Act
    const outcome = await demo('--break', 'deploy');
    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--break takes build or test or metrics, got "deploy"');
  });
});
