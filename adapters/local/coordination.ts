import type Database from 'better-sqlite3';
import type { EnvironmentState, KeyState } from '../../core/coordination/contracts';
import type { CoordinationSnapshot, CoordinationStore, CoordinationWrite } from '../../core/coordination/service';

interface KeyRow {
  latest_sequence: number;
  latest_execution_arn: string;
  deploying_sequence: number;
}

interface EnvironmentRow {
  holder: string | null;
  holder_sequence: number;
  lease_expires_at: number;
  last_deployed_sequence: number;
  last_deployed_execution_arn: string | null;
}

/**
 * Run coordination in SQLite for the local runtime: each read-decide-write runs in one immediate transaction, so
 * concurrent executions in one process (and several processes on one file) see a consistent order.
 */
export class SqliteCoordinationStore implements CoordinationStore {
  private readonly statements;

  public constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS coordination_sequences (
        repository_key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS coordination_keys (
        concurrency_key TEXT PRIMARY KEY,
        latest_sequence INTEGER NOT NULL,
        latest_execution_arn TEXT NOT NULL,
        deploying_sequence INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS coordination_environments (
        environment_key TEXT PRIMARY KEY,
        holder TEXT,
        holder_sequence INTEGER NOT NULL,
        lease_expires_at INTEGER NOT NULL,
        last_deployed_sequence INTEGER NOT NULL,
        last_deployed_execution_arn TEXT
      );
    `);
    this.statements = {
      nextSequence: db.prepare<[string], { value: number }>(
        `INSERT INTO coordination_sequences (repository_key, value) VALUES (?, 1)
         ON CONFLICT (repository_key) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      getKey: db.prepare<[string], KeyRow>(
        'SELECT latest_sequence, latest_execution_arn, deploying_sequence FROM coordination_keys WHERE concurrency_key = ?',
      ),
      putKey: db.prepare<[string, number, string, number]>(
        `INSERT INTO coordination_keys (concurrency_key, latest_sequence, latest_execution_arn, deploying_sequence)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (concurrency_key) DO UPDATE SET latest_sequence = excluded.latest_sequence,
           latest_execution_arn = excluded.latest_execution_arn, deploying_sequence = excluded.deploying_sequence`,
      ),
      getEnvironment: db.prepare<[string], EnvironmentRow>(
        `SELECT holder, holder_sequence, lease_expires_at, last_deployed_sequence, last_deployed_execution_arn
         FROM coordination_environments WHERE environment_key = ?`,
      ),
      putEnvironment: db.prepare<[string, string | null, number, number, number, string | null]>(
        `INSERT INTO coordination_environments (environment_key, holder, holder_sequence, lease_expires_at,
           last_deployed_sequence, last_deployed_execution_arn)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (environment_key) DO UPDATE SET holder = excluded.holder,
           holder_sequence = excluded.holder_sequence, lease_expires_at = excluded.lease_expires_at,
           last_deployed_sequence = excluded.last_deployed_sequence,
           last_deployed_execution_arn = excluded.last_deployed_execution_arn`,
      ),
    };
  }

  public async nextSequence(repositoryKey: string): Promise<number> {
    const row = this.statements.nextSequence.get(repositoryKey);
    if (!row) throw new Error(`could not allocate a sequence for ${repositoryKey}`);
    return row.value;
  }

  public async transact<T>(
    items: { readonly concurrencyKey?: string; readonly environmentKey?: string },
    decide: (snapshot: CoordinationSnapshot) => CoordinationWrite<T>,
  ): Promise<T> {
    const run = this.db.transaction((): T => {
      const key = items.concurrencyKey ? this.readKey(items.concurrencyKey) : null;
      const environment = items.environmentKey ? this.readEnvironment(items.environmentKey) : null;
      const write = decide({ key, environment });
      if (write.key && items.concurrencyKey) {
        const k = write.key;
        this.statements.putKey.run(items.concurrencyKey, k.latestSequence, k.latestExecutionArn, k.deployingSequence);
      }
      if (write.environment && items.environmentKey) {
        const e = write.environment;
        this.statements.putEnvironment.run(
          items.environmentKey,
          e.holder,
          e.holderSequence,
          e.leaseExpiresAt,
          e.lastDeployedSequence,
          e.lastDeployedExecutionArn,
        );
      }
      return write.result;
    });
    return run.immediate();
  }

  private readKey(concurrencyKey: string): KeyState | null {
    const row = this.statements.getKey.get(concurrencyKey);
    return row
      ? {
          latestSequence: row.latest_sequence,
          latestExecutionArn: row.latest_execution_arn,
          deployingSequence: row.deploying_sequence,
        }
      : null;
  }

  private readEnvironment(environmentKey: string): EnvironmentState | null {
    const row = this.statements.getEnvironment.get(environmentKey);
    return row
      ? {
          holder: row.holder,
          holderSequence: row.holder_sequence,
          leaseExpiresAt: row.lease_expires_at,
          lastDeployedSequence: row.last_deployed_sequence,
          lastDeployedExecutionArn: row.last_deployed_execution_arn,
        }
      : null;
  }
}
