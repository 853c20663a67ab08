import Database from 'better-sqlite3';
import type { ParkedDelivery } from '../../core/contracts/parking';
import { ParkingError } from '../../core/intake/errors';
import type { ParkingStore } from '../../core/intake/ports';

/**
 * The local runtime's parking store: parked deliveries in SQLite (the runtime's state file, or a file of its own),
 * one row per execution name, so a delivery parked twice is kept once. The replay drains it in process.
 */

type Db = InstanceType<typeof Database>;

interface Row {
  readonly body: string;
}

export class SqliteParkingStore implements ParkingStore {
  private readonly db: Db;

  /** Opens (or shares) a database: a path, `:memory:`, or an open better-sqlite3 handle. */
  public constructor(database: string | Db) {
    this.db = typeof database === 'string' ? new Database(database) : database;
    if (typeof database === 'string') this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS parked_deliveries (
        name TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        repository TEXT NOT NULL,
        body TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      )`);
  }

  public async park(delivery: ParkedDelivery): Promise<void> {
    const { request } = delivery.input;
    try {
      this.db
        .prepare(
          `INSERT INTO parked_deliveries (name, provider, delivery_id, repository, body, parked_at)
           VALUES (@name, @provider, @deliveryId, @repository, @body, @parkedAt)
           ON CONFLICT(name) DO UPDATE SET body = excluded.body`,
        )
        .run({
          name: delivery.name,
          provider: request.provider,
          deliveryId: request.deliveryId,
          repository: request.repository.fullName,
          body: JSON.stringify(delivery),
          parkedAt: delivery.parkedAt,
        });
    } catch (error) {
      throw new ParkingError(`could not park ${delivery.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  public async list(limit: number): Promise<readonly ParkedDelivery[]> {
    const rows = this.db
      .prepare('SELECT body FROM parked_deliveries ORDER BY parked_at, name LIMIT ?')
      .all(limit) as Row[];
    return rows.map((row) => JSON.parse(row.body) as ParkedDelivery);
  }

  public async remove(name: string): Promise<void> {
    this.db.prepare('DELETE FROM parked_deliveries WHERE name = ?').run(name);
  }

  public async recordFailure(name: string, reason: string): Promise<void> {
    this.db
      .prepare('UPDATE parked_deliveries SET attempts = attempts + 1, last_error = ? WHERE name = ?')
      .run(reason.slice(0, 1000), name);
  }

  /** How many deliveries are parked, and how often each has failed to replay (for the CLI and /metrics). */
  public stats(): { readonly parked: number; readonly failedAttempts: number } {
    const row = this.db
      .prepare('SELECT COUNT(*) AS parked, COALESCE(SUM(attempts), 0) AS failedAttempts FROM parked_deliveries')
      .get() as { parked: number; failedAttempts: number };
    return row;
  }

  public close(): void {
    this.db.close();
  }
}
