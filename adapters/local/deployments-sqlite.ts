import type Database from 'better-sqlite3';
import type { DeploymentQuery, DeploymentRecord, DeploymentStore, Incident } from '../../core/insight/contracts';

/**
 * Deployment records and incidents in the local runtime's state file (ADR 0097). As the other adapters' tables
 * (coordination, approvals, parking), the store creates its own tables on the shared handle; a record is one row
 * keyed by its stream, time, execution and result, its document as JSON, the columns a query filters on beside it.
 */
export class SqliteDeploymentStore implements DeploymentStore {
  private readonly statements;

  public constructor(db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS deployment_records (
        stream TEXT NOT NULL,
        deployed_at TEXT NOT NULL,
        execution_arn TEXT NOT NULL,
        result TEXT NOT NULL,
        environment TEXT NOT NULL,
        repository TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (stream, deployed_at, execution_arn, result)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS deployment_records_by_time ON deployment_records (deployed_at);
      CREATE TABLE IF NOT EXISTS deployment_incidents (
        id TEXT PRIMARY KEY,
        opened_at TEXT NOT NULL,
        resolved_at TEXT,
        document TEXT NOT NULL
      );
    `);
    this.statements = {
      recent: db.prepare<[string, number], { document: string }>(
        'SELECT document FROM deployment_records WHERE stream = ? ORDER BY deployed_at DESC LIMIT ?',
      ),
      put: db.prepare<[string, string, string, string, string, string, string]>(
        `INSERT INTO deployment_records (stream, deployed_at, execution_arn, result, environment, repository, document)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (stream, deployed_at, execution_arn, result) DO UPDATE SET document = excluded.document`,
      ),
      list: db.prepare<[string, string, string, string, string], { document: string }>(
        `SELECT document FROM deployment_records
         WHERE deployed_at >= ? AND (? = '' OR environment = ?) AND (? = '' OR repository = ?)
         ORDER BY deployed_at, execution_arn`,
      ),
      putIncident: db.prepare<[string, string, string | null, string]>(
        `INSERT INTO deployment_incidents (id, opened_at, resolved_at, document) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET opened_at = excluded.opened_at, resolved_at = excluded.resolved_at,
           document = excluded.document`,
      ),
      // Named: better-sqlite3 refuses one value for a `?1` used twice ("Too many parameter values were provided").
      incidents: db.prepare<[{ since: string }], { document: string }>(
        `SELECT document FROM deployment_incidents
         WHERE opened_at >= @since OR resolved_at IS NULL OR resolved_at >= @since
         ORDER BY opened_at`,
      ),
    };
  }

  public async recent(stream: string, limit: number): Promise<readonly DeploymentRecord[]> {
    return this.statements.recent.all(stream, limit).map((row) => JSON.parse(row.document) as DeploymentRecord);
  }

  public async put(record: DeploymentRecord): Promise<void> {
    this.statements.put.run(
      record.stream,
      record.deployedAt,
      record.executionArn,
      record.result,
      record.environment,
      record.repository,
      JSON.stringify(record),
    );
  }

  public async list(query: DeploymentQuery): Promise<readonly DeploymentRecord[]> {
    const environment = query.environment ?? '';
    const repository = query.repository ?? '';
    return this.statements.list
      .all(query.since ?? '', environment, environment, repository, repository)
      .map((row) => JSON.parse(row.document) as DeploymentRecord);
  }

  public async putIncident(incident: Incident): Promise<void> {
    this.statements.putIncident.run(incident.id, incident.openedAt, incident.resolvedAt, JSON.stringify(incident));
  }

  public async incidents(since?: string): Promise<readonly Incident[]> {
    return this.statements.incidents.all({ since: since ?? '' }).map((row) => JSON.parse(row.document) as Incident);
  }
}
