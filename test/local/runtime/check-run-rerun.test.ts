import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { githubDelivery, githubExample, type Loose } from '../../unit/intake/support';
import { sampleFiles } from './sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  SECRET,
  startTestRuntime,
  waitFor,
} from './support';

/**
 * GitHub's "Re-run" on a Stepline check run (issue 17, docs/adr/0091), on the local runtime: the `check_run`
 * `rerequested` delivery reaches the runtime's webhook route, which starts the input of the run the check run names
 * again, through the runtime's own Step Functions API, under a name of its own.
 */

const REPOSITORY = 'acme/rerun';

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;

async function ended(executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    60_000,
  );
}

/** "Re-run" pressed on the check run of `executionArn`, as GitHub delivers it (@octokit/webhooks-examples). */
function press(executionArn: string, sha: string, deliveryId: string) {
  const payload = githubExample('check_run', (p: Loose) => p.action === 'rerequested');
  payload.check_run.external_id = executionArn;
  payload.check_run.head_sha = sha;
  payload.repository.full_name = REPOSITORY;
  const signed = githubDelivery('check_run', payload, { secret: SECRET, deliveryId });
  const headers = Object.fromEntries(
    Object.entries(signed.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return { headers, body: signed.body.toString('utf8') };
}

beforeAll(async () => {
  runtime = await startTestRuntime({ config: pipelineConfig({ repository: REPOSITORY }) as never });
  repo = gitRepository(sampleFiles());
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
});

describe('"Re-run" on a check run, on the local runtime', () => {
  it("starts a finished run's input again, and a redelivery of the press starts nothing", async () => {
    // Prepare: a run that has ended.
    const pushed = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const original = await ended(pushed.body['executionArn'] as string);
    const delivery = press(original.arn, repo.sha, 'c4e5f6a7-0000-4000-8000-000000000001');

    // Act
    const first = await deliver(runtime, delivery);
    const again = await deliver(runtime, delivery);

    // Assess
    expect(original.status, `${original.error}: ${original.cause}`).toBe('SUCCEEDED');
    expect(first, JSON.stringify(first.body)).toMatchObject({
      status: 202,
      body: { status: 'started', name: expect.stringMatching(new RegExp(`^${original.name}-r[0-9a-f]{8}$`)) },
    });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', name: first.body['name'] } });
    const rerun = await ended(first.body['executionArn'] as string);
    expect(rerun.status, `${rerun.error}: ${rerun.cause}`).toBe('SUCCEEDED');
    expect(JSON.parse(rerun.input)).toEqual(JSON.parse(original.input));
  });

  it('starts nothing for a press on a check run whose run the runtime does not have', async () => {
    // Act
    const answer = await deliver(
      runtime,
      press(`${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:never-ran`, repo.sha, 'd-none'),
    );

    // Assess
    expect(answer).toMatchObject({ status: 503, body: { error: 'unavailable' } });
  });
});
