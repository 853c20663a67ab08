import { describe, expect, it } from 'vitest';
import type { RawDelivery } from '../../../core/intake/delivery';
import { interpret, requestOf } from './run';
import { bitbucketDelivery, fixture, type Loose, PREVIOUS_SECRET, sign, variant } from './support';

const push = () => fixture('bitbucket/repo-push.json');
const pullRequest = (edit: (p: Loose) => void = () => {}) =>
  variant(fixture('bitbucket/pullrequest-created.json'), edit);
const NEW_TAG = {
  type: 'tag',
  name: 'v2.0.0',
  target: { type: 'commit', hash: '4b825dc642cb6eb9a060e54bf8d69288fbee4904', message: 'Retry card captures\n' },
};

interface StopCase {
  readonly name: string;
  readonly delivery: RawDelivery;
  readonly expected: { kind: string; status: number; code?: string; message?: RegExp; reason?: RegExp };
}

describe('Bitbucket deliveries that stop', () => {
  const cases: StopCase[] = [
    {
      name: 'refuses a delivery without X-Event-Key, naming the header',
      delivery: bitbucketDelivery('repo:push', push(), { headers: { 'X-Event-Key': undefined } }),
      expected: { kind: 'rejected', status: 400, code: 'missing_header', message: /X-Event-Key/ },
    },
    {
      name: 'refuses a delivery without X-Request-UUID, naming the header',
      delivery: bitbucketDelivery('repo:push', push(), { headers: { 'X-Request-UUID': undefined } }),
      expected: { kind: 'rejected', status: 400, code: 'missing_header', message: /X-Request-UUID/ },
    },
    {
      name: 'refuses a delivery without X-Hub-Signature (a webhook with no secret) with 401',
      delivery: bitbucketDelivery('repo:push', push(), { headers: { 'X-Hub-Signature': undefined } }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery whose signature was made with another secret',
      delivery: bitbucketDelivery('repo:push', push(), { secret: 'someone else' }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery whose body was changed after signing',
      delivery: bitbucketDelivery('repo:push', push(), { tamper: (b) => b.replace('acme/payments', 'acme/payment5') }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a signature without the sha256= prefix',
      delivery: bitbucketDelivery('repo:push', push(), {
        headers: { 'X-Hub-Signature': sign('x', '').slice('sha256='.length) },
      }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a push without push.changes, naming the field',
      delivery: bitbucketDelivery(
        'repo:push',
        variant(push(), (p) => delete p.push.changes),
      ),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /push\.changes/ },
    },
    {
      name: 'answers diagnostics:ping with pong',
      delivery: bitbucketDelivery('diagnostics:ping', { test: true }),
      expected: { kind: 'pong', status: 200 },
    },
    {
      name: 'ignores the deletion of a branch, with the reason',
      delivery: bitbucketDelivery(
        'repo:push',
        variant(push(), (p) => {
          p.push.changes[0].new = null;
          p.push.changes[0].closed = true;
        }),
      ),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /branch main was deleted/ },
    },
    {
      name: 'ignores a pull request approval',
      delivery: bitbucketDelivery('pullrequest:approved', pullRequest()),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /pullrequest:approved/ },
    },
  ];

  it.each(cases)('$name', ({ delivery, expected }) => {
    // Act
    const verdict = interpret(delivery);

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

describe('Bitbucket deliveries that become pipeline requests', () => {
  it('normalizes a valid push of a branch', () => {
    // Act
    const request = requestOf(interpret(bitbucketDelivery('repo:push', push(), { deliveryId: '{req-1}' })));

    // Assess
    expect(request).toEqual({
      provider: 'bitbucket',
      deliveryId: '{req-1}',
      event: 'repo:push',
      repository: {
        fullName: 'acme/payments',
        cloneUrl: 'https://bitbucket.org/acme/payments.git',
        defaultBranch: 'main',
        htmlUrl: 'https://bitbucket.org/acme/payments',
      },
      ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
      commit: {
        sha: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
        before: '9f2c7e1d0b8a6c5e4d3f2a1b0c9d8e7f6a5b4c3d',
        message: 'Retry card captures on timeouts\n',
        url: 'https://bitbucket.org/acme/payments/commits/4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      },
      pullRequest: null,
      // Bitbucket lists no files: path filters let the run go.
      changedFiles: { paths: [], complete: false },
      sender: { login: 'ada' },
    });
  });

  it('accepts a delivery signed with the previous secret during a rotation', () => {
    // Act
    const verdict = interpret(bitbucketDelivery('repo:push', push(), { secret: PREVIOUS_SECRET }));

    // Assess
    expect(requestOf(verdict).ref.name).toBe('main');
  });

  it('normalizes a tag push', () => {
    // Prepare
    const payload = variant(push(), (p) => {
      p.push.changes[0].new = NEW_TAG;
      p.push.changes[0].old = null;
    });

    // Act
    const request = requestOf(interpret(bitbucketDelivery('repo:push', payload)));

    // Assess
    expect(request.ref).toEqual({ name: 'v2.0.0', fullName: 'refs/tags/v2.0.0', kind: 'tag' });
    expect(request.commit.before).toBeNull();
  });

  it('turns a push of a branch and a tag into two requests with distinct delivery ids', () => {
    // Prepare
    const payload = variant(push(), (p) => {
      p.push.changes.push({ ...p.push.changes[0], new: NEW_TAG, old: null });
    });

    // Act
    const verdict = interpret(bitbucketDelivery('repo:push', payload, { deliveryId: '{req-2}' }));

    // Assess
    expect(verdict.continue).toBe(true);
    if (!verdict.continue) return;
    expect(verdict.value.map((r) => [r.deliveryId, r.ref.fullName])).toEqual([
      ['{req-2}/1', 'refs/heads/main'],
      ['{req-2}/2', 'refs/tags/v2.0.0'],
    ]);
  });

  it.each([
    ['pullrequest:created', 'opened'],
    ['pullrequest:updated', 'synchronize'],
    ['pullrequest:fulfilled', 'closed'],
    ['pullrequest:rejected', 'closed'],
  ])('normalizes %s as the pull request action %s', (eventKey, action) => {
    // Act
    const request = requestOf(interpret(bitbucketDelivery(eventKey, pullRequest())));

    // Assess
    expect(request.pullRequest).toEqual({
      number: 41,
      action,
      title: 'Refund partial captures',
      url: 'https://bitbucket.org/acme/payments/pull-requests/41',
      base: { ref: 'main', sha: '4b825dc642cb' },
      head: { ref: 'feature/partial-refunds', sha: '1a2b3c4d5e6f', repository: 'acme/payments' },
      fork: false,
    });
    expect(request.ref.fullName).toBe('refs/pull-requests/41/from');
  });

  it('marks a pull request from another repository as a fork', () => {
    // Prepare
    const payload = pullRequest((p) => (p.pullrequest.source.repository.full_name = 'mallory/payments'));

    // Act
    const request = requestOf(interpret(bitbucketDelivery('pullrequest:created', payload)));

    // Assess
    expect(request.pullRequest?.fork).toBe(true);
  });
});
