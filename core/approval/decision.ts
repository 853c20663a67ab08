import type { ApprovalRecord } from './contracts';

/**
 * Who may decide, and what a link's state allows (pure). An environment that lists approvers accepts only them
 * (Git host user names, compared without regard to case); one that lists none accepts anyone who can open the
 * link, as the configuration documents.
 */

export function mayDecide(approvers: readonly string[], actor: string | null): boolean {
  if (approvers.length === 0) return true;
  if (!actor) return false;
  const name = actor.trim().toLowerCase();
  return approvers.some((approver) => approver.trim().toLowerCase() === name);
}

/** What a valid, known link allows now. */
export type ApprovalAccess =
  | { readonly kind: 'open' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'decided'; readonly record: ApprovalRecord };

export function accessOf(record: ApprovalRecord, nowSeconds: number): ApprovalAccess {
  if (record.status === 'approved' || record.status === 'rejected') return { kind: 'decided', record };
  if (record.status === 'expired' || nowSeconds >= record.expiresAt) return { kind: 'expired' };
  return { kind: 'open' };
}
