import { EventEmitter } from 'node:events';
import { SqliteApprovalStore } from '../../adapters/local/approvals-sqlite';
import { SqliteParkingStore } from '../../adapters/local/parking';
import {
  BuildStore,
  type Db,
  ExecutionStore,
  GroupCommit,
  openStateDb,
  RuntimeSettings,
  StatusStore,
  stateFileOf,
} from '../store';
import { createPrivateFile, lockStateFolder } from './state-folder';

/**
 * The state file and the stores over it: the folder's lock (one runtime at a time, ADR 0089), the SQLite file with
 * its group commit (the writes of one event-loop turn share one transaction, store/db.ts, ADR 0086), and one store
 * per table. Also the event stream the console and `GET /api/events` follow.
 */

export interface RuntimeStores {
  readonly db: Db;
  readonly settings: RuntimeSettings;
  readonly executions: ExecutionStore;
  readonly builds: BuildStore;
  readonly statuses: StatusStore;
  readonly parking: SqliteParkingStore;
  readonly approvals: SqliteApprovalStore;
  /** Commits what is pending, closes the file and releases the folder's lock (once; again does nothing). */
  close(): void;
}

/** Locks `stateDir` (made already) and opens its state file; on a failure, releases what it took. */
export function openStores(stateDir: string, log: (line: string) => void): RuntimeStores {
  const unlock = lockStateFolder(stateDir);
  let db: Db | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (db) {
      GroupCommit.flush(db);
      db.close();
    }
    unlock();
  };
  try {
    createPrivateFile(stateFileOf(stateDir));
    db = openStateDb(stateFileOf(stateDir));
    // Every HTTP answer and the close commit first (listen.ts).
    GroupCommit.enable(db, (error) => log(`the state file could not commit: ${(error as Error).message}`));
    return {
      db,
      settings: new RuntimeSettings(db),
      executions: new ExecutionStore(db),
      builds: new BuildStore(db),
      statuses: new StatusStore(db),
      parking: new SqliteParkingStore(db),
      approvals: new SqliteApprovalStore(db),
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/** A runtime event: `{ type: 'history' | 'execution' | 'build' | 'invoke' | ... }`, stamped with `at` on emit. */
export type RuntimeEvent = Record<string, unknown> & { type: string };
export type Emit = (event: RuntimeEvent) => void;

/** The emitter the stream reads (`event` events), and the function the services emit through. */
export function eventStream(): { readonly events: EventEmitter; readonly emit: Emit } {
  const events = new EventEmitter();
  events.setMaxListeners(1000);
  const emit: Emit = (event) => {
    events.emit('event', { ...event, at: new Date().toISOString() });
  };
  return { events, emit };
}
