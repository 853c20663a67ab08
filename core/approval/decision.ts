import type { ApprovalRecord } from './contracts';

/** What a link's state allows (pure). Who may decide is `refusalOf` (approvers.ts). */

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
