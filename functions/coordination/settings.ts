import { COORDINATION_ENV } from '../../core/coordination/contracts';
import { type Environment, required } from '../shared/settings';

/** The coordination function's settings: where the runs and the environment locks are kept. */
export interface CoordinationSettings {
  /** The DynamoDB table of run coordination. */
  readonly table: string;
}

/** Reads the coordination function's settings, once, at cold start; a `ConfigError` names a missing variable. */
export function coordinationSettings(env: Environment): CoordinationSettings {
  return { table: required(env, COORDINATION_ENV.table, 'the name of the run coordination DynamoDB table') };
}
