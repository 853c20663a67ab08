import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../../local/engine';
import { BuildStore, type Db, ExecutionStore, GroupCommit, openStateDb, stateFileOf } from '../../../local/store';
import { removeDir, tempDir } from '../runtime/support';

/**
 * Group commit: with it on (the runtime turns it on), the stores' writes of one event-loop turn share one
 * transaction, committed at the end of the turn or at `flush`; off, every write commits at once.
 */

let dir: string;
let db: Db;
let reader: Database.Database;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function start(store: ExecutionStore, name: string): void {
  store.createExecution({
    arn: `arn:aws:states:us-east-1:000000000000:execution:m:${name}`,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
    name,
    input: '{}',
    startDate: Date.now(),
    repository: null,
  });
  store.appendEvent(`arn:aws:states:us-east-1:000000000000:execution:m:${name}`, {
    id: 1,
    previousEventId: 0,
    timestamp: new Date(),
    type: 'ExecutionStarted',
    executionStartedEventDetails: { input: '{}' },
  } as unknown as HistoryEvent);
}

/** What another connection to the same file sees: committed rows only. */
const committed = (): { executions: number; events: number } => ({
  executions: (reader.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n,
  events: (reader.prepare('SELECT COUNT(*) AS n FROM history_events').get() as { n: number }).n,
});

beforeEach(() => {
  dir = tempDir('group-commit');
  db = openStateDb(stateFileOf(dir));
  reader = new Database(stateFileOf(dir), { readonly: true });
});

afterEach(() => {
  reader.close();
  db.close();
  removeDir(dir);
});

describe('group commit', () => {
  it("commits a turn's writes together when the turn ends", async () => {
    // Prepare
    GroupCommit.enable(db);
    const store = new ExecutionStore(db);

    // Act
    start(store, 'one');
    start(store, 'two');
    const during = committed();
    await nextTurn();

    // Assess
    expect(during).toEqual({ executions: 0, events: 0 });
    expect(store.getExecution('arn:aws:states:us-east-1:000000000000:execution:m:two')?.eventCount).toBe(1);
    expect(committed()).toEqual({ executions: 2, events: 2 });
  });

  it('commits at once on flush, and commits nothing more when nothing was written', () => {
    // Prepare
    GroupCommit.enable(db);
    start(new ExecutionStore(db), 'one');

    // Act
    GroupCommit.flush(db);
    GroupCommit.flush(db);

    // Assess
    expect(committed()).toEqual({ executions: 1, events: 1 });
    expect(db.inTransaction).toBe(false);
  });

  it('commits every write at once where it is off', () => {
    // Act
    start(new ExecutionStore(db), 'one');

    // Assess
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual({ executions: 1, events: 1 });
  });

  it("nests a store's own transaction in the turn's, and keeps what the turn wrote when it fails", async () => {
    // Prepare
    GroupCommit.enable(db);
    const builds = new BuildStore(db);
    db.exec('CREATE TABLE guarded (n INTEGER CHECK (n > 0))');
    const failing = db.transaction(() => {
      db.prepare('INSERT INTO guarded (n) VALUES (1)').run();
      db.prepare('INSERT INTO guarded (n) VALUES (0)').run();
    });

    // Act
    const numbers = [builds.nextBuildNumber('p'), builds.nextBuildNumber('p')];
    expect(failing).toThrow(/CHECK constraint failed/);
    start(new ExecutionStore(db), 'after');
    await nextTurn();

    // Assess
    expect(numbers).toEqual([1, 2]);
    expect(reader.prepare('SELECT last_number FROM build_numbers').get()).toEqual({ last_number: 2 });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM guarded').get()).toEqual({ n: 0 });
    expect(committed()).toEqual({ executions: 1, events: 1 });
  });
});
