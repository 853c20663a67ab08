import Database from 'better-sqlite3';
import type { ApprovalDecision, ApprovalRecord, ApprovalStore } from '../../core/approval/contracts';

/**
 * The approval store of the local runtime: one SQLite table (better-sqlite3, synchronous, one writer). Single use
 * is an `UPDATE … WHERE status = 'waiting' AND expires_at > now` that changes one row or none.
 */
type Row = {
  record: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
};

export class SqliteApprovalStore implements ApprovalStore {
  readonly #db: Database.Database;

  /** `file` is a path, or `:memory:`; pass an open database to share the runtime's file. */
  public constructor(file: string | Database.Database) {
    this.#db = typeof file === 'string' ? new Database(file) : file;
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS approvals (
      id TEXT PRIMARY KEY,
      record TEXT NOT NULL,
      status TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      decided_by TEXT,
      decided_at TEXT,
      reason TEXT
    )`);
  }

  public close(): void {
    this.#db.close();
  }

  public async create(record: ApprovalRecord): Promise<boolean> {
    const result = this.#db
      .prepare('INSERT OR IGNORE INTO approvals (id, record, status, expires_at) VALUES (?, ?, ?, ?)')
      .run(record.id, JSON.stringify(record), record.status, record.expiresAt);
    return result.changes === 1;
  }

  public async retoken(id: string, taskToken: string, nowSeconds: number): Promise<boolean> {
    const row = this.#db
      .prepare(`SELECT record FROM approvals WHERE id = ? AND status = 'waiting' AND expires_at > ?`)
      .get(id, nowSeconds) as { record: string } | undefined;
    if (!row) return false;
    const record = { ...(JSON.parse(row.record) as ApprovalRecord), taskToken };
    const result = this.#db
      .prepare(`UPDATE approvals SET record = ? WHERE id = ? AND status = 'waiting' AND expires_at > ?`)
      .run(JSON.stringify(record), id, nowSeconds);
    return result.changes === 1;
  }

  public async get(id: string): Promise<ApprovalRecord | null> {
    const row = this.#db
      .prepare('SELECT record, status, decided_by, decided_at, reason FROM approvals WHERE id = ?')
      .get(id) as Row | undefined;
    if (!row) return null;
    const record = JSON.parse(row.record) as ApprovalRecord;
    return {
      ...record,
      status: row.status as ApprovalRecord['status'],
      decidedBy: row.decided_by,
      decidedAt: row.decided_at,
      reason: row.reason,
    };
  }

  public async decide(id: string, decision: ApprovalDecision, nowSeconds: number): Promise<boolean> {
    const result = this.#db
      .prepare(
        `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ?
         WHERE id = ? AND status = 'waiting' AND expires_at > ?`,
      )
      .run(decision.status, decision.by, decision.at, decision.reason, id, nowSeconds);
    return result.changes === 1;
  }

  public async reopen(id: string, decision: ApprovalDecision): Promise<void> {
    this.#db
      .prepare(
        `UPDATE approvals SET status = 'waiting', decided_by = NULL, decided_at = NULL, reason = NULL
         WHERE id = ? AND status = ? AND decided_at = ?`,
      )
      .run(id, decision.status, decision.at);
  }

  public async expire(id: string): Promise<void> {
    this.#db.prepare(`UPDATE approvals SET status = 'expired' WHERE id = ?`).run(id);
  }

  public async listWaiting(nowSeconds: number): Promise<ApprovalRecord[]> {
    const rows = this.#db
      .prepare(`SELECT record FROM approvals WHERE status = 'waiting' AND expires_at > ? ORDER BY expires_at`)
      .all(nowSeconds) as { record: string }[];
    return rows.map((row) => ({ ...(JSON.parse(row.record) as ApprovalRecord), status: 'waiting' }));
  }
}
