import { type Db, GroupCommit, type Statement, statementCache } from './db';

/**
 * Local builds and their logs. A build is kept as the JSON document that BatchGetBuilds answers (camelCase, dates
 * in milliseconds), rewritten on every phase change; its log is kept as chunks of text, each tagged with the phase
 * that wrote it, so a reader can follow a running build (`after` = the last chunk it has).
 */

export interface StoredBuild {
  readonly id: string;
  readonly projectName: string;
  readonly buildNumber: number;
  readonly status: string;
  readonly startTime: number;
  readonly executionArn: string | null;
  /** The process group of the running command (to stop it after a restart of the runtime). */
  readonly pgid: number | null;
  readonly document: Record<string, unknown>;
}

export interface LogChunk {
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly phase: string;
  readonly text: string;
}

interface BuildRow {
  id: string;
  project_name: string;
  build_number: number;
  status: string;
  start_time: number;
  execution_arn: string | null;
  pgid: number | null;
  document: string;
}

function toBuild(row: BuildRow): StoredBuild {
  return {
    id: row.id,
    projectName: row.project_name,
    buildNumber: row.build_number,
    status: row.status,
    startTime: row.start_time,
    executionArn: row.execution_arn,
    pgid: row.pgid,
    document: JSON.parse(row.document) as Record<string, unknown>,
  };
}

export class BuildStore {
  private readonly sql: (source: string) => Statement;
  private readonly appendLog: Statement;
  private readonly seqs = new Map<string, number>();

  public constructor(private readonly db: Db) {
    this.sql = statementCache(db);
    this.appendLog = this.sql('INSERT INTO build_logs (build_id, seq, at, phase, text) VALUES (?, ?, ?, ?, ?)');
  }

  /** The next build number of a project (CodeBuild numbers each project's builds from 1). */
  public nextBuildNumber(projectName: string): number {
    GroupCommit.join(this.db);
    return this.db.transaction(() => {
      this.sql(
        `INSERT INTO build_numbers (project_name, last_number) VALUES (?, 1)
           ON CONFLICT(project_name) DO UPDATE SET last_number = last_number + 1`,
      ).run(projectName);
      return (
        this.sql('SELECT last_number FROM build_numbers WHERE project_name = ?').get(projectName) as {
          last_number: number;
        }
      ).last_number;
    })();
  }

  public save(build: StoredBuild): void {
    GroupCommit.join(this.db);
    this.sql(
      `INSERT INTO builds (id, project_name, build_number, status, start_time, execution_arn, pgid, document)
         VALUES (@id, @projectName, @buildNumber, @status, @startTime, @executionArn, @pgid, @document)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, pgid = excluded.pgid, document = excluded.document`,
    ).run({ ...build, document: JSON.stringify(build.document) });
  }

  public get(id: string): StoredBuild | undefined {
    const row = this.sql('SELECT * FROM builds WHERE id = ?').get(id) as BuildRow | undefined;
    return row ? toBuild(row) : undefined;
  }

  /** Builds, newest first; of one execution when given. */
  public list(filter: { executionArn?: string; limit?: number } = {}): StoredBuild[] {
    const rows = filter.executionArn
      ? (this.sql('SELECT * FROM builds WHERE execution_arn = ? ORDER BY start_time DESC LIMIT ?').all(
          filter.executionArn,
          filter.limit ?? 1000,
        ) as BuildRow[])
      : (this.sql('SELECT * FROM builds ORDER BY start_time DESC LIMIT ?').all(filter.limit ?? 100) as BuildRow[]);
    return rows.map(toBuild);
  }

  /**
   * A page of build ids, newest first (or oldest first), of every project or of one: ListBuilds and
   * ListBuildsForProject. `cursor` is the last build of the previous page.
   */
  public ids(
    filter: { projectName?: string | undefined },
    order: 'ASCENDING' | 'DESCENDING',
    limit: number,
    cursor?: { startTime: number; id: string },
  ): { ids: string[]; last: { startTime: number; id: string } | null } {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    if (filter.projectName !== undefined) {
      where.push('project_name = @project');
      params['project'] = filter.projectName;
    }
    const direction = order === 'ASCENDING' ? 'ASC' : 'DESC';
    if (cursor) {
      const beyond = order === 'ASCENDING' ? '>' : '<';
      where.push(`(start_time ${beyond} @start OR (start_time = @start AND id ${beyond} @id))`);
      params['start'] = cursor.startTime;
      params['id'] = cursor.id;
    }
    const rows = this.sql(
      `SELECT id, start_time FROM builds ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY start_time ${direction}, id ${direction} LIMIT @limit`,
    ).all(params) as { id: string; start_time: number }[];
    const page = rows.slice(0, limit);
    const tail = page.at(-1);
    return {
      ids: page.map((r) => r.id),
      last: rows.length > limit && tail ? { startTime: tail.start_time, id: tail.id } : null,
    };
  }

  /** The build whose id is `<project>:<uuid>` (a report ARN names a build by its uuid). */
  public byUuid(uuid: string): StoredBuild | undefined {
    if (!/^[0-9a-f-]{36}$/i.test(uuid)) return undefined;
    const row = this.sql("SELECT * FROM builds WHERE id LIKE '%:' || ?").get(uuid) as BuildRow | undefined;
    return row ? toBuild(row) : undefined;
  }

  /** Every report ARN of every build, the newest build's first (ListReports). */
  public reportArns(): { buildId: string; arns: string[] }[] {
    const rows = this.sql(
      `SELECT id, json_extract(document, '$.reportArns') AS arns FROM builds
         WHERE json_array_length(document, '$.reportArns') > 0 ORDER BY start_time DESC, id DESC`,
    ).all() as { id: string; arns: string }[];
    return rows.map((r) => ({ buildId: r.id, arns: JSON.parse(r.arns) as string[] }));
  }

  /** Builds the store last saw in progress (after a restart: interrupted). */
  public inProgress(): StoredBuild[] {
    return (this.sql("SELECT * FROM builds WHERE status = 'IN_PROGRESS'").all() as BuildRow[]).map(toBuild);
  }

  public log(buildId: string, phase: string, text: string, at = Date.now()): void {
    let seq = this.seqs.get(buildId);
    if (seq === undefined) {
      const row = this.sql('SELECT COALESCE(MAX(seq), 0) AS seq FROM build_logs WHERE build_id = ?').get(buildId) as {
        seq: number;
      };
      seq = row.seq;
    }
    seq += 1;
    this.seqs.set(buildId, seq);
    GroupCommit.join(this.db);
    this.appendLog.run(buildId, seq, at, phase, text);
  }

  /** Forgets the in-memory log counter of a build that ended. */
  public closeLog(buildId: string): void {
    this.seqs.delete(buildId);
  }

  /** Log chunks after `after` (0: from the start), oldest first. */
  public logs(buildId: string, after = 0, limit = 10_000): LogChunk[] {
    return this.sql(
      'SELECT seq, at, phase, text FROM build_logs WHERE build_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(buildId, after, limit) as LogChunk[];
  }

  /** The whole log as text. */
  public logText(buildId: string): string {
    return this.logs(buildId, 0, 1_000_000)
      .map((c) => c.text)
      .join('');
  }
}
