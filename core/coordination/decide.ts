import {
  EMPTY_ENVIRONMENT,
  type EnterOutcome,
  type EnterRequest,
  type EnvironmentState,
  type KeyState,
  type LeaveRequest,
} from './contracts';

/**
 * The decisions of run coordination as pure functions of the stored state. The stores read the state, call these,
 * and write the result atomically (a transaction in SQLite, conditional writes in DynamoDB).
 */

export interface RegisterDecision {
  readonly key: KeyState;
  readonly superseded: { readonly executionArn: string; readonly sequence: number } | null;
}

/** A new run of a key becomes its latest; the previous latest is superseded unless it started deploying. */
export function decideRegister(current: KeyState | null, executionArn: string, sequence: number): RegisterDecision {
  const previous = current;
  const key: KeyState = {
    latestSequence: sequence,
    latestExecutionArn: executionArn,
    deployingSequence: previous?.deployingSequence ?? 0,
  };
  const superseded =
    previous &&
    previous.latestSequence < sequence &&
    previous.deployingSequence < previous.latestSequence &&
    previous.latestExecutionArn !== executionArn
      ? { executionArn: previous.latestExecutionArn, sequence: previous.latestSequence }
      : null;
  return { key, superseded };
}

export interface EnterDecision {
  readonly outcome: EnterOutcome;
  /** The new state to write, or null when nothing changes. */
  readonly key: KeyState | null;
  readonly environment: EnvironmentState | null;
}

export function decideEnter(
  request: Pick<EnterRequest, 'executionArn' | 'sequence' | 'first' | 'leaseSeconds'>,
  key: KeyState | null,
  environment: EnvironmentState | null,
  now: number,
): EnterDecision {
  const env = environment ?? EMPTY_ENVIRONMENT;
  if (request.first && key && key.latestSequence > request.sequence) {
    return { outcome: { outcome: 'superseded', by: key.latestExecutionArn }, key: null, environment: null };
  }
  if (env.lastDeployedSequence > request.sequence) {
    return {
      outcome: { outcome: 'overtaken', by: env.lastDeployedExecutionArn ?? 'a newer run' },
      key: null,
      environment: null,
    };
  }
  const heldByOther = env.holder !== null && env.holder !== request.executionArn && env.leaseExpiresAt > now;
  if (heldByOther) {
    return {
      outcome: { outcome: 'busy', holder: env.holder as string, leaseExpiresAt: env.leaseExpiresAt },
      key: null,
      environment: null,
    };
  }
  const nextEnvironment: EnvironmentState = {
    ...env,
    holder: request.executionArn,
    holderSequence: request.sequence,
    leaseExpiresAt: now + request.leaseSeconds * 1000,
  };
  const nextKey: KeyState | null =
    request.first && key && key.deployingSequence < request.sequence
      ? { ...key, deployingSequence: request.sequence }
      : null;
  return { outcome: { outcome: 'acquired' }, key: nextKey, environment: nextEnvironment };
}

export interface LeaveDecision {
  readonly released: boolean;
  readonly environment: EnvironmentState | null;
}

export function decideLeave(
  request: Pick<LeaveRequest, 'executionArn' | 'sequence' | 'deployed'>,
  environment: EnvironmentState | null,
): LeaveDecision {
  const env = environment ?? EMPTY_ENVIRONMENT;
  const holds = env.holder === request.executionArn;
  const recordsDeploy = request.deployed && request.sequence >= env.lastDeployedSequence;
  if (!holds && !recordsDeploy) return { released: false, environment: null };
  const next: EnvironmentState = {
    ...env,
    ...(holds ? { holder: null, holderSequence: 0, leaseExpiresAt: 0 } : {}),
    ...(recordsDeploy
      ? { lastDeployedSequence: request.sequence, lastDeployedExecutionArn: request.executionArn }
      : {}),
  };
  return { released: holds, environment: next };
}
