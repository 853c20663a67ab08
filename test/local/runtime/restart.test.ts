import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { environments, REPOSITORY, sampleFiles } from './sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  SECRET,
  sfnClient,
  startTestRuntime,
  tempDir,
  waitFor,
} from './support';

/**
 * What survives a `kill -9` of the runtime: the execution that was running resumes from the state it was in (or,
 * with resume turned off, ends FAILED with a cause that says why and can be redriven), the build that was running
 * ends FAULT, and deliveries that were parked are started at the next start.
 */

const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');
const children: ChildProcess[] = [];
const dirs: string[] = [];

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
}

/** `stepline start --json` in a child process; resolves once it says it is ready. */
function startChild(stateDir: string, configFile: string, ...extra: string[]): Promise<Started> {
  const child = spawn(
    TSX,
    [CLI, 'start', '--port', '0', '--state-dir', stateDir, '--config', configFile, '--json', ...extra],
    {
      env: {
        ...process.env,
        WEBHOOK_SECRET: SECRET,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        KUBECONFIG: '',
        STEPLINE_KUBE_TICK_MS: '20',
        STEPLINE_KUBE_TIME_SCALE: '0.02',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let buffer = '';
    let errors = '';
    child.stderr?.on('data', (d: Buffer) => {
      errors += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const message = JSON.parse(line) as { type?: string; url?: string; pid?: number };
          if (message.type === 'ready')
            resolvePromise({ child, url: message.url as string, pid: message.pid as number });
        } catch {
          // A partial line: wait for the rest.
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`stepline start exited with ${code}: ${errors.slice(-2000)}`)));
  });
}

async function killNine(started: Started): Promise<void> {
  process.kill(started.pid, 'SIGKILL');
  await waitFor('the runtime to die', () => {
    try {
      process.kill(started.pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

/** A repository whose build runs long enough to be killed in the middle of it. */
function slowRepository(): { dir: string; sha: string } {
  const files = sampleFiles();
  files['buildspec.yml'] = files['buildspec.yml']!.replace(
    '      - test -f service.txt',
    '      - test -f service.txt\n      - sleep 2',
  );
  const repo = gitRepository(files);
  dirs.push(repo.dir);
  return repo;
}

function configFile(): string {
  const dir = tempDir('config');
  dirs.push(dir);
  const file = join(dir, 'stepline.config.json');
  writeFileSync(file, JSON.stringify(pipelineConfig({ repository: REPOSITORY, environments: environments() })));
  return file;
}

/** Waits until the build of an execution runs its slow command; answers the build's id. */
async function sleepingBuild(url: string, executionArn: string): Promise<string> {
  return waitFor('the build to be sleeping', async () => {
    const { builds } = (await getJson(`${url}/api/builds?execution=${encodeURIComponent(executionArn)}`)) as {
      builds: { id: string }[];
    };
    const id = builds[0]?.id;
    if (!id) return undefined;
    const log = await (await fetch(`${url}/api/builds/${encodeURIComponent(id)}/log`)).text();
    return log.includes('Running command sleep 2') ? id : undefined;
  });
}

async function endOf(runtime: Runtime, executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    60_000,
  );
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe('after a restart', () => {
  it('resumes, after kill -9, the execution that was running from the state it was in, and it succeeds', {
    timeout: 90_000,
  }, async () => {
    // Prepare: a runtime in a child process, killed while the build runs
    const stateDir = tempDir('state');
    dirs.push(stateDir);
    const config = configFile();
    const repo = slowRepository();
    const first = await startChild(stateDir, config);
    const answer = await deliver(
      { url: first.url },
      githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }),
    );
    const executionArn = answer.body['executionArn'] as string;
    const buildId = await sleepingBuild(first.url, executionArn);
    await killNine(first);
    // Act
    const second = await startTestRuntime({ stateDir, config: readFileSync(config, 'utf8') });
    const ended = await endOf(second, executionArn);
    const history = second.stores.executions.history(executionArn);
    const builds = second.stores.builds.list({ executionArn }).map((b) => b.status);
    const deployed = second.cluster?.object('apps/v1', 'Deployment', 'hello', 'hello');
    await second.stop();
    // ... and a third start still serves what the resumed run deployed, and the revision a rollback would read
    const third = await startTestRuntime({ stateDir, config: readFileSync(config, 'utf8') });
    const kept = third.cluster?.object('apps/v1', 'Deployment', 'hello', 'hello');
    const revision = third.cluster?.object('v1', 'Secret', 'hello', 'stepline.staging.v1');
    await third.stop();
    // Assess
    expect(second.recovered).toMatchObject({ resumed: [executionArn], builds: [buildId] });
    expect(ended.status, String(ended.cause)).toBe('SUCCEEDED');
    expect(ended.redriveCount).toBe(1);
    const redriven = history.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(redriven).toBeGreaterThan(0);
    expect(
      (history[redriven + 1] as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name,
    ).toBe('Build');
    expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
    const times = history.map((e) => e.timestamp.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(builds.sort()).toEqual(['FAULT', 'SUCCEEDED']);
    expect(deployed?.['metadata']).toBeDefined();
    expect(kept?.['metadata']).toEqual(deployed?.['metadata']);
    expect(kept?.['spec']).toEqual(deployed?.['spec']);
    expect(revision?.['metadata']).toBeDefined();
  });

  it('with resume turned off, ends it FAILED with a cause that says why, and a redrive finishes it', {
    timeout: 60_000,
  }, async () => {
    // Prepare: stopped while the build runs
    const stateDir = tempDir('state');
    dirs.push(stateDir);
    const config = readFileSync(configFile(), 'utf8');
    const repo = slowRepository();
    const first = await startTestRuntime({ stateDir, config });
    const answer = await deliver(first, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const executionArn = answer.body['executionArn'] as string;
    await sleepingBuild(first.url, executionArn);
    await first.stop();
    // Act
    const second = await startTestRuntime({ stateDir, config, resumeOnRestart: false });
    const failed = second.stores.executions.getExecution(executionArn);
    const sfn = sfnClient(second);
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const ended = await endOf(second, executionArn);
    sfn.destroy();
    await second.stop();
    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', error: 'Stepline.RuntimeInterrupted' });
    expect(failed?.cause).toMatch(/local runtime stopped \(killed or crashed\) while this execution was running/);
    expect(ended.status, String(ended.cause)).toBe('SUCCEEDED');
    expect(ended.redriveCount).toBe(1);
  });

  it('starts the deliveries that were parked', { timeout: 90_000 }, async () => {
    // Prepare: a runtime without a workflow parks what it accepts
    const stateDir = tempDir('state');
    dirs.push(stateDir);
    const repo = gitRepository(sampleFiles());
    dirs.push(repo.dir);
    const config = pipelineConfig({ repository: REPOSITORY, environments: environments() }) as never;
    const first = await startTestRuntime({ stateDir, config, definitionFile: join(stateDir, 'missing.asl.json') });
    const answer = await deliver(first, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    await first.stop();
    // Act
    const second = await startTestRuntime({ stateDir, config });
    const name = answer.body['name'] as string;
    const executionArn = `${second.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const ended = await waitFor('the replayed execution to end', () => {
      const e = second.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    });
    await second.stop();
    // Assess
    expect(answer).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(second.recovered.replayed).toMatchObject({ started: 1, failed: 0 });
    expect(ended.status).toBe('SUCCEEDED');
  });
});

describe('a run killed at its approval gate', () => {
  it('keeps its one request after the restart: same id, same link, and approving it deploys', {
    timeout: 120_000,
  }, async () => {
    // Prepare: a runtime in a child process, killed while production's gate waits.
    const stateDir = tempDir('state');
    dirs.push(stateDir);
    const dir = tempDir('config');
    dirs.push(dir);
    const file = join(dir, 'stepline.config.json');
    const gated = { ...environments()['staging'], approval: { approvers: ['alice'], timeoutMinutes: 30 } };
    writeFileSync(
      file,
      JSON.stringify(pipelineConfig({ repository: REPOSITORY, environments: { production: gated } })),
    );
    const repo = gitRepository(sampleFiles());
    dirs.push(repo.dir);
    const first = await startChild(stateDir, file);
    const answer = await deliver(
      { url: first.url },
      githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }),
    );
    const executionArn = answer.body['executionArn'] as string;
    const waiting = async (url: string) =>
      ((await getJson(`${url}/api/approvals?status=waiting`)) as { approvals: { id: string; url: string }[] })
        .approvals;
    const [before] = await waitFor('the approval request', async () => {
      const list = await waiting(first.url);
      return list.length ? list : undefined;
    });
    const tokenOf = (runtime: Runtime) =>
      (
        JSON.parse(
          (runtime.stores.db.prepare('SELECT record FROM approvals WHERE id = ?').get(before!.id) as { record: string })
            .record,
        ) as { taskToken: string }
      ).taskToken;
    await killNine(first);

    // Act
    const second = await startTestRuntime({
      stateDir,
      config: readFileSync(file, 'utf8'),
      approvalKeeperEveryMs: 1000,
    });
    const killedToken = tokenOf(second);
    await waitFor('the resumed gate to ask again', () => (tokenOf(second) !== killedToken ? true : undefined), 60_000);
    const after = await waiting(second.url);
    const decided = await second.approvals.decide(before!.id, { action: 'approve', as: 'alice' });
    const ended = await endOf(second, executionArn);
    const rows = second.stores.db.prepare('SELECT id FROM approvals').all();
    await second.stop();

    // Assess
    expect(after.map((a) => [a.id, a.url.replace(second.url, '')])).toEqual([
      [before!.id, before!.url.replace(first.url, '')],
    ]);
    expect(decided.kind).toBe('approved');
    expect(ended.status, String(ended.cause)).toBe('SUCCEEDED');
    expect(rows).toHaveLength(1);
  });
});
