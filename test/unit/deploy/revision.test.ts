import { describe, expect, it } from 'vitest';
import { RevisionUnreadable } from '../../../core/deploy/errors';
import {
  decodeRevision,
  encodeRevision,
  lastGoodRevision,
  nextRevisionNumber,
  type RevisionRecord,
  type RevisionStatus,
  type RevisionSummary,
  revisionsToPrune,
} from '../../../core/deploy/revision';

function summary(number: number, status: RevisionStatus): RevisionSummary {
  return { number, status, commit: 'c', image: 'i', createdAt: '2024-01-01T00:00:00Z' };
}

const RECORD: RevisionRecord = {
  environment: 'production',
  namespace: 'shop',
  number: 4,
  status: 'deployed',
  commit: '3f786850e387550fdab836ed7e6dc881de23001b',
  repository: 'acme/shop',
  executionName: 'shop-main-3f78685',
  image: `shop/api@sha256:${'a'.repeat(64)}`,
  createdAt: '2024-01-01T00:00:00.000Z',
  objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: 'b' } }],
};

describe('revision records', () => {
  it('numbers revisions after the highest one, starting at 1', () => {
    // Act & Assess
    expect(nextRevisionNumber([])).toBe(1);
    expect(nextRevisionNumber([summary(3, 'failed'), summary(7, 'deployed'), summary(5, 'pending')])).toBe(8);
  });

  it('takes the newest deployed revision as the last good one, never the one that failed', () => {
    // Prepare
    const revisions = [summary(1, 'deployed'), summary(2, 'deployed'), summary(3, 'failed'), summary(4, 'pending')];

    // Act & Assess
    expect(lastGoodRevision(revisions, 4)?.number).toBe(2);
    expect(lastGoodRevision(revisions, 2)?.number).toBe(1);
    expect(lastGoodRevision([summary(1, 'failed'), summary(2, 'pending')], 2)).toBeNull();
  });

  it('prunes the oldest records beyond ten, but keeps the last good one however old', () => {
    // Prepare
    const revisions = [summary(1, 'deployed'), ...Array.from({ length: 11 }, (_, i) => summary(i + 2, 'failed'))];

    // Act
    const pruned = revisionsToPrune(revisions, 10);

    // Assess
    expect(pruned).toEqual([2, 3]);
    expect(revisions.length - pruned.length).toBe(10);
  });

  it('prunes nothing while there are ten or fewer', () => {
    // Act & Assess
    expect(
      revisionsToPrune(
        Array.from({ length: 10 }, (_, i) => summary(i + 1, 'deployed')),
        10,
      ),
    ).toEqual([]);
  });

  it('reads back what it wrote', () => {
    // Act & Assess
    expect(decodeRevision(encodeRevision(RECORD), 'shop/stepline.production.v4')).toEqual(RECORD);
  });

  it.each([
    ['text that is not JSON', '{', 'is not JSON'],
    ['another format version', JSON.stringify({ ...RECORD, v: 2 }), 'has an unknown format'],
    ['no image', JSON.stringify({ ...RECORD, v: 1, image: undefined }), 'has no image'],
    ['an unknown status', JSON.stringify({ ...RECORD, v: 1, status: 'great' }), 'has an unknown status'],
    ['objects without kinds', JSON.stringify({ ...RECORD, v: 1, objects: [{ metadata: {} }] }), 'has no objects'],
  ])('refuses a record with %s, naming it', (_case, text, expected) => {
    // Act
    const read = () => decodeRevision(text, 'shop/stepline.production.v4');

    // Assess
    expect(read).toThrow(RevisionUnreadable);
    expect(read).toThrow(`Revision record shop/stepline.production.v4 ${expected}`);
  });
});
