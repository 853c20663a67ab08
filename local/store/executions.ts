import { SteplineError } from '../../core/errors';
import type { HistoryEvent } from '../engine';
import { type Db, GroupCommit, type Statement, statementCache } from './db';

/**
 * State machines, executions and their history events, as the local Step Functions API serves them. The engine
 * runs executions in memory; every history event it records is written here the moment it happens (one row per
 * event), and each execution's row follows its status. After a restart, this is what the runtime knows.
 */

export type StoredStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface StateMachineRecord {
  readonly arn: string;
  readonly name: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly revisionId: string;
}

export interface ExecutionRecord {
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: StoredStatus;
  /** JSON text. */
  readonly input: string;
  readonly output: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  /** Milliseconds since the epoch. */
  readonly startDate: number;
  readonly stopDate: number | null;
  readonly redriveCount: number;
  readonly redriveDate: number | null;
  /** The Git repository of a pipeline execution (`input.request.repository.fullName`), for listings and metrics. */
  readonly repository: string | null;
  readonly eventCount: number;
}

/** A cursor to page on: opaque to callers. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

/** A page token that this store did not make, or made for another listing (the API's `InvalidToken`). */
export class InvalidCursorError extends SteplineError {
  public constructor(message = 'Invalid Token: the pagination token is not valid', options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCursorError';
  }
}

/** A page cursor of one kind (`machines`, `versions`, ...): opaque base64url JSON. */
export function encodeCursor(kind: string, value: unknown): string {
  return Buffer.from(JSON.stringify({ v: 1, k: kind, p: value })).toString('base64url');
}

/** Reads a cursor of `kind`; throws InvalidCursorError for anything else. */
export function decodeCursor<T>(kind: string, token: string): T {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v: number; k: string; p: T };
    if (parsed.v !== 1 || parsed.k !== kind || parsed.p === undefined) throw new Error('wrong cursor');
    return parsed.p;
  } catch {
    throw new InvalidCursorError();
  }
}

interface ExecutionRow {
  arn: string;
  state_machine_arn: string;
  name: string;
  status: StoredStatus;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  start_date: number;
  stop_date: number | null;
  redrive_count: number;
  redrive_date: number | null;
  repository: string | null;
  event_count: number;
  seq: number;
}

interface EventRow {
  id: number;
  previous_event_id: number;
  timestamp: number;
  type: string;
  details_key: string | null;
  details: string | null;
}

function toExecution(row: ExecutionRow): ExecutionRecord {
  return {
    arn: row.arn,
    stateMachineArn: row.state_machine_arn,
    name: row.name,
    status: row.status,
    input: row.input,
    output: row.output,
    error: row.error,
    cause: row.cause,
    startDate: row.start_date,
    stopDate: row.stop_date,
    redriveCount: row.redrive_count,
    redriveDate: row.redrive_date,
    repository: row.repository,
    eventCount: row.event_count,
  };
}

function toEvent(row: EventRow): HistoryEvent {
  const event: Record<string, unknown> = {
    id: row.id,
    previousEventId: row.previous_event_id,
    timestamp: new Date(row.timestamp),
    type: row.type,
  };
  if (row.details_key && row.details) event[row.details_key] = JSON.parse(row.details);
  return event as unknown as HistoryEvent;
}

/** The `…EventDetails` member of an event, if it has one. */
export function detailsOf(event: HistoryEvent): [string, Record<string, unknown>] | undefined {
  for (const key of Object.keys(event)) {
    if (key.endsWith('EventDetails')) return [key, event[key] as Record<string, unknown>];
  }
  return undefined;
}

export class ExecutionStore {
  private readonly sql: (source: string) => Statement;
  private readonly insertEvent: Statement;
  private readonly bumpEvents: Statement;
  private seq: number;

  public constructor(private readonly db: Db) {
    this.sql = statementCache(db);
    this.insertEvent = this.sql(
      `INSERT OR REPLACE INTO history_events (execution_arn, id, previous_event_id, timestamp, type, details_key, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.bumpEvents = this.sql('UPDATE executions SET event_count = MAX(event_count, ?) WHERE arn = ?');
    const row = this.sql('SELECT COALESCE(MAX(seq), 0) AS seq FROM executions').get() as { seq: number };
    this.seq = row.seq;
  }

  /** The handle this store writes to (the state machine details store shares it: machines.ts). */
  public get database(): Db {
    return this.db;
  }

  // ------------------------------------------------------------------------------------------ state machines

  public putStateMachine(record: StateMachineRecord): void {
    GroupCommit.join(this.db);
    this.sql(
      `INSERT INTO state_machines (arn, name, definition, role_arn, type, created_at, updated_at, revision_id)
         VALUES (@arn, @name, @definition, @roleArn, @type, @createdAt, @updatedAt, @revisionId)
         ON CONFLICT(arn) DO UPDATE SET definition = excluded.definition, role_arn = excluded.role_arn,
           type = excluded.type, updated_at = excluded.updated_at, revision_id = excluded.revision_id`,
    ).run(record);
  }

  public getStateMachine(arn: string): StateMachineRecord | undefined {
    const row = this.sql('SELECT * FROM state_machines WHERE arn = ?').get(arn) as
      | {
          arn: string;
          name: string;
          definition: string;
          role_arn: string;
          type: 'STANDARD' | 'EXPRESS';
          created_at: number;
          updated_at: number;
          revision_id: string;
        }
      | undefined;
    if (!row) return undefined;
    return {
      arn: row.arn,
      name: row.name,
      definition: row.definition,
      roleArn: row.role_arn,
      type: row.type,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      revisionId: row.revision_id,
    };
  }

  public listStateMachines(limit: number, cursor?: string): Page<StateMachineRecord> {
    const after = cursor ? decodeCursor<string>('machines', cursor) : '';
    const rows = this.sql('SELECT arn FROM state_machines WHERE name > ? ORDER BY name LIMIT ?').all(
      after,
      limit + 1,
    ) as { arn: string }[];
    const items = rows.slice(0, limit).map((r) => this.getStateMachine(r.arn) as StateMachineRecord);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? encodeCursor('machines', last.name) : null };
  }

  // ------------------------------------------------------------------------------------------ executions

  public createExecution(record: {
    arn: string;
    stateMachineArn: string;
    name: string;
    input: string;
    startDate: number;
    repository: string | null;
  }): void {
    GroupCommit.join(this.db);
    this.seq += 1;
    this.sql(
      `INSERT INTO executions (arn, state_machine_arn, name, status, input, start_date, repository, seq)
         VALUES (@arn, @stateMachineArn, @name, 'RUNNING', @input, @startDate, @repository, @seq)`,
    ).run({ ...record, seq: this.seq });
  }

  public getExecution(arn: string): ExecutionRecord | undefined {
    const row = this.sql('SELECT * FROM executions WHERE arn = ?').get(arn) as ExecutionRow | undefined;
    return row ? toExecution(row) : undefined;
  }

  /** Executions of a state machine, newest first, optionally of one status; pages of `limit`. */
  public listExecutions(
    filter: { stateMachineArn?: string; status?: string; repository?: string },
    limit: number,
    cursor?: string,
  ): Page<ExecutionRecord> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    if (filter.stateMachineArn) {
      where.push('state_machine_arn = @machine');
      params['machine'] = filter.stateMachineArn;
    }
    if (filter.status) {
      where.push('status = @status');
      params['status'] = filter.status;
    }
    if (filter.repository) {
      where.push('repository = @repository');
      params['repository'] = filter.repository;
    }
    if (cursor) {
      const [start, seq] = decodeCursor<[number, number]>('executions', cursor);
      where.push('(start_date < @start OR (start_date = @start AND seq < @seq))');
      params['start'] = start;
      params['seq'] = seq;
    }
    const rows = this.sql(
      `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY start_date DESC, seq DESC LIMIT @limit`,
    ).all(params) as ExecutionRow[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toExecution),
      next: rows.length > limit && last ? encodeCursor('executions', [last.start_date, last.seq]) : null,
    };
  }

  /** Every execution that the store last saw running (after a restart: the interrupted ones). */
  public running(): ExecutionRecord[] {
    return (this.sql("SELECT * FROM executions WHERE status = 'RUNNING' ORDER BY seq").all() as ExecutionRow[]).map(
      toExecution,
    );
  }

  public finish(
    arn: string,
    end: {
      status: StoredStatus;
      output?: string | null;
      error?: string | null;
      cause?: string | null;
      stopDate: number;
    },
  ): void {
    GroupCommit.join(this.db);
    this.sql('UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ? WHERE arn = ?').run(
      end.status,
      end.output ?? null,
      end.error ?? null,
      end.cause ?? null,
      end.stopDate,
      arn,
    );
  }

  /** A redrive (or a resume after a restart): running again, with one more redrive. */
  public redriven(arn: string, redriveCount: number, at: number): void {
    GroupCommit.join(this.db);
    this.sql(
      `UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_date = NULL,
           redrive_count = ?, redrive_date = ? WHERE arn = ?`,
    ).run(redriveCount, at, arn);
  }

  /** Counts of executions by status and repository (for /metrics after a restart). */
  public countsByRepository(): { repository: string | null; status: string; count: number }[] {
    return this.sql(
      'SELECT repository, status, COUNT(*) AS count FROM executions GROUP BY repository, status',
    ).all() as { repository: string | null; status: string; count: number }[];
  }

  // ------------------------------------------------------------------------------------------ history

  public appendEvent(executionArn: string, event: HistoryEvent): void {
    GroupCommit.join(this.db);
    const details = detailsOf(event);
    this.insertEvent.run(
      executionArn,
      event.id,
      event.previousEventId,
      event.timestamp instanceof Date ? event.timestamp.getTime() : Number(event.timestamp),
      event.type,
      details ? details[0] : null,
      details ? JSON.stringify(details[1]) : null,
    );
    this.bumpEvents.run(event.id, executionArn);
  }

  /** The whole history, oldest first. */
  public history(executionArn: string): HistoryEvent[] {
    return (
      this.sql(
        'SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events WHERE execution_arn = ? ORDER BY id',
      ).all(executionArn) as EventRow[]
    ).map(toEvent);
  }

  /** A page of the history, oldest first or (reverse) newest first. */
  public historyPage(
    executionArn: string,
    options: { limit: number; reverse: boolean; cursor?: string | undefined },
  ): Page<HistoryEvent> {
    const after = options.cursor ? decodeCursor<number>(`history:${executionArn}`, options.cursor) : undefined;
    const sql = options.reverse
      ? `SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events
         WHERE execution_arn = ? AND id < ? ORDER BY id DESC LIMIT ?`
      : `SELECT id, previous_event_id, timestamp, type, details_key, details FROM history_events
         WHERE execution_arn = ? AND id > ? ORDER BY id LIMIT ?`;
    const bound = after ?? (options.reverse ? Number.MAX_SAFE_INTEGER : 0);
    const rows = this.sql(sql).all(executionArn, bound, options.limit + 1) as EventRow[];
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map(toEvent),
      next: rows.length > options.limit && last ? encodeCursor(`history:${executionArn}`, last.id) : null,
    };
  }
}
