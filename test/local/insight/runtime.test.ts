import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord, DoraReport } from '../../../core/insight';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { ENVIRONMENTS, REPOSITORY, sampleFiles } from '../runtime/sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  startTestRuntime,
  waitFor,
} from '../runtime/support';

/**
 * Delivery insight on the local runtime, end to end: real pushes of a real git repository run the pipeline, the
 * status function records each environment's end in the state file (with the commits each deploy carried, read with
 * git), and the four keys come out of `/api/insight/dora`, `/metrics` and `stepline metrics dora` alike; backfill
 * makes the same records again from the execution histories.
 *
 * Three runs to staging: the first commit (deployed), two more commits pushed at once (deployed, carrying both), then
 * a commit whose rollout never gets ready (rolled back to the second deploy's commit). By the definitions (README,
 * "Delivery insight"): 2 successful deploys of 3 deploys; lead times for 1 + 2 = 3 commits; change failure rate
 * 1 / 3; the environment failed since the third run's report, no restore yet.
 */

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;
const shas: string[] = [];

async function ended(executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    100_000,
  );
}

async function push(sha: string, before?: string): Promise<ExecutionRecord> {
  const answer = await deliver(
    runtime,
    githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha, ...(before ? { before } : {}) }),
  );
  return ended(answer.body['executionArn'] as string);
}

async function dora(query = ''): Promise<DoraReport> {
  return (await (await fetch(`${runtime.url}/api/insight/dora${query}`)).json()) as DoraReport;
}

function records(): DeploymentRecord[] {
  return (
    runtime.stores.db.prepare('SELECT document FROM deployment_records ORDER BY deployed_at').all() as {
      document: string;
    }[]
  ).map((r) => JSON.parse(r.document) as DeploymentRecord);
}

beforeAll(async () => {
  runtime = await startTestRuntime({
    config: pipelineConfig({ repository: REPOSITORY, environments: ENVIRONMENTS }) as never,
  });
  repo = gitRepository(sampleFiles());
  shas.push(repo.sha);
  expect((await push(repo.sha)).status).toBe('SUCCEEDED');
  shas.push(repo.commit({ 'notes/one.txt': 'one\n' }, 'second'));
  shas.push(repo.commit({ 'notes/two.txt': 'two\n' }, 'third'));
  expect((await push(shas[2]!, shas[0])).status).toBe('SUCCEEDED');
  // The fourth commit's image never gets ready: its rollout fails and staging is rolled back.
  shas.push(
    repo.commit({
      'deploy/staging/app.yaml': sampleFiles()['deploy/staging/app.yaml']!.replace(
        'progressDeadlineSeconds: 600',
        'progressDeadlineSeconds: 30',
      ),
    }),
  );
  const digest = `sha256:${createHash('sha256').update(shas[3]!).digest('hex')}`;
  runtime.cluster?.setImageReadiness((image) => !image.includes(digest));
  const failed = await push(shas[3]!, shas[2]);
  runtime.cluster?.setImageReadiness(() => true);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'Stepline.DeployFailed' });
}, 300_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
});

describe('delivery insight on the local runtime', () => {
  it('records each run to staging with the commits it carried since the previous deploy, and the rollback', () => {
    // Act
    const [first, second, third] = records();

    // Assess
    expect(records()).toHaveLength(3);
    expect(first).toMatchObject({ environment: 'staging', result: 'succeeded', sha: shas[0], previousSha: null });
    expect(first?.commits?.map((c) => c.sha)).toEqual([shas[0]]);
    expect(second).toMatchObject({ result: 'succeeded', sha: shas[2], previousSha: shas[0] });
    expect(second?.commits?.map((c) => c.sha)).toEqual([shas[2], shas[1]]);
    expect(third).toMatchObject({
      result: 'failed',
      sha: shas[3],
      previousSha: shas[2],
      failure: { kind: 'rolled-back' },
      rolledBackTo: shas[2]!.slice(0, 7),
    });
  });

  it('serves the four keys computed from the records', async () => {
    // Act
    const report = await dora('?since=7d');
    const staging = report.environments.find((e) => e.environment === 'staging');
    const third = records()[2]!;

    // Assess: 2 of 3 deploys succeeded; 3 commits' lead times; 1 failure of 3 deploys; failed since the third
    expect(report.window.days).toBe(7);
    expect(staging?.deploymentFrequency).toMatchObject({ succeeded: 2, perDay: 2 / 7, bucket: 'weekly' });
    expect(staging?.leadTime.changes).toBe(3);
    expect(staging?.leadTime.median).toBeGreaterThanOrEqual(0);
    expect(staging?.changeFailureRate).toEqual({ failures: 1, deploys: 3, rate: 1 / 3 });
    expect(staging?.timeToRestore).toEqual({ restores: 0, median: null, openSince: third.deployedAt });
    expect(staging?.trend.at(-1)).toMatchObject({ deploys: 3, succeeded: 2, changeFailureRate: 1 / 3 });
  });

  it('exposes the four keys on /metrics as Prometheus gauges per environment', async () => {
    // Act
    const text = await (await fetch(`${runtime.url}/metrics`)).text();
    const { environments } = await dora();
    const lead = environments[0]!.leadTime;

    // Assess
    expect(text).toContain('# TYPE stepline_dora_deployment_frequency_per_day gauge');
    expect(text).toContain('stepline_dora_deploys_succeeded{environment="staging"} 2\n');
    expect(text).toContain('stepline_dora_deploys{environment="staging"} 3\n');
    expect(text).toContain(
      `stepline_dora_deployment_frequency_per_day{environment="staging"} ${Math.round((2 / 30) * 1e6) / 1e6}\n`,
    );
    expect(text).toContain('stepline_dora_change_failure_rate{environment="staging"} 0.333333\n');
    expect(text).toContain(`stepline_dora_lead_time_seconds{environment="staging",quantile="0.5"} ${lead.median}\n`);
    expect(text).toContain('stepline_dora_deployment_frequency_bucket{bucket="weekly",environment="staging"} 1\n');
    expect(text).toMatch(/stepline_dora_failed_since_timestamp_seconds\{environment="staging"\} \d+/);
  });

  it('prints the same figures with stepline metrics dora, as a table and as JSON', async () => {
    // Act
    const json = await run(TSX, [CLI, 'metrics', 'dora', '--url', runtime.url, '--since', '7d', '--json']);
    const text = await run(TSX, [CLI, 'metrics', 'dora', '--url', runtime.url, '--environment', 'staging']);

    // Assess
    expect(JSON.parse(json.stdout).environments).toEqual((await dora('?since=7d')).environments);
    expect(text.stdout).toMatch(/^DORA's four keys, the last 30 days \(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\)$/m);
    expect(text.stdout).toMatch(/^staging\s+2\s+0\.07\/day, weekly\s+\S+ \/ \S+\s+33% \(1 of 3\)\s+- \(failed since /m);
  }, 30_000);

  it('makes the same records again from the execution histories (backfill), once', async () => {
    // Prepare: the records as recorded live, then gone
    const live = records();
    runtime.stores.db.prepare('DELETE FROM deployment_records').run();

    // Act
    const first = await run(TSX, [CLI, 'metrics', 'dora', '--url', runtime.url, '--backfill', '--json']);
    const again = await run(TSX, [CLI, 'metrics', 'dora', '--url', runtime.url, '--backfill']);

    // Assess: the same records but their times (a history's TaskScheduled, not the report's end)
    expect(JSON.parse(first.stdout).backfill).toEqual({ written: 3, existing: 0 });
    expect(again.stdout).toMatch(/^backfill: 0 records made from execution histories, 3 had one already$/m);
    const strip = (r: DeploymentRecord) => ({ ...r, deployedAt: undefined });
    expect(records().map(strip)).toEqual(live.map(strip));
    for (const [i, r] of records().entries()) {
      expect(Math.abs(Date.parse(r.deployedAt) - Date.parse(live[i]!.deployedAt))).toBeLessThan(5_000);
    }
  }, 30_000);

  it('answers 400 for a window it cannot read', async () => {
    // Act
    const response = await fetch(`${runtime.url}/api/insight/dora?since=forever`);

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_parameter' });
  });
});
