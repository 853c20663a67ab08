import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionName, MAX_EXECUTION_NAME_LENGTH } from '../../../core/intake/name';

const request = (fullName: string, sha: string, deliveryId: string) => ({
  repository: { fullName, cloneUrl: '', defaultBranch: 'main', htmlUrl: null },
  commit: { sha, before: null, message: null, url: null },
  deliveryId,
});

describe('execution names', () => {
  it('joins repository, short SHA and delivery id', () => {
    // Act
    const name = executionName(
      request(
        'Codertocat/Hello-World',
        '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      ),
    );

    // Assess
    expect(name).toBe('Codertocat-Hello-World-6113728-72d3162e-cc78-11e3-81ab-4c9367dc0958');
  });

  it('maps a redelivery to the same name', () => {
    // Prepare
    const delivery = request('acme/platform/storefront', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', 'key-1');

    // Act
    const names = [executionName(delivery), executionName(structuredClone(delivery))];

    // Assess
    expect(names[0]).toBe(names[1]);
  });

  it('keeps a long repository name within 80 characters', () => {
    // Act
    const name = executionName(
      request(
        `acme/${'very-long-group/'.repeat(8)}service`,
        'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        'k'.repeat(36),
      ),
    );

    // Assess
    expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_LENGTH);
    expect(name).toMatch(/^acme-very-long-group.*-da15608-k{36}$/);
  });

  it('gives delivery ids that sanitize alike different names', () => {
    // Act
    const a = executionName(request('acme/payments', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '{req-1}'));
    const b = executionName(request('acme/payments', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'req-1'));

    // Assess
    expect(a).not.toBe(b);
    expect(a).toMatch(/^acme-payments-4b825dc-req-1-[0-9a-f]{10}$/);
  });

  it('always yields 1-80 characters of [0-9A-Za-z_-], deterministically, for any input', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 64 }),
        fc.string({ maxLength: 300 }),
        (repo, sha, id) => {
          // Act
          const name = executionName(request(repo, sha, id));

          // Assess
          expect(name).toMatch(/^[0-9A-Za-z_-]{1,80}$/);
          expect(executionName(request(repo, sha, id))).toBe(name);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives distinct delivery ids of one commit distinct names', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 120 }), fc.string({ minLength: 1, maxLength: 120 }), (a, b) => {
        fc.pre(a !== b);
        // Act
        const names = [a, b].map((id) => executionName(request('acme/shop', 'abcdef0123456789', id)));

        // Assess
        expect(names[0]).not.toBe(names[1]);
      }),
      { numRuns: 2000 },
    );
  });
});
