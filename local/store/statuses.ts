import { type Db, GroupCommit, type Statement, statementCache } from './db';

/**
 * The commit statuses (and GitHub deployments) that the local Git host sink received, in the order received.
 * The sink answers the hosts' REST APIs from here; the CLI and the console list them.
 */

export type SinkProvider = 'github' | 'gitlab' | 'bitbucket';

export interface CommitStatus {
  readonly id: number;
  readonly provider: SinkProvider;
  readonly repository: string;
  readonly sha: string;
  /** GitHub `context`, GitLab `name`, Bitbucket `name` (its `key` is kept apart). */
  readonly context: string;
  /** The host's own state word (`pending`, `running`, `failed`, `SUCCESSFUL`, ...). */
  readonly state: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  /** GitLab's `ref`, Bitbucket's `refname`. */
  readonly ref: string | null;
  /** Bitbucket's `key`. */
  readonly key: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

export interface SinkDeployment {
  readonly id: number;
  readonly provider: SinkProvider;
  readonly repository: string;
  readonly sha: string;
  readonly environment: string;
  readonly body: Record<string, unknown>;
  readonly statuses: Record<string, unknown>[];
  readonly createdAt: number;
}

interface StatusRow {
  id: number;
  provider: SinkProvider;
  repository: string;
  sha: string;
  context: string;
  state: string;
  description: string | null;
  target_url: string | null;
  ref: string | null;
  key: string | null;
  created_at: number;
}

function toStatus(row: StatusRow): CommitStatus {
  return {
    id: row.id,
    provider: row.provider,
    repository: row.repository,
    sha: row.sha,
    context: row.context,
    state: row.state,
    description: row.description,
    targetUrl: row.target_url,
    ref: row.ref,
    key: row.key,
    createdAt: row.created_at,
  };
}

export class StatusStore {
  private readonly sql: (source: string) => Statement;

  public constructor(private readonly db: Db) {
    this.sql = statementCache(db);
  }

  public add(status: Omit<CommitStatus, 'id' | 'createdAt'> & { createdAt?: number }): CommitStatus {
    const createdAt = status.createdAt ?? Date.now();
    GroupCommit.join(this.db);
    const result = this.sql(
      `INSERT INTO commit_statuses (provider, repository, sha, context, state, description, target_url, ref, key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      status.provider,
      status.repository,
      status.sha,
      status.context,
      status.state,
      status.description,
      status.targetUrl,
      status.ref,
      status.key,
      createdAt,
    );
    return { ...status, id: Number(result.lastInsertRowid), createdAt };
  }

  /** Every status posted for a commit, oldest first. */
  public ofCommit(provider: SinkProvider, repository: string, sha: string): CommitStatus[] {
    return (
      this.sql('SELECT * FROM commit_statuses WHERE provider = ? AND repository = ? AND sha = ? ORDER BY id').all(
        provider,
        repository,
        sha,
      ) as StatusRow[]
    ).map(toStatus);
  }

  /** The latest status per context of a commit (per key on Bitbucket), oldest context first. */
  public latest(provider: SinkProvider, repository: string, sha: string): CommitStatus[] {
    const latest = new Map<string, CommitStatus>();
    for (const s of this.ofCommit(provider, repository, sha)) latest.set(s.key ?? s.context, s);
    return [...latest.values()];
  }

  /** Statuses across commits, newest first (the CLI and the console). */
  public list(filter: { provider?: string; repository?: string; sha?: string; limit?: number } = {}): CommitStatus[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.provider) {
      where.push('provider = ?');
      params.push(filter.provider);
    }
    if (filter.repository) {
      where.push('repository = ?');
      params.push(filter.repository);
    }
    if (filter.sha) {
      where.push('sha = ?');
      params.push(filter.sha);
    }
    params.push(filter.limit ?? 500);
    return (
      this.sql(
        `SELECT * FROM commit_statuses ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      ).all(...params) as StatusRow[]
    ).map(toStatus);
  }

  public addDeployment(d: Omit<SinkDeployment, 'id' | 'createdAt' | 'statuses'>): SinkDeployment {
    const createdAt = Date.now();
    GroupCommit.join(this.db);
    const result = this.sql(
      `INSERT INTO githost_deployments (provider, repository, sha, environment, body, statuses, created_at)
         VALUES (?, ?, ?, ?, ?, '[]', ?)`,
    ).run(d.provider, d.repository, d.sha, d.environment, JSON.stringify(d.body), createdAt);
    return { ...d, id: Number(result.lastInsertRowid), statuses: [], createdAt };
  }

  public deployments(repository: string, filter: { sha?: string; environment?: string } = {}): SinkDeployment[] {
    const rows = this.sql('SELECT * FROM githost_deployments WHERE repository = ? ORDER BY id DESC').all(
      repository,
    ) as {
      id: number;
      provider: SinkProvider;
      repository: string;
      sha: string;
      environment: string;
      body: string;
      statuses: string;
      created_at: number;
    }[];
    return rows
      .map((r) => ({
        id: r.id,
        provider: r.provider,
        repository: r.repository,
        sha: r.sha,
        environment: r.environment,
        body: JSON.parse(r.body) as Record<string, unknown>,
        statuses: JSON.parse(r.statuses) as Record<string, unknown>[],
        createdAt: r.created_at,
      }))
      .filter(
        (d) => (!filter.sha || d.sha === filter.sha) && (!filter.environment || d.environment === filter.environment),
      );
  }

  public deployment(id: number): SinkDeployment | undefined {
    const row = this.sql('SELECT repository FROM githost_deployments WHERE id = ?').get(id) as
      | { repository: string }
      | undefined;
    return row ? this.deployments(row.repository).find((d) => d.id === id) : undefined;
  }

  public addDeploymentStatus(id: number, status: Record<string, unknown>): void {
    const current = this.deployment(id);
    if (!current) return;
    GroupCommit.join(this.db);
    this.sql('UPDATE githost_deployments SET statuses = ? WHERE id = ?').run(
      JSON.stringify([...current.statuses, status]),
      id,
    );
  }
}
