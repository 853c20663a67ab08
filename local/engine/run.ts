import { Engine } from './engine';
import type { TaskHandler } from './tasks';
import type { ClockMode, ExecutionStatus, HistoryEvent, JsonValue, StateMachineDefinition } from './types';

export interface RunExecutionOptions {
  /** `virtual` runs Wait states and Retry intervals at once, with consistent timestamps; default `real`. */
  readonly clock?: ClockMode;
  /** Task handlers by ARN pattern (see Engine.registerHandler). */
  readonly handlers?: Readonly<Record<string, TaskHandler>>;
  /** Execution name (default: a UUID). */
  readonly name?: string;
  readonly stateMachineArn?: string;
}

export interface RunExecutionResult {
  readonly status: ExecutionStatus;
  readonly output?: JsonValue;
  readonly error?: string;
  readonly cause?: string;
  readonly history: readonly HistoryEvent[];
}

/**
 * Runs one execution of a definition to its end and returns its result and history. Throws InvalidDefinitionError
 * when the definition is not valid.
 */
export async function runExecution(
  definition: StateMachineDefinition | string,
  input: unknown,
  options: RunExecutionOptions = {},
): Promise<RunExecutionResult> {
  const engine = new Engine({
    clock: options.clock ?? 'real',
    ...(options.handlers ? { handlers: options.handlers } : {}),
    requireHandlers: false,
  });
  const started = engine.start(definition, input, {
    ...(options.name ? { name: options.name } : {}),
    ...(options.stateMachineArn ? { stateMachineArn: options.stateMachineArn } : {}),
  });
  const r = await started.done;
  const out: { -readonly [K in keyof RunExecutionResult]: RunExecutionResult[K] } = {
    status: r.status,
    history: r.history,
  };
  if (r.output !== undefined) out.output = r.output;
  if (r.error !== undefined) out.error = r.error;
  if (r.cause !== undefined) out.cause = r.cause;
  return out;
}
