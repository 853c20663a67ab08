import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { environments, REPOSITORY, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * A redelivery while its run is still going (here: waiting at an approval gate). Step Functions answers a
 * StartExecution with the name and input of a running execution as if it had started it; the webhook must still
 * answer `200 duplicate` (README, docs/adr/0006), and count the delivery as a duplicate.
 */

describe('a redelivery while its run is going', () => {
  let runtime: Runtime;
  let repo: ReturnType<typeof gitRepository>;

  beforeAll(async () => {
    repo = gitRepository(sampleFiles());
    const staging = environments()['staging'] as Record<string, unknown>;
    runtime = await startTestRuntime({
      config: pipelineConfig({
        repository: REPOSITORY,
        environments: { production: { ...staging, approval: { approvers: ['alice'], timeoutMinutes: 30 } } },
      }) as never,
    });
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    if (repo) removeDir(repo.dir);
  });

  it('is answered 200 duplicate with the running execution, and starts nothing', async () => {
    // Prepare: the first delivery starts the run, which waits at the production gate.
    const delivery = githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha });
    const first = await deliver(runtime, delivery);
    const executionArn = first.body['executionArn'] as string;
    await waitFor(
      'the approval gate',
      async () => ((await runtime.approvals.list({ status: 'waiting', executionArn })).length ? true : undefined),
      60_000,
    );

    // Act
    const again = await deliver(runtime, delivery);

    // Assess
    expect(first.status).toBe(202);
    expect(runtime.stores.executions.getExecution(executionArn)?.status).toBe('RUNNING');
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      status: 'duplicate',
      duplicate: true,
      executionArn,
      name: executionArn.split(':').pop(),
    });
    expect(runtime.stores.executions.listExecutions({}, 100).items).toHaveLength(1);
    const metrics = await (await fetch(`${runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/stepline_deliveries_total\{outcome="duplicate"\} 1\b/);
  }, 90_000);
});
