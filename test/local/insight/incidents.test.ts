import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
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
  SECRET,
  startTestRuntime,
  waitFor,
} from '../runtime/support';

/**
 * Incidents on the local runtime, end to end (ADR 0099): a real push deploys a commit to staging; a signed GitHub
 * `issues` delivery, labelled incident and naming that commit as its root cause, is recorded open, then resolved
 * when the issue is closed; `stepline metrics dora --json` then counts the deploy as a change failure (1 of 1) and the
 * incident's open-to-close time as the time to restore. An issue without the label writes nothing. Removing the
 * label withdraws the incident (ADR 0112): the figures drop back; labelling it again brings them back.
 */

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;
let deployed: DeploymentRecord;

/** A signed GitHub `issues` delivery (the fields Stepline reads, as GitHub's documentation shows them). */
function issueDelivery(issue: {
  action: string;
  labels: string[];
  body: string;
  createdAt: string;
  closedAt: string | null;
  /** The label the action added or removed (`labeled`, `unlabeled`). */
  label?: string;
  updatedAt?: string;
}): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    action: issue.action,
    ...(issue.label ? { label: { id: 9, name: issue.label, color: 'd73a4a', default: false } } : {}),
    issue: {
      number: 7,
      title: 'Checkout answers 500',
      body: issue.body,
      state: issue.closedAt ? 'closed' : 'open',
      labels: issue.labels.map((name, id) => ({ id, name, color: 'd73a4a', default: false })),
      created_at: issue.createdAt,
      updated_at: issue.updatedAt ?? issue.closedAt ?? issue.createdAt,
      closed_at: issue.closedAt,
      user: { login: 'oncall', id: 3, type: 'User' },
    },
    repository: { id: 1, name: 'hello', full_name: REPOSITORY, owner: { login: 'acme' } },
    sender: { login: 'oncall', id: 3, type: 'User' },
  });
  const deliveryId = randomUUID();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      'user-agent': 'GitHub-Hookshot/test',
    },
  };
}

async function dora(): Promise<DoraReport> {
  const { stdout } = await run(TSX, [CLI, 'metrics', 'dora', '--url', runtime.url, '--since', '7d', '--json']);
  return JSON.parse(stdout) as DoraReport;
}

beforeAll(async () => {
  runtime = await startTestRuntime({
    config: pipelineConfig({ repository: REPOSITORY, environments: ENVIRONMENTS }) as never,
  });
  repo = gitRepository(sampleFiles());
  const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
  const ended = await waitFor(
    'the end of the deploy',
    () => {
      const e = runtime.stores.executions.getExecution(answer.body['executionArn'] as string);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    100_000,
  );
  expect((ended as ExecutionRecord).status).toBe('SUCCEEDED');
  const row = runtime.stores.db.prepare('SELECT document FROM deployment_records').get() as { document: string };
  deployed = JSON.parse(row.document) as DeploymentRecord;
}, 200_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
});

describe('incidents from issue events on the local runtime', () => {
  it('an issue labelled incident naming the deployed commit shows as a change failure and its time to restore', async () => {
    // Prepare: the incident opens just after the deploy and is closed 90 seconds later (no later than now)
    const opened = Date.parse(deployed.deployedAt) + 1;
    const closed = Math.min(opened + 90_000, Date.now());
    const text = `environment: staging\nroot cause: ${repo.sha.slice(0, 10)}`;
    const createdAt = new Date(opened).toISOString();
    const before = await dora();

    // Act
    const open = await deliver(
      runtime,
      issueDelivery({ action: 'labeled', labels: ['Incident'], body: text, createdAt, closedAt: null }),
    );
    const resolved = await deliver(
      runtime,
      issueDelivery({
        action: 'closed',
        labels: ['Incident'],
        body: text,
        createdAt,
        closedAt: new Date(closed).toISOString(),
      }),
    );
    const after = await dora();

    // Assess
    expect(before.environments[0]).toMatchObject({
      environment: 'staging',
      changeFailureRate: { failures: 0, deploys: 1, rate: 0 },
      timeToRestore: { restores: 0, median: null },
    });
    expect(open).toEqual({
      status: 202,
      body: { status: 'incident recorded', incident: `github:${REPOSITORY}#7`, state: 'open' },
    });
    expect(resolved.body).toMatchObject({ status: 'incident recorded', state: 'resolved' });
    const staging = after.environments.find((e) => e.environment === 'staging');
    expect(staging?.changeFailureRate).toEqual({ failures: 1, deploys: 1, rate: 1 });
    expect(staging?.timeToRestore).toMatchObject({ restores: 1, median: (closed - opened) / 1000 });
  }, 60_000);

  it('an issue without the label is not an incident, and says so', async () => {
    // Act
    const answer = await deliver(
      runtime,
      issueDelivery({
        action: 'opened',
        labels: ['bug'],
        body: `root cause: ${repo.sha}`,
        createdAt: new Date().toISOString(),
        closedAt: null,
      }),
    );
    const count = runtime.stores.db.prepare('SELECT count(*) AS n FROM deployment_incidents').get() as { n: number };

    // Assess
    expect(answer).toEqual({
      status: 202,
      body: { status: 'ignored', code: 'not_an_incident', reason: 'issue #7 is not labelled incident' },
    });
    expect(count.n).toBe(1);
  });

  it('removing the incident label withdraws the incident from the figures, and labelling it again restores it', async () => {
    // Prepare: the incident of the first test, recorded and resolved (1 failure of 1 deploy, 1 restore)
    const row = runtime.stores.db.prepare('SELECT document FROM deployment_incidents').get() as { document: string };
    const recorded = JSON.parse(row.document) as { openedAt: string; resolvedAt: string };
    const text = `environment: staging\nroot cause: ${repo.sha.slice(0, 10)}`;
    const issue = { body: text, createdAt: recorded.openedAt, closedAt: recorded.resolvedAt };
    const before = await dora();

    // Act
    const unlabelled = await deliver(
      runtime,
      issueDelivery({ ...issue, action: 'unlabeled', labels: [], label: 'Incident', updatedAt: recorded.resolvedAt }),
    );
    const stored = runtime.stores.db.prepare('SELECT document FROM deployment_incidents').all() as {
      document: string;
    }[];
    const withdrawn = await dora();
    const relabelled = await deliver(
      runtime,
      issueDelivery({ ...issue, action: 'labeled', labels: ['Incident'], label: 'Incident' }),
    );
    const after = await dora();

    // Assess
    const staging = (report: DoraReport) => report.environments.find((e) => e.environment === 'staging');
    expect(staging(before)?.changeFailureRate).toEqual({ failures: 1, deploys: 1, rate: 1 });
    expect(unlabelled).toEqual({
      status: 202,
      body: { status: 'incident recorded', incident: `github:${REPOSITORY}#7`, state: 'withdrawn' },
    });
    expect(stored.map((r) => JSON.parse(r.document))).toEqual([
      expect.objectContaining({ id: `github:${REPOSITORY}#7`, withdrawnAt: recorded.resolvedAt }),
    ]);
    expect(staging(withdrawn)?.changeFailureRate).toEqual({ failures: 0, deploys: 1, rate: 0 });
    expect(staging(withdrawn)?.timeToRestore).toMatchObject({ restores: 0, median: null });
    expect(relabelled.body).toMatchObject({ status: 'incident recorded', state: 'resolved' });
    expect(staging(after)?.changeFailureRate).toEqual({ failures: 1, deploys: 1, rate: 1 });
    expect(staging(after)?.timeToRestore).toEqual(staging(before)?.timeToRestore);
  }, 60_000);
});
