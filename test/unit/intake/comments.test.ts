import { describe, expect, it } from 'vitest';
import { type CommentCommand, parseCommand } from '../../../core/intake/comments';
import { Intake } from '../../../core/intake/intake';
import type { ApprovalCommandQueue, ParkingQueue, WorkflowStarter } from '../../../core/intake/ports';
import { receive } from '../../../core/intake/receive';
import {
  bitbucketDelivery,
  CONFIG,
  fixture,
  githubDelivery,
  githubExample,
  gitlabDelivery,
  type Loose,
  SECRETS,
  variant,
} from './support';

/**
 * Comment commands through the intake: verified like any delivery, read from each host's documented comment
 * payload, passed on to the approval commands queue; comments that are not commands start nothing.
 */

function world(failing = false) {
  const submitted: CommentCommand[] = [];
  const commands: ApprovalCommandQueue = {
    submit: async (command) => {
      if (failing) throw new Error('QueueDoesNotExist');
      submitted.push(command);
    },
  };
  const workflow: WorkflowStarter = { start: async () => ({ outcome: 'started', executionArn: 'arn:x' }) };
  const parking: ParkingQueue = { park: async () => {} };
  const ports = { secrets: { get: async () => SECRETS }, workflow, parking, commands };
  return { submitted, ports };
}

const intake = () => new Intake(CONFIG);

function githubPrComment(body: string): Loose {
  return variant(
    githubExample('issue_comment', (p) => p.action === 'created'),
    (p) => {
      p.comment.body = body;
      p.issue.pull_request = {
        url: `https://api.github.com/repos/${p.repository.full_name}/pulls/${p.issue.number}`,
        html_url: `https://github.com/${p.repository.full_name}/pull/${p.issue.number}`,
        diff_url: `https://github.com/${p.repository.full_name}/pull/${p.issue.number}.diff`,
        patch_url: `https://github.com/${p.repository.full_name}/pull/${p.issue.number}.patch`,
        merged_at: null,
      };
    },
  );
}

describe('comment commands', () => {
  it.each<[string, string | null]>([
    ['/approve production', 'approve production -'],
    ['  /reject staging the migration is not reviewed\nmore text', 'reject staging the migration is not reviewed'],
    ['/approve', null],
    ['please /approve production', null],
    ['/approveproduction', null],
    ['/deploy production', null],
  ])('reads %j as %s', (text, expected) => {
    const parsed = parseCommand(text);
    expect(parsed ? `${parsed.action} ${parsed.environment} ${parsed.reason ?? '-'}` : null).toBe(expected);
  });

  it('passes on a GitHub pull request comment with the commenter from the verified delivery', async () => {
    // Prepare
    const { submitted, ports } = world();
    const payload = githubPrComment('/approve production');

    // Act
    const receipt = await receive(intake(), githubDelivery('issue_comment', payload), ports);

    // Assess
    expect(receipt.status).toBe(202);
    expect(receipt.body).toEqual({ status: 'command', command: 'approve', environment: 'production' });
    expect(submitted).toEqual([
      expect.objectContaining({
        provider: 'github',
        repository: payload.repository.full_name,
        commenter: {
          login: payload.comment.user.login,
          names: [payload.comment.user.login],
          hostId: payload.comment.user.login,
        },
        action: 'approve',
        environment: 'production',
        on: { kind: 'pull_request', number: payload.issue.number, sha: null, fork: null },
        commentId: String(payload.comment.id),
      }),
    ]);
  });

  it('passes on a GitHub commit comment, naming the commit', async () => {
    const { submitted, ports } = world();
    const payload = variant(githubExample('commit_comment'), (p) => {
      p.comment.body = '/reject production not on a Friday';
    });
    await receive(intake(), githubDelivery('commit_comment', payload), ports);
    expect(submitted[0]).toMatchObject({
      action: 'reject',
      reason: 'not on a Friday',
      on: { kind: 'commit', sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' },
    });
  });

  it('passes on GitLab notes on a merge request and on a commit', async () => {
    const { submitted, ports } = world();
    await receive(intake(), gitlabDelivery('Note Hook', fixture('gitlab/note-merge-request.json')), ports);
    await receive(intake(), gitlabDelivery('Note Hook', fixture('gitlab/note-commit.json')), ports);
    expect(submitted).toEqual([
      expect.objectContaining({
        repository: 'gitlab-org/gitlab-test',
        projectId: '5',
        commenter: { login: 'root', names: ['root'], hostId: '1' },
        on: { kind: 'pull_request', number: 1, sha: '562e173be03b8ff2efb05345d12df18815438a4b', fork: false },
      }),
      expect.objectContaining({
        action: 'reject',
        environment: 'staging',
        reason: 'the migration is not reviewed',
        on: { kind: 'commit', sha: 'cfe32cf61b73a0d5e9f13e774abde7ff789b1660' },
      }),
    ]);
  });

  it('passes on Bitbucket comments on a pull request and on a commit, with account id and UUID to match', async () => {
    const { submitted, ports } = world();
    await receive(
      intake(),
      bitbucketDelivery('pullrequest:comment_created', fixture('bitbucket/pullrequest-comment-created.json')),
      ports,
    );
    await receive(
      intake(),
      bitbucketDelivery('repo:commit_comment_created', fixture('bitbucket/repo-commit-comment-created.json')),
      ports,
    );
    expect(submitted).toEqual([
      expect.objectContaining({
        repository: 'acme/payments',
        commenter: {
          login: 'grace',
          names: ['557058:1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b', '{7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d}'],
          hostId: '{7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d}',
        },
        on: { kind: 'pull_request', number: 41, sha: '1a2b3c4d5e6f', fork: false },
      }),
      expect.objectContaining({
        action: 'reject',
        on: { kind: 'commit', sha: '9fceb02d0ae598e95dc970b74767f19372d61af8' },
      }),
    ]);
  });

  it("says a fork's pull request is one, where the payload tells", async () => {
    const { submitted, ports } = world();
    const fromFork = variant(fixture('gitlab/note-merge-request.json'), (p) => {
      p.merge_request.source_project_id = 99;
    });
    await receive(intake(), gitlabDelivery('Note Hook', fromFork), ports);
    expect(submitted[0]?.on).toMatchObject({ kind: 'pull_request', fork: true });
  });

  it.each<[string, () => ReturnType<typeof githubDelivery>]>([
    ['a comment that is not a command', () => githubDelivery('issue_comment', githubPrComment('LGTM'))],
    [
      'a comment on an issue',
      () =>
        githubDelivery(
          'issue_comment',
          variant(githubPrComment('/approve production'), (p) => {
            delete p.issue.pull_request;
          }),
        ),
    ],
    [
      'an edited comment',
      () =>
        githubDelivery(
          'issue_comment',
          variant(githubPrComment('/approve production'), (p) => {
            p.action = 'edited';
          }),
        ),
    ],
    [
      'a comment by a bot',
      () =>
        githubDelivery(
          'issue_comment',
          variant(githubPrComment('/approve production'), (p) => {
            p.comment.user.type = 'Bot';
          }),
        ),
    ],
  ])('starts nothing for %s', async (_name, delivery) => {
    const { submitted, ports } = world();
    const receipt = await receive(intake(), delivery(), ports);
    expect(receipt.status).toBe(202);
    expect(receipt.body).toMatchObject({ status: 'ignored', code: 'event_not_handled' });
    expect(submitted).toEqual([]);
  });

  it('refuses a comment whose signature does not match, before reading it', async () => {
    const { submitted, ports } = world();
    const receipt = await receive(
      intake(),
      githubDelivery('issue_comment', githubPrComment('/approve production'), { secret: 'not the secret' }),
      ports,
    );
    expect(receipt.status).toBe(401);
    expect(submitted).toEqual([]);
  });

  it('answers 503 when the command cannot be passed on, so that nothing is lost quietly', async () => {
    const { ports } = world(true);
    const receipt = await receive(
      intake(),
      githubDelivery('issue_comment', githubPrComment('/approve production')),
      ports,
    );
    expect(receipt.status).toBe(503);
  });

  it('leaves comment events to the usual intake where no commands queue is given', async () => {
    const { ports } = world();
    const { commands: _none, ...withoutCommands } = ports;
    const receipt = await receive(
      intake(),
      githubDelivery('issue_comment', githubPrComment('/approve production')),
      withoutCommands,
    );
    expect(receipt.body).toMatchObject({ status: 'ignored' });
  });
});
