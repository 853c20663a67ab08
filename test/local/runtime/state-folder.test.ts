import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { processStartTicks } from '../../../local/runtime/state-folder';
import { startChildRuntime } from './child-support';
import { removeDir, startTestRuntime, tempDir } from './support';

/**
 * The state folder (issue 15, findings 5, 10 and 11; ADR 0089): an empty webhook secret is refused at start; the
 * lock is an exclusive create checked against the holder's start time, so a stale `runtime.pid` naming an
 * unrelated live process does not block; the folder is 0700 and its files 0600.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A process that is not a runtime, alive until the test ends. */
function unrelatedProcess(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return child;
}

async function started(options: Parameters<typeof startTestRuntime>[0]): Promise<Runtime> {
  const runtime = await startTestRuntime(options);
  cleanups.push(() => runtime.stop());
  return runtime;
}

describe('the webhook secret', () => {
  it.each([
    [
      'WEBHOOK_SECRET= in the environment',
      { webhookSecret: undefined, env: { PATH: process.env['PATH'], WEBHOOK_SECRET: '' } },
    ],
    ['an empty webhookSecret option', { webhookSecret: '  ' }],
  ])('is refused at start when empty: %s', async (_case, options) => {
    // Prepare
    const stateDir = tempDir('empty-secret');
    cleanups.push(() => removeDir(stateDir));

    // Act
    const start = startTestRuntime({ stateDir, ...options });

    // Assess
    await expect(start).rejects.toThrow(/set but empty/);
  });
});

describe('the lock', () => {
  it('is taken over from a stale runtime.pid that names an unrelated live process', async () => {
    // Prepare: the new form (pid and start time) with a start time that is not the process's, and the older form
    // (a pid alone) written before that process started.
    const sleeper = unrelatedProcess();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const newForm = tempDir('lock-new');
    const oldForm = tempDir('lock-old');
    cleanups.push(() => removeDir(newForm));
    cleanups.push(() => removeDir(oldForm));
    writeFileSync(
      join(newForm, 'runtime.pid'),
      `${sleeper.pid} ${(processStartTicks(sleeper.pid ?? 0) ?? 0) + 12345}\n`,
    );
    writeFileSync(join(oldForm, 'runtime.pid'), `${sleeper.pid}\n`);
    utimesSync(join(oldForm, 'runtime.pid'), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

    // Act
    const first = await started({ stateDir: newForm });
    const second = await started({ stateDir: oldForm });

    // Assess
    expect(readFileSync(join(first.stateDir, 'runtime.pid'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    expect(readFileSync(join(second.stateDir, 'runtime.pid'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });

  it('is refused while another runtime holds it, naming its pid', async () => {
    // Prepare
    const stateDir = tempDir('lock-held');
    cleanups.push(() => removeDir(stateDir));
    const other = await startChildRuntime({
      port: 0,
      stateDir,
      logLevel: 'SILENT',
      replayEveryMs: 0,
      webhookSecret: 'x'.repeat(24),
    });
    cleanups.push(() => other.stop());

    // Act
    const start = startTestRuntime({ stateDir });

    // Assess
    await expect(start).rejects.toThrow(`another Stepline runtime (pid ${other.pid})`);
  }, 60_000);
});

describe('the state folder', () => {
  it('is 0700, with its files 0600 and its folders 0700', async () => {
    // Prepare
    const stateDir = tempDir('modes');
    cleanups.push(() => removeDir(stateDir));

    // Act
    const runtime = await started({ stateDir, webhookSecret: undefined, env: { PATH: process.env['PATH'] } });
    runtime.cluster?.save();
    const entries = readdirSync(stateDir, { withFileTypes: true }).map((e) => ({
      name: e.name,
      dir: e.isDirectory(),
      mode: statSync(join(stateDir, e.name)).mode & 0o777,
    }));

    // Assess
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(entries.map((e) => e.name)).toEqual(
      expect.arrayContaining(['stepline.db', 'webhook-secret', 'approval-keys', 'kubeconfig', 'runtime.pid', 'bin']),
    );
    expect(entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))).toEqual([]);
  });
});
