import { describe, expect, it } from 'vitest';
import type { RawDelivery } from '../../../core/intake/delivery';
import type { WebhookSecrets } from '../../../core/intake/ports';
import type { PipelineRequest } from '../../../core/intake/types';
import { interpret, requestOf } from './run';
import { githubDelivery, githubExample, githubPush, PREVIOUS_SECRET, SECRET, sign, variant } from './support';

const opened = () => githubExample('pull_request', (p) => p.action === 'opened');

interface StopCase {
  readonly name: string;
  readonly delivery: RawDelivery;
  readonly secrets?: WebhookSecrets | null;
  readonly expected: { kind: string; status: number; code?: string; message?: RegExp; reason?: RegExp };
}

describe('GitHub deliveries that stop', () => {
  const cases: StopCase[] = [
    {
      name: 'refuses a delivery without X-GitHub-Event, naming the header',
      delivery: githubDelivery('push', githubPush(), { headers: { 'X-GitHub-Event': undefined } }),
      expected: { kind: 'rejected', status: 400, code: 'missing_header', message: /X-GitHub-Event/ },
    },
    {
      name: 'refuses a delivery without X-GitHub-Delivery, naming the header',
      delivery: githubDelivery('push', githubPush(), { headers: { 'X-GitHub-Delivery': undefined } }),
      expected: { kind: 'rejected', status: 400, code: 'missing_header', message: /X-GitHub-Delivery/ },
    },
    {
      name: 'refuses a delivery without a signature with 401',
      delivery: githubDelivery('push', githubPush(), { headers: { 'X-Hub-Signature-256': undefined } }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery whose signature was made with another secret',
      delivery: githubDelivery('push', githubPush(), { secret: 'not our secret' }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery whose body was changed after signing',
      delivery: githubDelivery('push', githubPush(), { tamper: (b) => b.replace('"master"', '"main"') }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a SHA-1 signature (X-Hub-Signature-256 must be sha256=)',
      delivery: githubDelivery('push', githubPush(), { headers: { 'X-Hub-Signature-256': `sha1=${'0'.repeat(40)}` } }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery signed with the previous secret once no rotation is under way',
      delivery: githubDelivery('push', githubPush(), { secret: PREVIOUS_SECRET }),
      secrets: { current: SECRET, previous: null },
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses every delivery when no secret is configured for GitHub',
      delivery: githubDelivery('push', githubPush()),
      secrets: null,
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a content type other than JSON or form with 415',
      delivery: githubDelivery('push', githubPush(), { contentType: 'text/plain' }),
      expected: {
        kind: 'rejected',
        status: 415,
        code: 'unsupported_media_type',
        message: /^the content type is not accepted; expected application\/json or application\/x-www-form-urlencoded$/,
      },
    },
    {
      name: 'refuses a signed body that is not JSON with 400',
      delivery: githubDelivery('push', githubPush(), {
        headers: { 'X-Hub-Signature-256': sign(SECRET, '{"ref": ') },
        tamper: () => '{"ref": ',
      }),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /not valid JSON/ },
    },
    {
      name: 'refuses a signed form body without a payload field with 400',
      delivery: githubDelivery('push', githubPush(), {
        form: true,
        headers: { 'X-Hub-Signature-256': sign(SECRET, 'other=1') },
        tamper: () => 'other=1',
      }),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /payload field/ },
    },
    {
      name: 'refuses a push without a repository, naming the field',
      delivery: githubDelivery(
        'push',
        variant(githubPush(), (p) => delete p.repository),
      ),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /repository/ },
    },
    {
      name: 'refuses a push whose after is not a commit SHA, naming the field',
      delivery: githubDelivery(
        'push',
        variant(githubPush(), (p) => {
          p.after = 'HEAD';
          p.head_commit = null;
        }),
      ),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /after/ },
    },
    {
      name: 'answers a ping with pong',
      delivery: githubDelivery('ping', githubExample('ping')),
      expected: { kind: 'pong', status: 200 },
    },
    {
      name: 'ignores the deletion of a branch, with the reason',
      delivery: githubDelivery(
        'push',
        variant(githubPush(), (p) => {
          p.deleted = true;
          p.after = '0'.repeat(40);
          p.head_commit = null;
        }),
      ),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /branch master was deleted/ },
    },
    {
      name: 'ignores the deletion of a tag, with the reason',
      delivery: githubDelivery(
        'push',
        githubExample('push', (p) => p.deleted && p.ref === 'refs/tags/simple-tag'),
      ),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /tag simple-tag was deleted/ },
    },
    {
      name: 'ignores a delete event, with the reason',
      delivery: githubDelivery('delete', githubExample('delete')),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /tag simple-tag was deleted/ },
    },
    {
      name: 'ignores a pull request action that builds nothing (labeled)',
      delivery: githubDelivery(
        'pull_request',
        githubExample('pull_request', (p) => p.action === 'labeled'),
      ),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /labeled/ },
    },
    {
      name: 'ignores events that start nothing (star)',
      delivery: githubDelivery('star', githubExample('star')),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /star/ },
    },
    {
      name: 'ignores a push to a ref that is neither a branch nor a tag',
      delivery: githubDelivery(
        'push',
        variant(githubPush(), (p) => (p.ref = 'refs/notes/commits')),
      ),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /refs\/notes\/commits/ },
    },
  ];

  it.each(cases)('$name', ({ delivery, secrets, expected }) => {
    // Act
    const verdict = interpret(delivery, secrets === undefined ? undefined : secrets);

    // Assess
    expect(verdict.continue).toBe(false);
    if (verdict.continue) return;
    expect(verdict.kind).toBe(expected.kind);
    expect(verdict.status).toBe(expected.status);
    if (expected.code) expect('code' in verdict && verdict.code).toBe(expected.code);
    if (expected.message) expect('message' in verdict && verdict.message).toMatch(expected.message);
    if (expected.reason) expect('reason' in verdict && verdict.reason).toMatch(expected.reason);
  });
});

describe('GitHub deliveries that become pipeline requests', () => {
  it('normalizes a valid push of a new branch', () => {
    // Prepare
    const delivery = githubDelivery('push', githubPush(), { deliveryId: 'd-1' });

    // Act
    const request = requestOf(interpret(delivery));

    // Assess
    expect(request).toEqual<PipelineRequest>({
      provider: 'github',
      deliveryId: 'd-1',
      event: 'push',
      repository: {
        fullName: 'Codertocat/Hello-World',
        cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        defaultBranch: 'master',
        htmlUrl: 'https://github.com/Codertocat/Hello-World',
      },
      ref: { name: 'master', fullName: 'refs/heads/master', kind: 'branch' },
      commit: {
        sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        before: null,
        message: 'Initial commit',
        url: 'https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      },
      pullRequest: null,
      // A new branch: the listed files are not the whole change, so path filters let it run.
      changedFiles: { paths: ['README.md'], complete: false },
      sender: { login: 'Codertocat' },
    });
  });

  it('accepts a delivery signed with the previous secret during a rotation', () => {
    // Act
    const verdict = interpret(githubDelivery('push', githubPush(), { secret: PREVIOUS_SECRET }));

    // Assess
    expect(requestOf(verdict).commit.sha).toBe('6113728f27ae82c7b1a177c8d03f9e96e0adf246');
  });

  it('accepts a form-encoded delivery and reads the same request as from JSON', () => {
    // Act
    const fromForm = requestOf(interpret(githubDelivery('push', githubPush(), { form: true })));
    const fromJson = requestOf(interpret(githubDelivery('push', githubPush())));

    // Assess
    expect(fromForm).toEqual(fromJson);
  });

  it('accepts a content type with parameters and header names in any case', () => {
    // Prepare
    const delivery = githubDelivery('push', githubPush());
    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k.toLowerCase(), v]));
    headers['content-type'] = 'Application/JSON; charset=utf-8';

    // Act
    const verdict = interpret({ ...delivery, headers });

    // Assess
    expect(requestOf(verdict).ref.name).toBe('master');
  });

  it('lists the changed files of an ordinary push as complete', () => {
    // Prepare
    const payload = variant(githubPush(), (p) => {
      p.created = false;
      p.before = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
      p.commits.push({ ...p.commits[0], added: [], modified: ['src/app.ts', 'README.md'], removed: ['old.txt'] });
    });

    // Act
    const request = requestOf(interpret(githubDelivery('push', payload)));

    // Assess
    expect(request.commit.before).toBe('f95f852bd8fca8fcc58a9a2d6c842781e32a215e');
    expect(request.changedFiles).toEqual({ paths: ['README.md', 'src/app.ts', 'old.txt'], complete: true });
  });

  it('marks the changed files of a forced push incomplete', () => {
    // Prepare
    const payload = variant(githubPush(), (p) => {
      p.created = false;
      p.forced = true;
      p.before = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
    });

    // Act
    const request = requestOf(interpret(githubDelivery('push', payload)));

    // Assess
    expect(request.changedFiles.complete).toBe(false);
  });

  it('normalizes a tag push to the tagged commit', () => {
    // Act
    const request = requestOf(
      interpret(
        githubDelivery(
          'push',
          githubExample('push', (p) => p.created && p.ref === 'refs/tags/simple-tag'),
        ),
      ),
    );

    // Assess
    expect(request.ref).toEqual({ name: 'simple-tag', fullName: 'refs/tags/simple-tag', kind: 'tag' });
    expect(request.commit.sha).toBe('6113728f27ae82c7b1a177c8d03f9e96e0adf246');
    expect(request.changedFiles.complete).toBe(false);
  });

  it.each(['opened', 'synchronize', 'reopened', 'closed'])('normalizes the pull request action %s', (action) => {
    // Prepare
    const payload = githubExample('pull_request', (p) => p.action === action);

    // Act
    const request = requestOf(interpret(githubDelivery('pull_request', payload)));

    // Assess
    const pr = request.pullRequest!;
    expect(pr.action).toBe(action);
    expect(pr.number).toBe(payload.number);
    expect(pr.fork).toBe(false);
    expect(request.ref).toEqual({
      name: payload.pull_request.head.ref,
      fullName: `refs/pull/${pr.number}/head`,
      kind: 'branch',
    });
    expect(request.commit.sha).toBe(payload.pull_request.head.sha);
    expect(request.changedFiles).toEqual({ paths: [], complete: false });
  });

  it('records the commit before a synchronize', () => {
    // Act
    const request = requestOf(
      interpret(
        githubDelivery(
          'pull_request',
          githubExample('pull_request', (p) => p.action === 'synchronize'),
        ),
      ),
    );

    // Assess
    expect(request.commit.before).toBe('f95f852bd8fca8fcc58a9a2d6c842781e32a215e');
  });

  it('marks a pull request from another repository as a fork', () => {
    // Prepare
    const payload = variant(opened(), (p) => (p.pull_request.head.repo.full_name = 'mallory/Hello-World'));

    // Act
    const request = requestOf(interpret(githubDelivery('pull_request', payload)));

    // Assess
    expect(request.pullRequest).toMatchObject({ fork: true, head: { repository: 'mallory/Hello-World' } });
  });

  it('marks a pull request whose fork was deleted as a fork', () => {
    // Prepare
    const payload = variant(opened(), (p) => (p.pull_request.head.repo = null));

    // Act
    const request = requestOf(interpret(githubDelivery('pull_request', payload)));

    // Assess
    expect(request.pullRequest?.fork).toBe(true);
  });
});
