import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The local runtime's state file: one SQLite database (better-sqlite3, synchronous, WAL) under `.stepline/`
 * (or a folder given to the runtime). Every table of the runtime lives in it: state machines, executions and
 * their history, builds and their logs, commit statuses of the local Git host sink, and the tables that the
 * shared adapters create on the same handle (parked deliveries, approvals, run coordination).
 *
 * The schema is versioned with `PRAGMA user_version`; `migrate` brings an older file up to date in one
 * transaction per step, so a runtime never runs on a half-migrated file.
 */

export type Db = Database.Database;
export type Statement = Database.Statement;

/** The file name of the state database inside the state folder. */
export const STATE_FILE = 'stepline.db';

/** Each step brings the schema from version `index` to `index + 1`. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revision_id TEXT NOT NULL
  );
  CREATE TABLE executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date INTEGER NOT NULL,
    stop_date INTEGER,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_date INTEGER,
    repository TEXT,
    event_count INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL
  );
  CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date DESC, seq DESC);
  CREATE INDEX executions_by_status ON executions (status);
  CREATE TABLE history_events (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    details_key TEXT,
    details TEXT,
    PRIMARY KEY (execution_arn, id)
  ) WITHOUT ROWID;
  CREATE TABLE builds (
    id TEXT PRIMARY KEY,
    project_name TEXT NOT NULL,
    build_number INTEGER NOT NULL,
    status TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    execution_arn TEXT,
    pgid INTEGER,
    document TEXT NOT NULL
  );
  CREATE INDEX builds_by_execution ON builds (execution_arn);
  CREATE INDEX builds_by_start ON builds (start_time DESC);
  CREATE TABLE build_numbers (
    project_name TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL
  );
  CREATE TABLE build_logs (
    build_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    phase TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (build_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE commit_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    repository TEXT NOT NULL,
    sha TEXT NOT NULL,
    context TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT,
    target_url TEXT,
    ref TEXT,
    key TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX commit_statuses_by_commit ON commit_statuses (provider, repository, sha, id);
  CREATE TABLE githost_deployments (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    repository TEXT NOT NULL,
    sha TEXT NOT NULL,
    environment TEXT NOT NULL,
    body TEXT NOT NULL,
    statuses TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE runtime_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: what CreateStateMachine and UpdateStateMachine take besides the definition (logging, tracing, encryption,
  // the API's revision id), published versions, tags; builds by project for ListBuildsForProject (ADR 0016).
  `
  CREATE TABLE state_machine_settings (
    arn TEXT PRIMARY KEY,
    logging TEXT,
    tracing TEXT,
    encryption TEXT,
    revision TEXT,
    next_version INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE state_machine_versions (
    arn TEXT PRIMARY KEY,
    machine_arn TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    type TEXT NOT NULL,
    logging TEXT,
    tracing TEXT,
    encryption TEXT,
    description TEXT,
    revision TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX state_machine_versions_by_machine ON state_machine_versions (machine_arn, version DESC);
  CREATE TABLE resource_tags (
    resource_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
  ) WITHOUT ROWID;
  CREATE INDEX builds_by_project ON builds (project_name, start_time DESC);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Where the state file of a folder is. */
export function stateFileOf(stateDir: string): string {
  return join(resolve(stateDir), STATE_FILE);
}

/**
 * Opens (creating it and its folder when needed) the state database: a path, or `:memory:` for tests. WAL,
 * `synchronous = NORMAL` (an acknowledged write survives a crash of the process, which is what `kill -9` tests),
 * a busy timeout for the CLI reading while the runtime writes, and the schema migrated.
 */
export function openStateDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** Applies the migrations the file has not seen. Throws when the file is newer than this code. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `the state file has schema version ${current}, newer than this Stepline (${SCHEMA_VERSION}): upgrade Stepline or use another state folder`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** A small key-value table for what the runtime must keep across restarts (the task token secret, ...). */
export class RuntimeSettings {
  public constructor(private readonly db: Db) {}

  public get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM runtime_settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  public set(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO runtime_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** The value under `key`, created with `make()` the first time. */
  public getOrCreate(key: string, make: () => string): string {
    const existing = this.get(key);
    if (existing !== undefined) return existing;
    const value = make();
    this.db.prepare('INSERT OR IGNORE INTO runtime_settings (key, value) VALUES (?, ?)').run(key, value);
    return this.get(key) as string;
  }
}

/**
 * A store's prepared statements, each SQL text prepared once: preparing a statement costs about as much as running
 * a small one, and the runtime runs the same few hundreds of times per pipeline run. A statement is shared by every
 * call with the same text, so its modes (`pluck`, `raw`, `expand`) must never be changed.
 */
export function statementCache(db: Db): (source: string) => Statement {
  const cache = new Map<string, Statement>();
  return (source) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = db.prepare(source);
      cache.set(source, statement);
    }
    return statement;
  };
}

const groups = new WeakMap<Db, GroupCommit>();

/**
 * Group commit: the writes that the runtime's stores make in one turn of the event loop share one transaction,
 * committed at the end of the turn (`setImmediate`), or earlier at `flush()`. A pipeline run writes a few hundred
 * rows (history events, build documents and logs, statuses) and a burst of deliveries thousands; one commit each
 * cost most of the time spent in SQLite (docs/adr/0086).
 *
 * What a crash can lose is the current turn's writes, as if it had come a moment earlier: the runtime resumes from
 * the last committed event. Nothing that has been acknowledged is lost, because the runtime flushes before it
 * answers an HTTP request (runtime/index.ts) and before it closes the file. Writes made inside another transaction
 * (`db.transaction(...)`) join it as they always did; better-sqlite3 nests those in ours as savepoints.
 *
 * Off unless the runtime turns it on (`GroupCommit.enable`): a store used on its own (tests, tools) commits every
 * write at once, as before.
 */
export class GroupCommit {
  private open = false;
  private scheduled = false;

  private constructor(
    private readonly db: Db,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Turns group commit on for a handle (once); `onError` hears of a commit that failed (its writes are lost). */
  public static enable(db: Db, onError: (error: unknown) => void = () => {}): GroupCommit {
    let group = groups.get(db);
    if (!group) {
      group = new GroupCommit(db, onError);
      groups.set(db, group);
    }
    return group;
  }

  /** Called by a store before it writes: opens this turn's transaction if none is open. */
  public static join(db: Db): void {
    groups.get(db)?.join();
  }

  /** Commits what this turn wrote so far (nothing when group commit is off or nothing was written). */
  public static flush(db: Db): void {
    groups.get(db)?.flush();
  }

  private join(): void {
    if (this.db.inTransaction || !this.db.open) return;
    this.db.exec('BEGIN');
    this.open = true;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (!this.open) return;
    this.open = false;
    if (!this.db.open || !this.db.inTransaction) return;
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // The transaction is gone already.
      }
      this.onError(error);
    }
  }
}
