import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { ExecutionStore, openStateDb, stateFileOf } from '../../../local/store';
import { startChildRuntime } from './child-support';
import { ENVIRONMENTS, REPOSITORY, sampleFiles } from './sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  SECRET,
  startTestRuntime,
  tempDir,
  waitFor,
} from './support';

/**
 * `kill -9` right after a deploy loses nothing (issue 15, finding 6; ADR 0089): the runtime kills itself at the end
 * of the turn in which the history records the Deploy state's exit, the worst moment there is. The simulated
 * cluster's state file already holds what the deploy applied, and after a restart the run resumes and succeeds.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('a kill -9 right after a deploy', () => {
  it('finds the applied objects on disk, and the resumed run succeeds', async () => {
    // Prepare
    const repo = gitRepository(sampleFiles());
    const stateDir = tempDir('kill-after-deploy');
    cleanups.push(
      () => removeDir(repo.dir),
      () => removeDir(stateDir),
    );
    const config = pipelineConfig({ repository: REPOSITORY, environments: ENVIRONMENTS });
    const child = await startChildRuntime(
      {
        port: 0,
        stateDir,
        config,
        webhookSecret: SECRET,
        logLevel: 'SILENT',
        replayEveryMs: 0,
        approvalKeeperEveryMs: 0,
        kubernetes: 'simulated',
        simulatedCluster: { tickMs: 20, timeScale: 0.02 },
      },
      { killAfter: { type: 'TaskStateExited', state: 'Deploy' } },
    );

    // Act
    const answer = await deliver(child, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const ended = await child.exited;
    const executionArn = answer.body['executionArn'] as string;
    const db = openStateDb(stateFileOf(stateDir));
    const recorded = new ExecutionStore(db)
      .history(executionArn)
      .some((e) => e.type === 'TaskStateExited' && JSON.stringify(e).includes('"name":"Deploy"'));
    db.close();
    const file = join(stateDir, 'kubernetes.json');
    const saved = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const runtime: Runtime = await startTestRuntime({ stateDir, config: config as never });
    cleanups.push(() => runtime.stop());
    const execution = await waitFor(
      'the resumed run',
      () => {
        const record = runtime.stores.executions.getExecution(executionArn);
        return record && record.status !== 'RUNNING' ? record : undefined;
      },
      60_000,
    );

    // Assess
    expect(answer.status).toBe(202);
    expect(ended.signal).toBe('SIGKILL');
    expect(recorded).toBe(true);
    expect(saved).toContain('"kind":"Deployment"');
    expect(saved).toMatch(/"name":"hello","namespace":"hello"/);
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  }, 120_000);
});
