import type { ApprovalRecord, ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import { type DecisionResult, decideApproval } from '../../core/approval/service';
import { signApprovalId } from '../../core/approval/token';
import type { Db } from '../store/db';

/**
 * The approvals as the CLI and the console see them: the requests of the approval store (the same `approvals`
 * table the approval function writes, in the runtime's state file), each with its page's link and never with
 * its task token; and decisions taken from the CLI (`stepline approve|reject`), which go through the same core
 * call as the approval page, so the approver list and single use hold there too.
 */

export type ApprovalView = Omit<ApprovalRecord, 'taskToken'> & { readonly url: string };

export class ApprovalDesk {
  public constructor(
    private readonly db: Db,
    private readonly store: ApprovalStore,
    private readonly keys: () => Promise<readonly string[]>,
    private readonly callbacks: TaskCallbacks,
    private readonly baseUrl: string,
  ) {}

  private async view(record: ApprovalRecord): Promise<ApprovalView> {
    const { taskToken: _token, ...rest } = record;
    const signed = signApprovalId(record.id, record.expiresAt, await this.keys());
    return { ...rest, url: `${this.baseUrl}/approvals/${signed}` };
  }

  /** Requests, newest first; only those of one status or execution when asked. */
  public async list(filter: { status?: string; executionArn?: string } = {}): Promise<ApprovalView[]> {
    let ids: { id: string }[];
    try {
      ids = this.db.prepare('SELECT id FROM approvals').all() as { id: string }[];
    } catch {
      return [];
    }
    const records: ApprovalRecord[] = [];
    for (const { id } of ids) {
      const record = await this.store.get(id);
      if (!record) continue;
      if (filter.status && record.status !== filter.status) continue;
      if (filter.executionArn && record.executionArn !== filter.executionArn) continue;
      records.push(record);
    }
    records.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
    return Promise.all(records.map((r) => this.view(r)));
  }

  public async get(id: string): Promise<ApprovalView | undefined> {
    const record = await this.store.get(id);
    return record ? this.view(record) : undefined;
  }

  /** Decides a request as `actor`, exactly as the approval page would. */
  public async decide(
    id: string,
    input: { action: string; actor: string | null; reason?: string },
  ): Promise<DecisionResult | { kind: 'unknown' }> {
    const record = await this.store.get(id);
    if (!record) return { kind: 'unknown' };
    const keys = await this.keys();
    return decideApproval(
      {
        signedId: signApprovalId(record.id, record.expiresAt, keys),
        action: input.action,
        actor: input.actor,
        ...(input.reason ? { reason: input.reason } : {}),
      },
      { store: this.store, keys, now: () => Math.floor(Date.now() / 1000), callbacks: this.callbacks },
    );
  }
}
