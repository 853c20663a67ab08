import type { ApprovalRecord, ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import { type DecisionResult, decideApproval } from '../../core/approval/service';
import { signApprovalId } from '../../core/approval/token';
import type { ApprovalView } from '../server/ports';
import type { Db } from '../store/db';
import { cleanLogin } from './identity';

/**
 * The approvals as the CLI and the console see them: the requests of the approval store (the same `approvals`
 * table the approval function writes, in the runtime's state file), each with its page's link and never with
 * its task token; and decisions taken from the CLI (`stepline approve|reject`), which go through the same core
 * call as the approval page, so the approver list and single use hold there too.
 */

export type { ApprovalView };

export class ApprovalDesk {
  #identity: string;

  public constructor(
    private readonly db: Db,
    private readonly store: ApprovalStore,
    private readonly keys: () => Promise<readonly string[]>,
    private readonly callbacks: TaskCallbacks,
    private readonly baseUrl: string,
    identity: string,
  ) {
    this.#identity = cleanLogin(identity) ?? 'local';
  }

  /** The runtime's local identity (local/runtime/identity.ts): whom the console and the CLI decide as. */
  public get identity(): string {
    return this.#identity;
  }

  /** Changes the local identity (the console's header); throws `TypeError` for something that is not a login. */
  public setIdentity(login: string): string {
    const clean = cleanLogin(login);
    if (!clean) throw new TypeError('a login is letters, digits, ".", "_" and "-", starting with a letter or digit');
    this.#identity = clean;
    return clean;
  }

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

  /**
   * Decides a request as `as` (the CLI's `--as`, the name the console showed), else as the local identity, exactly
   * as the approval page would: the approvers, the author rule, expiry and single use hold.
   */
  public async decide(
    id: string,
    input: { action: string; as?: string | null; reason?: string },
  ): Promise<DecisionResult | { kind: 'unknown' }> {
    const record = await this.store.get(id);
    if (!record) return { kind: 'unknown' };
    const keys = await this.keys();
    const login = input.as?.trim() || this.#identity;
    return decideApproval(
      {
        signedId: signApprovalId(record.id, record.expiresAt, keys),
        action: input.action,
        person: { source: 'local', login, names: [login] },
        ...(input.reason ? { reason: input.reason } : {}),
      },
      { store: this.store, keys, now: () => Math.floor(Date.now() / 1000), callbacks: this.callbacks },
    );
  }
}
