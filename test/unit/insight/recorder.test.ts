import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCommitLog } from '../../../adapters/local/commit-log';
import { SqliteDeploymentStore } from '../../../adapters/local/deployments-sqlite';
import { backfill } from '../../../core/insight/backfill';
import { DeploymentRecorder } from '../../../core/insight/service';
import type { StatusEvent } from '../../../core/status/contracts';
import { environment, pipelineRequest, route } from '../../support/githost/fixtures';

/**
 * The one write of delivery insight (core/insight/service.ts) over the real SQLite store and the real git commit log:
 * a repository on disk with commits at known committer dates, and the workflow's reports of its environments' ends.
 */

let repo: string;
const shas: Record<string, string> = {};

function git(...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: repo,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'T',
      GIT_AUTHOR_EMAIL: 't@example.test',
      GIT_COMMITTER_NAME: 'T',
      GIT_COMMITTER_EMAIL: 't@example.test',
    },
  }).trim();
}

function commitAt(name: string, date: string): void {
  writeFileSync(join(repo, 'file.txt'), name);
  git('add', 'file.txt');
  execFileSync('git', ['-C', repo, 'commit', '-q', '-m', name], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: repo,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'T',
      GIT_AUTHOR_EMAIL: 't@example.test',
      GIT_COMMITTER_NAME: 'T',
      GIT_COMMITTER_EMAIL: 't@example.test',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  });
  shas[name] = git('rev-parse', 'HEAD');
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'stepline-insight-'));
  git('init', '-q', '-b', 'main');
  commitAt('one', '2030-01-01T08:00:00Z');
  commitAt('two', '2030-01-02T08:00:00Z');
  commitAt('three', '2030-01-02T10:00:00Z');
});

afterAll(() => rmSync(repo, { recursive: true, force: true }));

const ARN = (run: string) => `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${run}`;

function report(run: string, commit: string, state: 'success' | 'failure', reason?: string): StatusEvent {
  const request = pipelineRequest('github', {
    repository: { fullName: 'acme/shop', cloneUrl: repo, defaultBranch: 'main', htmlUrl: null },
    commit: { sha: shas[commit] as string, before: null, message: commit, url: null },
  });
  return {
    request,
    route: route({ environments: [environment('production')] }),
    executionArn: ARN(run),
    step: 'deploy',
    environment: 'production',
    state,
    ...(reason ? { detail: { reason } } : {}),
  };
}

describe('DeploymentRecorder', () => {
  it('records each environment end with the commits it carried since the previous successful deploy', async () => {
    // Prepare
    const store = new SqliteDeploymentStore(new Database(':memory:'));
    const recorder = new DeploymentRecorder(store, localCommitLog(null));

    // Act
    const first = await recorder.record(report('r1', 'one', 'success'), new Date('2030-01-01T10:00:00Z'));
    const failed = await recorder.record(
      report('r2', 'two', 'failure', 'RolloutFailed: x; rolled back to 1234567'),
      new Date('2030-01-02T09:00:00Z'),
    );
    const retried = await recorder.record(
      report('r2', 'two', 'failure', 'RolloutFailed: x; rolled back to 1234567'),
      new Date('2030-01-02T09:00:05Z'),
    );
    const restored = await recorder.record(report('r3', 'three', 'success'), new Date('2030-01-02T12:00:00Z'));
    const other = await recorder.record({ ...report('r3', 'three', 'success'), step: 'build' }, new Date());

    // Assess: the first deploy carried only its commit, 2 h before it
    expect(first?.record).toMatchObject({ previousSha: null, commits: [{ sha: shas['one'] }] });
    expect(first?.leadTimes).toEqual([7200]);
    // The failed one is recorded as such, with what the workflow's reason says
    expect(failed?.record).toMatchObject({
      result: 'failed',
      failure: { kind: 'rolled-back' },
      rolledBackTo: '1234567',
      previousSha: shas['one'],
    });
    expect(failed?.leadTimes).toEqual([]);
    // The Task retried: one record
    expect(retried?.duplicate).toBe(true);
    // The restoring deploy carried both commits since the last success; 3 h after the failure
    expect(restored?.record.commits?.map((c) => c.sha)).toEqual([shas['three'], shas['two']]);
    expect(restored?.leadTimes).toEqual([7200, 14400]);
    expect(restored?.restoredAfter).toBe(3 * 3600);
    expect(other).toBeNull();
    expect((await store.list({})).map((r) => r.executionArn)).toEqual([ARN('r1'), ARN('r2'), ARN('r3')]);
  });

  it('writes the record without commits when the commit log cannot tell', async () => {
    // Prepare: a repository that is not on this machine, and no host to ask
    const store = new SqliteDeploymentStore(new Database(':memory:'));
    const recorder = new DeploymentRecorder(store, localCommitLog(null));
    const event = report('r1', 'one', 'success');
    const remote = {
      ...event,
      request: {
        ...event.request,
        repository: { ...event.request.repository, cloneUrl: 'https://example.test/x.git' },
      },
    };

    // Act
    const recorded = await recorder.record(remote, new Date('2030-01-01T10:00:00Z'));

    // Assess
    expect(recorded?.record.commits).toBeNull();
    expect(recorded?.leadTimes).toEqual([]);
  });

  it('backfills the reports that have no record, each after the records before it', async () => {
    // Prepare: r1 was recorded live; r2 and r3 only have histories
    const store = new SqliteDeploymentStore(new Database(':memory:'));
    const log = localCommitLog(null);
    await new DeploymentRecorder(store, log).record(report('r1', 'one', 'success'), new Date('2030-01-01T10:00:00Z'));

    // Act
    const summary = await backfill(
      [
        { event: report('r3', 'three', 'success'), at: new Date('2030-01-02T12:00:00Z') },
        { event: report('r1', 'one', 'success'), at: new Date('2030-01-01T10:00:01Z') },
        {
          event: report('r2', 'two', 'failure', 'the canary 10% analysis failed: x'),
          at: new Date('2030-01-02T09:00:00Z'),
        },
      ],
      store,
      log,
    );

    // Assess
    expect(summary).toEqual({ written: 2, existing: 1 });
    const records = await store.list({});
    expect(records.map((r) => `${r.executionArn.split(':').pop()}:${r.result}:${r.failure?.kind ?? ''}`)).toEqual([
      'r1:succeeded:',
      'r2:failed:canary-abort',
      'r3:succeeded:',
    ]);
    expect(records[2]?.previousSha).toBe(shas['one']);
    expect(records[2]?.commits?.map((c) => c.sha)).toEqual([shas['three'], shas['two']]);
  });
});

describe('the local commit log', () => {
  it('answers the deployed commit alone when the base is not in the repository', async () => {
    // Act
    const found = await localCommitLog(null).between({
      provider: 'github',
      repository: 'acme/shop',
      cloneUrl: repo,
      base: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
      head: shas['three'] as string,
    });
    // Assess
    expect(found).toEqual([{ sha: shas['three'], time: '2030-01-02T10:00:00.000Z' }]);
  });
});
