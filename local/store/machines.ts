import { type Db, GroupCommit, type Statement, statementCache } from './db';
import { decodeCursor, encodeCursor, type Page } from './executions';

/**
 * What the Step Functions API keeps about a state machine besides its definition (the `state_machines` table of
 * executions.ts): its logging, tracing and encryption configurations, the revision id that UpdateStateMachine
 * gives it, the versions published from it, and the tags of any resource. JSON members are kept as the API sends
 * them (camelCase).
 */

export type JsonObject = Record<string, unknown>;

export interface MachineSettings {
  readonly logging: JsonObject | null;
  readonly tracing: JsonObject | null;
  readonly encryption: JsonObject | null;
  /** The API's `revisionId`: none until the first UpdateStateMachine (PublishStateMachineVersion's `INITIAL`). */
  readonly revision: string | null;
}

export interface VersionRecord {
  /** `<state machine ARN>:<version>`. */
  readonly arn: string;
  readonly machineArn: string;
  readonly version: number;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly logging: JsonObject | null;
  readonly tracing: JsonObject | null;
  readonly encryption: JsonObject | null;
  readonly description: string | null;
  /** The machine's revision it was published from (`INITIAL` before any update). */
  readonly revision: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

export interface Tag {
  readonly key: string;
  readonly value: string;
}

interface VersionRow {
  arn: string;
  machine_arn: string;
  version: number;
  definition: string;
  role_arn: string;
  type: 'STANDARD' | 'EXPRESS';
  logging: string | null;
  tracing: string | null;
  encryption: string | null;
  description: string | null;
  revision: string;
  created_at: number;
}

function parse(text: string | null): JsonObject | null {
  return text === null ? null : (JSON.parse(text) as JsonObject);
}

function text(value: JsonObject | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function toVersion(row: VersionRow): VersionRecord {
  return {
    arn: row.arn,
    machineArn: row.machine_arn,
    version: row.version,
    definition: row.definition,
    roleArn: row.role_arn,
    type: row.type,
    logging: parse(row.logging),
    tracing: parse(row.tracing),
    encryption: parse(row.encryption),
    description: row.description,
    revision: row.revision,
    createdAt: row.created_at,
  };
}

export class MachineDetailsStore {
  private readonly sql: (source: string) => Statement;

  public constructor(private readonly db: Db) {
    this.sql = statementCache(db);
  }

  // ------------------------------------------------------------------------------------------ settings

  public settings(arn: string): MachineSettings {
    const row = this.sql('SELECT logging, tracing, encryption, revision FROM state_machine_settings WHERE arn = ?').get(
      arn,
    ) as
      | { logging: string | null; tracing: string | null; encryption: string | null; revision: string | null }
      | undefined;
    return {
      logging: parse(row?.logging ?? null),
      tracing: parse(row?.tracing ?? null),
      encryption: parse(row?.encryption ?? null),
      revision: row?.revision ?? null,
    };
  }

  public putSettings(arn: string, settings: MachineSettings): void {
    GroupCommit.join(this.db);
    this.sql(
      `INSERT INTO state_machine_settings (arn, logging, tracing, encryption, revision) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(arn) DO UPDATE SET logging = excluded.logging, tracing = excluded.tracing,
           encryption = excluded.encryption, revision = excluded.revision`,
    ).run(arn, text(settings.logging), text(settings.tracing), text(settings.encryption), settings.revision);
  }

  // ------------------------------------------------------------------------------------------ versions

  /**
   * Publishes a version: numbers go up from 1 per state machine and are never reused, even after a version is
   * deleted. Answers the stored version.
   */
  public publish(version: Omit<VersionRecord, 'arn' | 'version'>): VersionRecord {
    GroupCommit.join(this.db);
    return this.db.transaction(() => {
      this.sql(
        `INSERT INTO state_machine_settings (arn) VALUES (?)
           ON CONFLICT(arn) DO UPDATE SET next_version = next_version`,
      ).run(version.machineArn);
      const { next_version: number } = this.sql('SELECT next_version FROM state_machine_settings WHERE arn = ?').get(
        version.machineArn,
      ) as { next_version: number };
      this.sql('UPDATE state_machine_settings SET next_version = ? WHERE arn = ?').run(number + 1, version.machineArn);
      const record: VersionRecord = { ...version, arn: `${version.machineArn}:${number}`, version: number };
      this.sql(
        `INSERT INTO state_machine_versions (arn, machine_arn, version, definition, role_arn, type, logging, tracing,
           encryption, description, revision, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        record.arn,
        record.machineArn,
        record.version,
        record.definition,
        record.roleArn,
        record.type,
        text(record.logging),
        text(record.tracing),
        text(record.encryption),
        record.description,
        record.revision,
        record.createdAt,
      );
      return record;
    })();
  }

  public version(arn: string): VersionRecord | undefined {
    const row = this.sql('SELECT * FROM state_machine_versions WHERE arn = ?').get(arn) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** The version published from a machine's revision, if any. */
  public versionOfRevision(machineArn: string, revision: string): VersionRecord | undefined {
    const row = this.sql(
      'SELECT * FROM state_machine_versions WHERE machine_arn = ? AND revision = ? ORDER BY version DESC LIMIT 1',
    ).get(machineArn, revision) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** A machine's versions, newest first. */
  public versions(machineArn: string, limit: number, cursor?: string): Page<VersionRecord> {
    const before = cursor ? decodeCursor<number>(`versions:${machineArn}`, cursor) : Number.MAX_SAFE_INTEGER;
    const rows = this.sql(
      'SELECT * FROM state_machine_versions WHERE machine_arn = ? AND version < ? ORDER BY version DESC LIMIT ?',
    ).all(machineArn, before, limit + 1) as VersionRow[];
    const items = rows.slice(0, limit).map(toVersion);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? encodeCursor(`versions:${machineArn}`, last.version) : null };
  }

  public deleteVersion(arn: string): void {
    GroupCommit.join(this.db);
    this.sql('DELETE FROM state_machine_versions WHERE arn = ?').run(arn);
    this.sql('DELETE FROM resource_tags WHERE resource_arn = ?').run(arn);
  }

  // ------------------------------------------------------------------------------------------ tags

  /** A resource's tags, by key. */
  public tags(resourceArn: string): Tag[] {
    return this.sql('SELECT key, value FROM resource_tags WHERE resource_arn = ? ORDER BY key').all(
      resourceArn,
    ) as Tag[];
  }

  /** Adds or overwrites tags. */
  public tag(resourceArn: string, tags: readonly Tag[]): void {
    GroupCommit.join(this.db);
    const put = this.sql(
      `INSERT INTO resource_tags (resource_arn, key, value) VALUES (?, ?, ?)
         ON CONFLICT(resource_arn, key) DO UPDATE SET value = excluded.value`,
    );
    this.db.transaction(() => {
      for (const t of tags) put.run(resourceArn, t.key, t.value);
    })();
  }

  public untag(resourceArn: string, keys: readonly string[]): void {
    GroupCommit.join(this.db);
    const remove = this.sql('DELETE FROM resource_tags WHERE resource_arn = ? AND key = ?');
    this.db.transaction(() => {
      for (const key of keys) remove.run(resourceArn, key);
    })();
  }

  // ------------------------------------------------------------------------------------------ deletion

  /** Deletes a state machine with its settings, versions and tags (its executions stay, as on AWS). */
  public deleteMachine(arn: string): void {
    GroupCommit.join(this.db);
    this.db.transaction(() => {
      this.sql(
        'DELETE FROM resource_tags WHERE resource_arn = ? OR resource_arn IN (SELECT arn FROM state_machine_versions WHERE machine_arn = ?)',
      ).run(arn, arn);
      this.sql('DELETE FROM state_machine_versions WHERE machine_arn = ?').run(arn);
      this.sql('DELETE FROM state_machine_settings WHERE arn = ?').run(arn);
      this.sql('DELETE FROM state_machines WHERE arn = ?').run(arn);
    })();
  }
}
