/**
 * The local Step Functions engine: an Amazon States Language interpreter that runs state machines as AWS does.
 *
 * - `runExecution(definition, input, { clock })`: one execution, to its end.
 * - `Engine`: the long-lived engine of the local runtime (many executions, stop, task tokens, activities,
 *   redrive, a listener for every history event).
 */

export { type CompiledStateMachine, compileStateMachine } from './compile';
export {
  Engine,
  type EngineListener,
  type EngineOptions,
  type ExecutionDescription,
  parseExecutionInput,
  type StartedExecution,
  type StartOptions,
  validExecutionName,
} from './engine';
export {
  type DefinitionDiagnostic,
  EngineApiError,
  EngineError,
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  ExecutionNotRedrivableError,
  InvalidDefinitionError,
  InvalidExecutionInputError,
  InvalidNameError,
  InvalidOutputError,
  InvalidTokenError,
  MissingSubstitutionError,
  TaskDoesNotExistError,
  TaskFailure,
  TaskTimedOutError,
} from './errors';
export type { ChildrenCheckpoint, RedriveSource, ScopeCheckpoint } from './frame';
export type { IntegrationPattern } from './resources';
export { type RunExecutionOptions, type RunExecutionResult, runExecution } from './run';
export { applySubstitutions } from './substitute';
export type { TaskHandler, TaskRequest } from './tasks';
export type {
  ClockMode,
  ExecutionResult,
  ExecutionStatus,
  HistoryEvent,
  JsonObject,
  JsonValue,
  QueryLanguage,
  StateMachineDefinition,
} from './types';
