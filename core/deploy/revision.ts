import { RevisionUnreadable } from './errors';
import { isRecord, type KubernetesObject } from './types';

/**
 * Revision records: what each deploy applied to an environment, so that a rollback can re-apply the last good
 * one. They live in the cluster (see docs/adr/0022); this module is their content and the rules about them.
 *
 * A record is written `pending` after its objects were applied, becomes `deployed` when its rollout completes,
 * and `failed` when the workflow rolls it back. The last good revision is the newest `deployed` one.
 */
export type RevisionStatus = 'pending' | 'deployed' | 'failed';

export const REVISION_STATUSES: readonly RevisionStatus[] = ['pending', 'deployed', 'failed'];

export interface RevisionRecord {
  readonly environment: string;
  readonly namespace: string;
  /** 1, 2, 3, ... per environment. */
  readonly number: number;
  readonly status: RevisionStatus;
  readonly commit: string;
  readonly repository: string;
  readonly executionName: string;
  /** The image reference the manifests were rendered with: `repository@sha256:…`. */
  readonly image: string;
  /** ISO-8601 instant of the apply. */
  readonly createdAt: string;
  /** The rendered objects, in apply order, exactly as applied. */
  readonly objects: readonly KubernetesObject[];
}

/** What a listing tells about a revision without reading its objects. */
export interface RevisionSummary {
  readonly number: number;
  readonly status: RevisionStatus;
  readonly commit: string;
  readonly image: string;
  readonly createdAt: string;
}

/** How many records an environment keeps; the last good one is always kept. */
export const REVISIONS_KEPT = 10;

export function nextRevisionNumber(revisions: readonly RevisionSummary[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.number), 0) + 1;
}

/** The newest revision whose rollout completed, other than `excluding`; null when there is none. */
export function lastGoodRevision(
  revisions: readonly RevisionSummary[],
  excluding: number | null,
): RevisionSummary | null {
  return (
    revisions.filter((r) => r.status === 'deployed' && r.number !== excluding).sort((a, b) => b.number - a.number)[0] ??
    null
  );
}

/** The revisions to delete so that at most `keep` remain, oldest first; the last good one is never among them. */
export function revisionsToPrune(revisions: readonly RevisionSummary[], keep = REVISIONS_KEPT): number[] {
  const lastGood = lastGoodRevision(revisions, null)?.number ?? null;
  const newestFirst = [...revisions].sort((a, b) => b.number - a.number).map((r) => r.number);
  const kept = newestFirst.slice(0, Math.max(keep, 1));
  if (lastGood !== null && !kept.includes(lastGood)) kept[kept.length - 1] = lastGood;
  return newestFirst.filter((n) => !kept.includes(n)).sort((a, b) => a - b);
}

/** The record as JSON text (the store compresses it). */
export function encodeRevision(record: RevisionRecord): string {
  return JSON.stringify({ v: 1, ...record });
}

/** Reads a record from its JSON text, checking its shape; throws `RevisionUnreadable` naming what is wrong. */
export function decodeRevision(text: string, where: string): RevisionRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RevisionUnreadable(`Revision record ${where} is not JSON`, { cause: error });
  }
  if (!isRecord(value) || value['v'] !== 1)
    throw new RevisionUnreadable(`Revision record ${where} has an unknown format`);
  const strings = ['environment', 'namespace', 'commit', 'repository', 'executionName', 'image', 'createdAt'] as const;
  for (const key of strings) {
    if (typeof value[key] !== 'string') throw new RevisionUnreadable(`Revision record ${where} has no ${key}`);
  }
  if (typeof value['number'] !== 'number' || !Number.isInteger(value['number']) || value['number'] < 1) {
    throw new RevisionUnreadable(`Revision record ${where} has no revision number`);
  }
  if (!REVISION_STATUSES.includes(value['status'] as RevisionStatus)) {
    throw new RevisionUnreadable(`Revision record ${where} has an unknown status`);
  }
  const objects = value['objects'];
  if (
    !Array.isArray(objects) ||
    !objects.every((o) => isRecord(o) && typeof o['kind'] === 'string' && isRecord(o['metadata']))
  ) {
    throw new RevisionUnreadable(`Revision record ${where} has no objects`);
  }
  const { v: _v, ...record } = value;
  return record as unknown as RevisionRecord;
}
