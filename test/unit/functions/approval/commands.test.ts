import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../../adapters/githost/http';
import { SqliteApprovalStore } from '../../../../adapters/local/approvals-sqlite';
import type { ApprovalTaskEvent, TaskCallbacks } from '../../../../core/approval/contracts';
import { requestApproval } from '../../../../core/approval/service';
import type { Provider } from '../../../../core/config/schema';
import type { CommentCommand } from '../../../../core/intake/comments';
import { createApprovalCommandHandler } from '../../../../functions/approval/command';
import { EXECUTION_ARN, environment, pipelineRequest, route, SHA } from '../../../support/githost/fixtures';
import { captureStdout, lambdaContext } from '../../../support/githost/lambda';
import { type OAuthStandIn, startOAuthStandIn } from '../../../support/oauth/server';

/**
 * Comment commands through the real handler (an SQS event, as the queue delivers it): the same rules as the page,
 * and a reply comment on the host that says what happened, or why not, once. Each refusal changes nothing.
 */

const KEYS = ['approval-signing-key-0123456789abcdef'];
const TOKEN = 'stepline-platform-token';
const FULL_NAMES: Record<Provider, string> = {
  github: 'acme/shop',
  gitlab: 'acme/platform/shop',
  bitbucket: 'acme/shop',
};
const PEOPLE: Record<string, { id: number; uuid: string; accountId: string }> = {
  alice: { id: 11, uuid: '{a11ce}', accountId: '557058:alice' },
  mallory: { id: 12, uuid: '{ma11}', accountId: '557058:mallory' },
  octocat: { id: 13, uuid: '{0c70}', accountId: '557058:octocat' },
  carol: { id: 14, uuid: '{ca401}', accountId: '557058:carol' },
};

describe.each<Provider>(['github', 'gitlab', 'bitbucket'])('comment commands on %s', (provider) => {
  let host: OAuthStandIn;
  let store: SqliteApprovalStore;
  let told: { kind: string; token: string; by: string; reason?: string }[];
  const clock = 1_893_456_000;
  const approver = provider === 'bitbucket' ? '557058:alice' : 'alice';
  const team = { github: '@acme/release', gitlab: '@acme/release', bitbucket: '@acme' }[provider];

  const callbacks: TaskCallbacks = {
    succeed: async (token, output) => {
      told.push({ kind: 'success', token, by: output.approvedBy });
      return { kind: 'ok' };
    },
    fail: async (token, _error, cause) => {
      told.push({ kind: 'failure', token, by: cause.rejectedBy, reason: cause.reason });
      return { kind: 'ok' };
    },
    heartbeat: async () => ({ kind: 'ok' }),
  };

  beforeAll(async () => {
    host = await startOAuthStandIn({
      provider,
      client: { clientId: 'x', clientSecret: 'y' },
      callbackUrl: 'https://approve.example.test/approvals/oauth/callback',
      users: Object.entries(PEOPLE).map(([login, p]) => ({ login, ...p })),
      teams: { [team.slice(1)]: ['carol'] },
      platformToken: TOKEN,
      pullRequests: { 7: { sha: SHA }, 8: { sha: SHA, fork: true } },
    });
  });
  afterAll(async () => {
    await host.close();
  });
  beforeEach(() => {
    host.reset();
    store = new SqliteApprovalStore(':memory:');
    told = [];
  });

  function handler() {
    return createApprovalCommandHandler({
      store,
      callbacks,
      keys: async () => KEYS,
      transportFor: async (p) =>
        new HttpHostTransport({ provider: p, baseUrl: host.apiUrl, credential: { scheme: 'bearer', token: TOKEN } }),
      now: () => clock,
    });
  }

  async function gate(approvers: string[] = [approver]): Promise<string> {
    const event: ApprovalTaskEvent = {
      taskToken: 'token-1',
      request: pipelineRequest(provider),
      route: route({ environments: [environment('production', { approval: { approvers, timeoutSeconds: 86_400 } })] }),
      executionArn: EXECUTION_ARN,
      environment: 'production',
    };
    const result = await requestApproval(event, {
      store,
      keys: KEYS,
      baseUrl: 'https://x',
      now: () => clock,
      postStatus: async () => {},
    });
    return result.approvalId;
  }

  function command(login: string, text: Partial<CommentCommand> = {}): CommentCommand {
    const person = PEOPLE[login]!;
    return {
      provider,
      deliveryId: 'd-1',
      repository: FULL_NAMES[provider],
      projectId: provider === 'gitlab' ? '42' : null,
      commenter: {
        login,
        names: provider === 'bitbucket' ? [person.accountId, person.uuid] : [login],
        hostId: provider === 'github' ? login : provider === 'gitlab' ? String(person.id) : person.uuid,
      },
      action: 'approve',
      environment: 'production',
      reason: null,
      on: { kind: 'commit', sha: SHA },
      commentId: '100',
      ...text,
    };
  }

  async function run(...commands: CommentCommand[]) {
    const event = { Records: commands.map((c, i) => ({ messageId: String(i), body: JSON.stringify(c) })) } as SQSEvent;
    const { result } = await captureStdout(() => handler()(event, lambdaContext()));
    return result;
  }

  const replies = () => host.comments().map((c) => JSON.stringify(c.body));

  it('approves as the commenter and answers with a reply comment on the commit', async () => {
    // Prepare
    const id = await gate();

    // Act
    const [answer] = await run(command('alice'));

    // Assess
    expect(answer).toMatchObject({ done: true, approvalId: id });
    expect(told).toEqual([{ kind: 'success', token: 'token-1', by: 'alice' }]);
    expect(replies()).toEqual([
      expect.stringContaining('@alice Approved by alice: the deploy of 0123456 to production goes on.'),
    ]);
    const path = host.comments()[0]!.path;
    expect(path).toBe(
      {
        github: '/api/repos/acme/shop/commits/0123456789abcdef0123456789abcdef01234567/comments',
        gitlab: '/api/v4/projects/42/repository/commits/0123456789abcdef0123456789abcdef01234567/comments',
        bitbucket: '/2.0/repositories/acme/shop/commit/0123456789abcdef0123456789abcdef01234567/comments',
      }[provider],
    );
  });

  it('rejects with the reason, said once, on the pull request', async () => {
    // Prepare
    await gate();

    // Act
    await run(
      command('alice', {
        action: 'reject',
        reason: 'code freeze',
        on: { kind: 'pull_request', number: 7, sha: SHA, fork: false },
      }),
    );

    // Assess
    expect(told).toEqual([{ kind: 'failure', token: 'token-1', by: 'alice', reason: 'code freeze' }]);
    expect(replies()).toEqual([
      expect.stringContaining(
        '@alice Rejected by alice: code freeze. The run ends without deploying 0123456 to production.',
      ),
    ]);
    expect(host.comments()[0]!.path).toMatch(
      /(issues\/7\/comments|merge_requests\/7\/notes|pullrequests\/7\/comments)$/,
    );
  });

  it.each<[string, () => CommentCommand, string]>([
    [
      'a login that may not decide',
      () => command('mallory'),
      'Not approved: mallory is not among the approvers of production',
    ],
    [
      "the commit's pusher",
      () => command('octocat'),
      'Not approved: octocat pushed this commit and may not approve its own deploy',
    ],
    [
      'an environment that is not waiting',
      () => command('alice', { environment: 'staging' }),
      'Not approved: no deploy of 0123456 to staging waits for approval.',
    ],
    [
      'a pull request from a fork',
      () => command('alice', { on: { kind: 'pull_request', number: 8, sha: SHA, fork: true } }),
      'Not approved: commands on a pull request from a fork are not taken.',
    ],
  ])('refuses %s with a reply, and changes nothing', async (_name, make, reply) => {
    // Prepare: the pusher (octocat) is listed too, to show the author rule is its own.
    const id = await gate([approver, provider === 'bitbucket' ? '557058:octocat' : 'octocat']);

    // Act
    const [answer] = await run(make());

    // Assess
    expect(answer?.done).toBe(false);
    expect(told).toEqual([]);
    expect((await store.get(id))?.status).toBe('waiting');
    expect(replies()).toEqual([expect.stringContaining(reply)]);
  });

  it("lets a member of an approvers' team decide, asked with Stepline's own token", async () => {
    // Prepare
    await gate([team]);

    // Act
    await run(command('mallory'), command('carol'));

    // Assess
    expect(told).toEqual([{ kind: 'success', token: 'token-1', by: 'carol' }]);
    expect(replies()[0]).toContain('mallory is not among the approvers of production');
  });

  it('answers a second command on a decided gate that there is nothing waiting any more', async () => {
    // Prepare
    await gate();

    // Act
    await run(command('alice'), command('alice', { action: 'reject' }));

    // Assess
    expect(told).toHaveLength(1);
    expect(replies()[1]).toContain('Not rejected: no deploy of 0123456 to production waits for approval.');
  });
});

describe('a GitHub pull request comment, whose delivery names no head commit', () => {
  it('finds the head and the fork through the API before deciding', async () => {
    // Prepare
    const host = await startOAuthStandIn({
      provider: 'github',
      client: { clientId: 'x', clientSecret: 'y' },
      callbackUrl: 'https://approve.example.test/approvals/oauth/callback',
      users: [{ login: 'alice', id: 11 }],
      platformToken: TOKEN,
      pullRequests: { 7: { sha: SHA }, 8: { sha: SHA, fork: true } },
    });
    const store = new SqliteApprovalStore(':memory:');
    const told: string[] = [];
    const handler = createApprovalCommandHandler({
      store,
      callbacks: {
        succeed: async (_t, o) => {
          told.push(o.approvedBy);
          return { kind: 'ok' };
        },
        fail: async () => ({ kind: 'ok' }),
        heartbeat: async () => ({ kind: 'ok' }),
      },
      keys: async () => KEYS,
      transportFor: async () =>
        new HttpHostTransport({
          provider: 'github',
          baseUrl: host.apiUrl,
          credential: { scheme: 'bearer', token: TOKEN },
        }),
      now: () => 1_893_456_000,
    });
    await requestApproval(
      {
        taskToken: 't',
        request: pipelineRequest('github'),
        route: route(),
        executionArn: EXECUTION_ARN,
        environment: 'production',
      },
      { store, keys: KEYS, baseUrl: 'https://x', now: () => 1_893_456_000, postStatus: async () => {} },
    );
    const onPr = (number: number): CommentCommand => ({
      provider: 'github',
      deliveryId: 'd',
      repository: 'acme/shop',
      projectId: null,
      commenter: { login: 'alice', names: ['alice'], hostId: 'alice' },
      action: 'approve',
      environment: 'production',
      reason: null,
      on: { kind: 'pull_request', number, sha: null, fork: null },
      commentId: '1',
    });
    const event = (c: CommentCommand) => ({ Records: [{ messageId: '1', body: JSON.stringify(c) }] }) as SQSEvent;

    // Act
    const { result: fork } = await captureStdout(() => handler(event(onPr(8)), lambdaContext()));
    const { result: ours } = await captureStdout(() => handler(event(onPr(7)), lambdaContext()));

    // Assess
    expect(fork[0]?.text).toBe('Not approved: commands on a pull request from a fork are not taken.');
    expect(ours[0]?.done).toBe(true);
    expect(told).toEqual(['alice']);
    expect(host.calls(/\/pulls\//).map((c) => c.path)).toEqual([
      '/api/repos/acme/shop/pulls/8',
      '/api/repos/acme/shop/pulls/7',
    ]);
    store.close();
    await host.close();
  });
});
