/**
 * The local Step Functions service (the API the SDK, the AWS CLI and the functions call): state machines, executions,
 * map runs, TestState and the synchronous runs that are not recorded, over the engine (`local/engine`) and the
 * execution store (`local/store`); resuming an execution from its recorded history (`checkpoint.ts`, ADR 0053).
 */
export { checkpointFromHistory } from './checkpoint';
export { type CreateStateMachineInput, type MachineView, StateMachines } from './state-machines';
export * from './states';
