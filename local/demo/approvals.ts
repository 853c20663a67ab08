/**
 * Decides an approval gate through the runtime's JSON API, `POST /api/approvals/{id}/decision`: the request
 * `stepline approve|reject` sends, so the approver list, the expiry and single use hold as for a person.
 */

export interface Decision {
  readonly status: number;
  /** `approved`, `rejected`, `forbidden`, `expired`, ... as the API answers. */
  readonly outcome: string;
}

export async function decideApproval(
  url: string,
  approvalId: string,
  decision: 'approve' | 'reject',
  by: string,
  reason?: string,
): Promise<Decision> {
  const response = await fetch(`${url}/api/approvals/${encodeURIComponent(approvalId)}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision, by, ...(reason ? { reason } : {}) }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, outcome: String(body['outcome'] ?? body['message'] ?? body['error'] ?? '') };
}
