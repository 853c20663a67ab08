import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { functionObservability, readableLogLine } from '../../../local/runtime/observability';

/**
 * `stepline start`'s log lines (issue 17): readable for a person at a terminal, JSON lines for a file, a pipe or a
 * collector (and with `--log-format json`), never the two mixed. The terminal is a real pseudo-terminal (`script`).
 */

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'local/bin/stepline.cjs');
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `stepline start` in a fresh shell's environment, under a pseudo-terminal when `tty`; answers when it is up. */
function start(tty: boolean, extra: string[] = []): Promise<{ child: ChildProcess; url: string; text: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'stepline-logs-'));
  dirs.push(dir);
  const argv = [BIN, 'start', '--port', '0', '--state-dir', dir, '--no-console', ...extra];
  const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', TERM: 'dumb' };
  const child = tty
    ? spawn('script', ['-qfec', [process.execPath, ...argv].join(' '), '/dev/null'], { cwd: ROOT, env, detached: true })
    : spawn(process.execPath, argv, { cwd: ROOT, env, detached: true });
  let text = '';
  return new Promise((resolvePromise, reject) => {
    const on = (chunk: Buffer): void => {
      text += chunk.toString().replace(/\r/g, '');
      const url = /^Stepline is running at (\S+) /m.exec(text)?.[1];
      if (url && /^ {2}console /m.test(text)) resolvePromise({ child, url, text: () => text });
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`stepline start exited ${code}: ${text}`)));
  });
}

/** Starts one execution of a one-state machine on the runtime, which logs its start. */
async function startOne(url: string): Promise<void> {
  const sfn = new SFNClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: 'one',
      roleArn: 'arn:aws:iam::000000000000:role/one',
      definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }),
    }),
  );
  await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: 'logged' }));
  sfn.destroy();
}

async function linesAfterAStart(tty: boolean, extra: string[] = []): Promise<string[]> {
  const runtime = await start(tty, extra);
  await startOne(runtime.url);
  const deadline = Date.now() + 20_000;
  while (!/logged SUCCEEDED/.test(runtime.text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  process.kill(-(runtime.child.pid as number), 'SIGTERM');
  const text = runtime.text();
  return text.slice(text.indexOf('  console ')).split('\n').slice(1).filter(Boolean);
}

describe('the functions’ log lines', () => {
  it('reads as one line a person reads: time, level, service, message, own keys; an error without its stack', () => {
    // Prepare
    const error = new TypeError('token is missing');

    // Act
    const line = readableLogLine(
      {
        level: 'WARN',
        message: 'status not delivered',
        service: 'stepline-status',
        timestamp: '2026-12-05T07:00:00.000Z',
        cold_start: true,
        function_request_id: 'abc',
        context: 'stepline/build',
        error,
      },
      new Date('2026-12-05T12:03:04.120Z'),
    );

    // Assess
    expect(line).toBe(
      '12:03:04.120 WARN  stepline-status: status not delivered  context=stepline/build error=TypeError: token is missing',
    );
  });

  it('prints readable lines in the text format and Powertools JSON in the json format', () => {
    // Prepare
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });

    // Act
    try {
      functionObservability('stepline-status', 'WARN', () => {}, 'text').logger.warn('status not delivered', {
        context: 'x',
      });
      functionObservability('stepline-status', 'WARN', () => {}, 'json').logger.warn('status not delivered', {
        context: 'x',
      });
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}stepline-status: status not delivered {2}context=x\n$/);
    expect(JSON.parse(written[1] as string)).toMatchObject({
      level: 'WARN',
      message: 'status not delivered',
      service: 'stepline-status',
      context: 'x',
    });
  });
});

describe('stepline start', () => {
  it('writes readable lines on a terminal', async () => {
    // Act
    const lines = await linesAfterAStart(true);

    // Assess
    expect(lines).toContain('stepline: logged started');
    expect(lines).toContain('stepline: logged SUCCEEDED');
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
  }, 60_000);

  it('writes JSON lines when its output is not a terminal, and with --log-format json', async () => {
    // Act
    const [piped, asked] = await Promise.all([
      linesAfterAStart(false),
      linesAfterAStart(true, ['--log-format', 'json']),
    ]);

    // Assess
    for (const lines of [piped, asked]) {
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parsed).toContainEqual(
        expect.objectContaining({ level: 'INFO', message: 'logged started', execution: 'logged' }),
      );
      expect(parsed).toContainEqual(expect.objectContaining({ message: 'logged SUCCEEDED', status: 'SUCCEEDED' }));
    }
  }, 60_000);
});
