/**
 * The local runtime's state in SQLite (see db.ts for the file and its schema). One handle is shared by every
 * store of the process, including the adapters' own tables (parked deliveries, approvals, run coordination).
 */
export { BuildStore, type LogChunk, type StoredBuild } from './builds';
export {
  type Db,
  GroupCommit,
  migrate,
  openStateDb,
  RuntimeSettings,
  SCHEMA_VERSION,
  STATE_FILE,
  type Statement,
  stateFileOf,
  statementCache,
} from './db';
export {
  decodeCursor,
  detailsOf,
  type ExecutionRecord,
  ExecutionStore,
  encodeCursor,
  InvalidCursorError,
  type Page,
  type StateMachineRecord,
  type StoredStatus,
} from './executions';
export {
  type JsonObject,
  MachineDetailsStore,
  type MachineSettings,
  type Tag,
  type VersionRecord,
} from './machines';
export { type CommitStatus, type SinkDeployment, type SinkProvider, StatusStore } from './statuses';
