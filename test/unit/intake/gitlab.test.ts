import { describe, expect, it } from 'vitest';
import type { RawDelivery } from '../../../core/intake/delivery';
import type { WebhookSecrets } from '../../../core/intake/ports';
import { interpret, requestOf } from './run';
import { fixture, gitlabDelivery, type Loose, PREVIOUS_SECRET, SECRET, variant } from './support';

const push = () => fixture('gitlab/push.json');
const tagPush = () => fixture('gitlab/tag-push.json');
const mergeRequest = (action: string | null, edit: (p: Loose) => void = () => {}) =>
  variant(fixture('gitlab/merge-request-open.json'), (p) => {
    if (action === null) delete p.object_attributes.action;
    else p.object_attributes.action = action;
    edit(p);
  });

interface StopCase {
  readonly name: string;
  readonly delivery: RawDelivery;
  readonly secrets?: WebhookSecrets;
  readonly expected: { kind: string; status: number; code?: string; message?: RegExp; reason?: RegExp };
}

describe('GitLab deliveries that stop', () => {
  const cases: StopCase[] = [
    {
      name: 'refuses a delivery without X-Gitlab-Event, naming the header',
      delivery: gitlabDelivery('Push Hook', push(), { headers: { 'X-Gitlab-Event': undefined } }),
      expected: { kind: 'rejected', status: 400, code: 'missing_header', message: /X-Gitlab-Event/ },
    },
    {
      name: 'refuses a delivery with neither Idempotency-Key nor X-Gitlab-Event-UUID, naming both',
      delivery: gitlabDelivery('Push Hook', push(), {
        headers: { 'Idempotency-Key': undefined, 'X-Gitlab-Event-UUID': undefined },
      }),
      expected: {
        kind: 'rejected',
        status: 400,
        code: 'missing_header',
        message: /Idempotency-Key or X-Gitlab-Event-UUID/,
      },
    },
    {
      name: 'refuses a delivery without X-Gitlab-Token with 401',
      delivery: gitlabDelivery('Push Hook', push(), { headers: { 'X-Gitlab-Token': undefined } }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a delivery with a wrong token',
      delivery: gitlabDelivery('Push Hook', push(), { secret: 'guess' }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a token that is a prefix of the secret',
      delivery: gitlabDelivery('Push Hook', push(), { secret: SECRET.slice(0, -1) }),
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses the previous token once no rotation is under way',
      delivery: gitlabDelivery('Push Hook', push(), { secret: PREVIOUS_SECRET }),
      secrets: { current: SECRET, previous: null },
      expected: { kind: 'rejected', status: 401, code: 'invalid_signature' },
    },
    {
      name: 'refuses a form-encoded body with 415 (GitLab sends JSON only)',
      delivery: gitlabDelivery('Push Hook', push(), { contentType: 'application/x-www-form-urlencoded' }),
      expected: { kind: 'rejected', status: 415, code: 'unsupported_media_type', message: /application\/json/ },
    },
    {
      name: 'refuses a push without a project, naming the field',
      delivery: gitlabDelivery(
        'Push Hook',
        variant(push(), (p) => delete p.project),
      ),
      expected: { kind: 'rejected', status: 400, code: 'malformed_body', message: /project/ },
    },
    {
      name: 'ignores the deletion of a branch, with the reason',
      delivery: gitlabDelivery(
        'Push Hook',
        variant(push(), (p) => {
          p.after = '0'.repeat(40);
          p.checkout_sha = null;
          p.commits = [];
          p.total_commits_count = 0;
        }),
      ),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /branch main was deleted/ },
    },
    {
      name: 'ignores the deletion of a tag, with the reason',
      delivery: gitlabDelivery(
        'Tag Push Hook',
        variant(tagPush(), (p) => {
          p.before = p.after;
          p.after = '0'.repeat(40);
          p.checkout_sha = null;
        }),
      ),
      expected: { kind: 'ignored', status: 202, code: 'ref_deleted', reason: /tag v1.4.0 was deleted/ },
    },
    {
      name: "answers GitLab's test merge request event (no action) like a ping",
      delivery: gitlabDelivery('Merge Request Hook', mergeRequest(null)),
      expected: { kind: 'pong', status: 200 },
    },
    {
      name: 'ignores a merge request update without new commits',
      delivery: gitlabDelivery('Merge Request Hook', mergeRequest('update')),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /without new commits/ },
    },
    {
      name: 'ignores a merge request approval',
      delivery: gitlabDelivery('Merge Request Hook', mergeRequest('approved')),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /approved/ },
    },
    {
      name: 'ignores events that start nothing (Issue Hook)',
      delivery: gitlabDelivery('Issue Hook', { object_kind: 'issue' }),
      expected: { kind: 'ignored', status: 202, code: 'event_not_handled', reason: /Issue Hook/ },
    },
  ];

  it.each(cases)('$name', ({ delivery, secrets, expected }) => {
    // Act
    const verdict = interpret(delivery, secrets);

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

describe('GitLab deliveries that become pipeline requests', () => {
  it('normalizes a valid push, with the changed files of every commit', () => {
    // Act
    const request = requestOf(interpret(gitlabDelivery('Push Hook', push(), { deliveryId: 'key-1' })));

    // Assess
    expect(request).toEqual({
      provider: 'gitlab',
      deliveryId: 'key-1',
      event: 'Push Hook',
      repository: {
        fullName: 'acme/platform/storefront',
        cloneUrl: 'https://gitlab.example.com/acme/platform/storefront.git',
        defaultBranch: 'main',
        htmlUrl: 'https://gitlab.example.com/acme/platform/storefront',
      },
      ref: { name: 'main', fullName: 'refs/heads/main', kind: 'branch' },
      commit: {
        sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
        message: 'Fix the price rounding\n\nPrices with three decimals were rounded down.\n',
        url: 'https://gitlab.example.com/acme/platform/storefront/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      },
      pullRequest: null,
      changedFiles: {
        paths: [
          'services/catalogue/client.ts',
          'services/catalogue/index.ts',
          'services/pricing/round.ts',
          'docs/old-pricing.md',
        ],
        complete: true,
      },
      sender: { login: 'jsmith' },
    });
  });

  it('uses X-Gitlab-Event-UUID as the delivery id when Idempotency-Key is absent', () => {
    // Act
    const request = requestOf(
      interpret(gitlabDelivery('Push Hook', push(), { headers: { 'Idempotency-Key': undefined } })),
    );

    // Assess
    expect(request.deliveryId).toBe('0c3b2a19-7e6d-4f5c-8b4a-39281706f5e4');
  });

  it('accepts the previous token during a rotation', () => {
    // Act
    const verdict = interpret(gitlabDelivery('Push Hook', push(), { secret: PREVIOUS_SECRET }));

    // Assess
    expect(requestOf(verdict).ref.name).toBe('main');
  });

  it('marks the changed files incomplete when GitLab cut the commit list', () => {
    // Prepare
    const payload = variant(push(), (p) => (p.total_commits_count = 35));

    // Act
    const request = requestOf(interpret(gitlabDelivery('Push Hook', payload)));

    // Assess
    expect(request.changedFiles.complete).toBe(false);
  });

  it('normalizes a tag push to the commit the tag points at', () => {
    // Act
    const request = requestOf(interpret(gitlabDelivery('Tag Push Hook', tagPush())));

    // Assess
    expect(request.ref).toEqual({ name: 'v1.4.0', fullName: 'refs/tags/v1.4.0', kind: 'tag' });
    expect(request.commit.sha).toBe('da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
    expect(request.commit.before).toBeNull();
  });

  it('reads a push that arrives as a System Hook by its object_kind', () => {
    // Act
    const request = requestOf(interpret(gitlabDelivery('System Hook', push())));

    // Assess
    expect(request.ref.fullName).toBe('refs/heads/main');
  });

  it.each([
    ['open', 'opened', {}],
    ['reopen', 'reopened', {}],
    ['update', 'synchronize', { oldrev: '95790bf891e76fee5e1747ab589903a6a1f80f22' }],
    ['close', 'closed', {}],
    ['merge', 'closed', {}],
  ])('normalizes the merge request action %s as %s', (action, expected, extra) => {
    // Prepare
    const payload = mergeRequest(action, (p) => Object.assign(p.object_attributes, extra));

    // Act
    const request = requestOf(interpret(gitlabDelivery('Merge Request Hook', payload)));

    // Assess
    expect(request.pullRequest).toMatchObject({
      number: 12,
      action: expected,
      title: 'Faster catalogue search',
      base: { ref: 'main', sha: null },
      head: { ref: 'feature/faster-search', sha: 'c0ffee42b1bc1dcd7f8b4d5a946b0b91f9dac0de' },
      fork: false,
    });
    expect(request.ref).toEqual({
      name: 'feature/faster-search',
      fullName: 'refs/merge-requests/12/head',
      kind: 'branch',
    });
    expect(request.sender.login).toBe('slee');
  });

  it('marks a merge request from another project as a fork', () => {
    // Prepare
    const payload = mergeRequest('open', (p) => {
      p.object_attributes.source_project_id = 77;
      p.object_attributes.source.path_with_namespace = 'mallory/storefront';
    });

    // Act
    const request = requestOf(interpret(gitlabDelivery('Merge Request Hook', payload)));

    // Assess
    expect(request.pullRequest).toMatchObject({ fork: true, head: { repository: 'mallory/storefront' } });
  });
});
