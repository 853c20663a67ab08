import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The `stepline` command as a shell runs it: through its `bin` (local/bin/stepline.cjs, what `npx stepline` runs),
 * the runtime it starts in a child process, what it prints, and the AWS CLI command it prints run as printed with
 * Debian's awscli 2 (/usr/bin/aws). test/readme.test.ts runs `npx stepline` and README's AWS CLI command with both
 * CLIs of this machine.
 */

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'local/bin/stepline.cjs');
const run = promisify(execFile);

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly banner: string[];
}

/** `stepline start` through the bin, in a fresh shell's environment (no terminal: logs are JSON lines). */
function startRuntime(stateDir: string): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--state-dir', stateDir, '--no-console'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePromise, reject) => {
    let text = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const url = /^Stepline is running at (\S+) /m.exec(text)?.[1];
      if (url && /^ {2}console /m.test(text)) resolvePromise({ child, url, banner: text.split('\n') });
    });
    child.on('exit', (code) => reject(new Error(`stepline start exited ${code}: ${errors}${text}`)));
  });
}

/** A bash command line, run as a person would paste it, with `first` at the head of the PATH. */
async function shell(command: string, first?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const PATH = first ? `${first}:${process.env['PATH']}` : (process.env['PATH'] as string);
  return run('bash', ['-c', command], { cwd: ROOT, env: { PATH, HOME: process.env['HOME'] }, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

describe('the stepline command, as a shell runs it', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'stepline-cli-state-'));
  let runtime: Started;
  let longRun: string;

  beforeAll(async () => {
    runtime = await startRuntime(stateDir);
    // A run with a long history: a Map of 400 Pass states, about 1,600 events.
    const sfn = new SFNClient({
      endpoint: runtime.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: 'long-history',
        roleArn: 'arn:aws:iam::000000000000:role/long-history',
        definition: JSON.stringify({
          StartAt: 'Each',
          States: {
            Each: {
              Type: 'Map',
              ItemsPath: '$.items',
              ItemProcessor: { StartAt: 'Step', States: { Step: { Type: 'Pass', End: true } } },
              End: true,
            },
          },
        }),
      }),
    );
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine.stateMachineArn,
        name: 'long',
        input: JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => i) }),
      }),
    );
    longRun = started.executionArn as string;
    sfn.destroy();
  }, 60_000);

  afterAll(() => {
    runtime?.child.kill('SIGTERM');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts the runtime through its bin, which imports the runtime folder (no ERR_UNSUPPORTED_DIR_IMPORT)', () => {
    // Assess
    expect(runtime.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(runtime.banner.join('\n')).not.toContain('ERR_UNSUPPORTED_DIR_IMPORT');
    expect(runtime.banner).toContainEqual(`  CLI             npx stepline executions list --url ${runtime.url}`);
  });

  it('ends quietly with 0 when `executions history … | head` stops reading', async () => {
    // Act
    const piped = await shell(
      `node ${BIN} executions history ${longRun} --url ${runtime.url} | head -3; exit \${PIPESTATUS[0]}`,
    );

    // Assess
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    expect(piped.stdout.split('\n')[0]).toMatch(/^ID\s+TIME\s+TYPE\s+STATE\s+DETAIL$/);
    expect(piped.stdout.trimEnd().split('\n')).toHaveLength(3);
  }, 30_000);

  it("prints an AWS CLI command that Debian's awscli 2 runs as printed", async () => {
    // Prepare
    const line = runtime.banner.find((l) => l.startsWith('  Step Functions  '));
    const command = line?.slice('  Step Functions  '.length) ?? '';

    // Act
    const listed = await shell(`${command} --output json`, '/usr/bin');

    // Assess
    expect(command).toMatch(/ aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ stepfunctions list-executions /);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ executions: [] });
  }, 30_000);
});
