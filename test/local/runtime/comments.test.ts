import { createHmac, randomUUID } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { type OAuthStandIn, startOAuthStandIn } from '../../support/oauth/server';
import { environments, sampleFiles } from './sample';
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
 * Comment commands on the local runtime: a signed `commit_comment` delivery to `/webhooks/github` decides the gate
 * of that commit as the commenter, and the answer is a reply comment on GitHub (a stand-in on 127.0.0.1 that
 * Stepline's token reaches).
 */

const GATED = 'acme/gated';
const TOKEN = 'ghp_stepline-local-test';

function commitComment(sha: string, login: string, body: string) {
  type Payload = { repository: object; comment: { user: object } & Record<string, unknown> };
  const events = examples as unknown as { name: string; examples: Payload[] }[];
  const example = structuredClone(events.find((e) => e.name === 'commit_comment')!.examples[0]!);
  example.repository = { ...example.repository, full_name: GATED };
  example.comment = {
    ...example.comment,
    commit_id: sha,
    body,
    user: { ...example.comment.user, login, type: 'User' },
  };
  const text = JSON.stringify(example);
  return {
    body: text,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'commit_comment',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(text).digest('hex')}`,
    },
  };
}

describe('comment commands on the local runtime', () => {
  let runtime: Runtime;
  let github: OAuthStandIn;
  const dirs: string[] = [];

  beforeAll(async () => {
    github = await startOAuthStandIn({
      provider: 'github',
      client: { clientId: 'x', clientSecret: 'y' },
      callbackUrl: 'http://127.0.0.1/',
      users: [{ login: 'alice', id: 11 }],
      platformToken: TOKEN,
    });
    const gated = { ...environments('gated')['staging'], approval: { approvers: ['alice'], timeoutMinutes: 30 } };
    runtime = await startTestRuntime({
      config: pipelineConfig({ repository: GATED, environments: { production: gated } }) as never,
      env: { PATH: process.env['PATH'], STEPLINE_GITHUB_TOKEN: TOKEN, STEPLINE_GITHUB_API_URL: github.apiUrl },
    });
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    await github?.close();
    if (runtime) removeDir(runtime.stateDir);
    for (const dir of dirs) removeDir(dir);
  });

  it('refuses a login that may not decide, then approves as alice, and the run deploys', async () => {
    // Prepare
    const repo = gitRepository(sampleFiles({ name: 'gated' }));
    dirs.push(repo.dir);
    const pushed = await deliver(runtime, githubPush({ repository: GATED, cloneUrl: repo.dir, sha: repo.sha }));
    const executionArn = pushed.body['executionArn'] as string;
    await waitFor(
      'the gate',
      async () => ((await runtime.approvals.list({ status: 'waiting', executionArn })).length ? true : undefined),
      60_000,
    );

    // Act
    const refused = await deliver(runtime, commitComment(repo.sha, 'mallory', '/approve production'));
    await waitFor('the first reply', () => (github.comments().length === 1 ? true : undefined));
    const approved = await deliver(runtime, commitComment(repo.sha, 'alice', '/approve production'));
    const run = await waitFor(
      'the end of the run',
      (): ExecutionRecord | undefined => {
        const e = runtime.stores.executions.getExecution(executionArn);
        return e && e.status !== 'RUNNING' ? e : undefined;
      },
      60_000,
    );
    await waitFor('the second reply', () => (github.comments().length === 2 ? true : undefined));

    // Assess
    expect([refused.status, approved.status]).toEqual([202, 202]);
    expect(approved.body).toEqual({ status: 'command', command: 'approve', environment: 'production' });
    expect(run.status, String(run.cause)).toBe('SUCCEEDED');
    expect(github.comments().map((c) => [c.path, (c.body as { body: string }).body])).toEqual([
      [
        `/api/repos/acme/gated/commits/${repo.sha}/comments`,
        '@mallory Not approved: mallory is not among the approvers of production (alice).',
      ],
      [
        `/api/repos/acme/gated/commits/${repo.sha}/comments`,
        `@alice Approved by alice: the deploy of ${repo.sha.slice(0, 7)} to production goes on.`,
      ],
    ]);
    expect((await runtime.approvals.list({ executionArn }))[0]).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
    });
  }, 120_000);
});
