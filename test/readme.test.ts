import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config';
import { planOffline } from '../local/bin/run';
import { demoOptions } from '../local/demo';

/**
 * Every command README.md shows in a `sh` block works as written (issue 17). Each command is either run here, or
 * belongs to a kind this test names with its reason (it needs an AWS account, it installs what this test runs
 * with, another test runs it); a command of no known kind fails the test, so a new README command is run or
 * explained. Runs happen in this checkout, in the environment of a fresh shell, with two differences a person
 * would not see: `PORT` (a free port, where README says 8080) and `STEPLINE_STATE_DIR` (a temporary folder).
 */

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const exec = promisify(execFile);

/** The commands of README's `sh` blocks: continuation lines joined, comments and blank lines left out. */
function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  const fence = /^( *)```sh\n([\s\S]*?)^\1```$/gm;
  for (const block of markdown.matchAll(fence)) {
    const lines = (block[2] ?? '').split('\n').map((l) => l.slice((block[1] ?? '').length));
    let current = '';
    for (const line of lines) {
      const joined = `${current}${line.trimStart()}`;
      if (joined.endsWith('\\')) {
        current = `${joined.slice(0, -1).trimEnd()} `;
        continue;
      }
      current = '';
      const command = withoutComment(joined).trim();
      if (command && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}

/** A command without its trailing `# comment` (a `#` after a space, outside quotes). */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i);
  }
  return line;
}

type Kind =
  | { readonly run: 'shell' }
  | { readonly run: 'runtime' }
  | { readonly run: 'with-runtime' }
  | { readonly run: 'demo-flags' }
  | { readonly skip: string };

/** What this test does with each kind of README command. */
const KINDS: readonly (readonly [RegExp, Kind])[] = [
  [/^npm ci$/, { skip: 'installs the dependencies this test runs with' }],
  [/^npm test$/, { skip: 'runs this very suite' }],
  [/^npm run demo$/, { skip: 'test/e2e/demo.test.ts runs the demo as npm runs it' }],
  [/^npm run demo -- /, { run: 'demo-flags' }],
  [/^(STEPLINE_CONFIG=\S+ )?npm start$/, { run: 'runtime' }],
  [
    /^AWS_DEFAULT_REGION=\S+ AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ aws --endpoint-url http:\/\/127\.0\.0\.1:8080 /,
    { run: 'with-runtime' },
  ],
  [
    /^npx stepline metrics dora --aws /,
    {
      skip: 'needs an AWS account: test/local/insight/metrics-aws.test.ts runs it against moto and local Step Functions',
    },
  ],
  // The commands that read a running runtime: asked of README's `npm start`, at its URL.
  [/^npx stepline metrics /, { run: 'with-runtime' }],
  [/^npx stepline /, { run: 'shell' }],
  [/^npm run bench:/, { skip: 'a benchmark: minutes of work, never part of npm test' }],
  [/^npx vitest run test\//, { skip: 'a part of npm test, which runs it' }],
  [/^kubectl create (role|rolebinding) stepline-/, { skip: "needs an EKS cluster: the deployer's RBAC in it" }],
  [
    /^(output\(\) \{ aws |aws (cloudformation|eks|codebuild|secretsmanager|sns|stepfunctions stop-execution) |npx cdk )/,
    {
      skip: 'needs an AWS account',
    },
  ],
];

function kindOf(command: string): Kind | undefined {
  return KINDS.find(([pattern]) => pattern.test(command))?.[1];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Shell {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fresh shell's environment: no token, no AWS profile, no KUBECONFIG. */
function freshEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] as string, HOME: process.env['HOME'] as string, LANG: 'C.UTF-8', ...extra };
}

async function shell(command: string, env: Record<string, string> = freshEnv()): Promise<Shell> {
  return exec('bash', ['-c', command], { cwd: ROOT, env, timeout: 60_000, maxBuffer: 8 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** A long-running README command (`npm start`), until its banner says where it listens. */
function startInBackground(command: string, port: number, stateDir: string): Promise<Started> {
  const child = spawn('bash', ['-c', command], {
    cwd: ROOT,
    env: freshEnv({ PORT: String(port), STEPLINE_STATE_DIR: stateDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start within 60 s:\n${text}`)), 60_000);
    const on = (chunk: Buffer): void => {
      text += chunk.toString();
      const url = /^Stepline is running at (\S+) /m.exec(text)?.[1];
      if (url && /^ {2}console /m.test(text)) {
        clearTimeout(timer);
        resolve({ child, url, output: () => text });
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${code}:\n${text}`));
    });
  });
}

/** Ctrl-C, as a person stops it: the process group gets SIGINT; answers how the shell ended. */
function interrupt(started: Started): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    started.child.removeAllListeners('exit');
    started.child.on('exit', (code, signal) => resolve({ code, signal }));
    process.kill(-(started.child.pid as number), 'SIGINT');
  });
}

const COMMANDS = readmeCommands(README);

describe('README.md', () => {
  it('shows only commands this test runs, or whose kind it names with a reason', () => {
    // Act
    const unknown = COMMANDS.filter((c) => kindOf(c) === undefined);

    // Assess
    expect(COMMANDS.length).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });

  it('documents the input of a run by hand as the code builds it', async () => {
    // Prepare
    const marker = README.indexOf('<!-- manual-run-input:');
    const block = /```json\n([\s\S]*?)```/.exec(README.slice(marker))?.[1] ?? '';
    const config = parseConfig(readFileSync(join(ROOT, 'stepline.config.json'), 'utf8'), 'stepline.config.json');

    // Act
    const planned = await planOffline(config, {
      repository: 'acme/shop',
      ref: 'main',
      sha: '0123456789abcdef0123456789abcdef01234567',
      by: 'alice',
      deliveryId: 'manual-1a2b3c4d',
    });

    // Assess
    expect(marker).toBeGreaterThan(0);
    expect(planned.name).toBe('acme-shop-0123456-manual-1a2b3c4d');
    expect(JSON.parse(block), 'README: paste this input under <!-- manual-run-input -->').toEqual(planned.input);
  });

  it.each(COMMANDS.filter((c) => (kindOf(c) as { run?: string })?.run === 'demo-flags'))(
    'passes the demo its flags after --: %s',
    (command) => {
      // Prepare: npm hands what follows `--` to `tsx local/cli.ts demo` as it is.
      const argv = command.replace(/^npm run demo -- /, '').split(/\s+/);
      const flags: Record<string, string | boolean> = {};
      for (let i = 0; i < argv.length; i++) {
        const name = (argv[i] as string).replace(/^--/, '');
        if (name === 'port' || name === 'break') flags[name] = argv[++i] as string;
        else flags[name] = true;
      }

      // Act
      const options = demoOptions([], flags, {});

      // Assess
      expect(Object.keys(options).length).toBe(Object.keys(flags).length);
    },
  );

  it.each(COMMANDS.filter((c) => (kindOf(c) as { run?: string })?.run === 'shell'))(
    'runs %s',
    async (command) => {
      // Act
      const done = await shell(command);

      // Assess
      expect(done.stderr).toBe('');
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(/\S/);
      if (command.includes(' --aws')) {
        expect(done.stdout).toMatch(
          /^aws stepfunctions start-execution --state-machine-arn "\$\(aws cloudformation describe-stacks /,
        );
      }
    },
    60_000,
  );

  describe.each(COMMANDS.filter((c) => (kindOf(c) as { run?: string })?.run === 'runtime'))('%s', (command) => {
    let started: Started;
    const stateDir = mkdtempSync(join(tmpdir(), 'stepline-readme-'));

    beforeAll(async () => {
      started = await startInBackground(command, await freePort(), stateDir);
    }, 90_000);

    afterAll(() => {
      if (started?.child.exitCode === null) process.kill(-(started.child.pid as number), 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    });

    // README's AWS CLI command asks the plain `npm start`; the one with a configuration is started and stopped.
    it.each(
      command === 'npm start' ? COMMANDS.filter((c) => (kindOf(c) as { run?: string })?.run === 'with-runtime') : [],
    )(
      // An AWS CLI command runs with awscli 2 of Debian, and with the aws the PATH finds first.
      'answers %s',
      async (aws) => {
        if (aws.startsWith('npx stepline ')) {
          // Act: the CLI finds the runtime through STEPLINE_URL, as README's `--url` note says.
          const done = await shell(aws, freshEnv({ STEPLINE_URL: started.url }));
          // Assess
          expect(done.stderr).toBe('');
          expect(done.code).toBe(0);
          expect(done.stdout).toMatch(/\S/);
          if (aws.includes('--json')) expect(() => JSON.parse(done.stdout)).not.toThrow();
          return;
        }
        // Prepare: where README says 8080, the port this runtime has.
        const line = aws.replaceAll('http://127.0.0.1:8080', started.url);

        // Act
        const debian = await shell(line, freshEnv({ PATH: `/usr/bin:${process.env['PATH']}` }));
        const first = await shell(line);

        // Assess
        for (const done of [debian, first]) {
          expect(done.stderr).toBe('');
          expect(done.code).toBe(0);
          expect(JSON.parse(done.stdout)).toHaveProperty('executions');
        }
      },
      60_000,
    );

    it('stops on Ctrl-C', async () => {
      // Act
      const ended = await interrupt(started);

      // Assess: the shell ends by the signal (or 0), and nothing printed an error on the way.
      expect(ended.code === 0 || ended.signal === 'SIGINT', JSON.stringify(ended)).toBe(true);
      expect(started.output()).not.toMatch(/Error|ERR_|stack/i);
    }, 30_000);
  });
});
