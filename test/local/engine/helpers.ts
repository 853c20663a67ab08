import type { HistoryEvent, JsonValue, StateMachineDefinition } from '../../../local/engine';
import { type RunExecutionOptions, type RunExecutionResult, runExecution } from '../../../local/engine';

/** Runs a definition to its end on the virtual clock. */
export function run(
  definition: unknown,
  input: unknown = {},
  options: RunExecutionOptions = {},
): Promise<RunExecutionResult> {
  return runExecution(definition as StateMachineDefinition, input, { clock: 'virtual', ...options });
}

/** A machine of one state, ending there. */
export function single(state: Record<string, unknown>, top: Record<string, unknown> = {}): StateMachineDefinition {
  const end =
    state['Type'] === 'Succeed' || state['Type'] === 'Fail' || state['Type'] === 'Choice' ? {} : { End: true };
  return { ...top, StartAt: 'S', States: { S: { ...state, ...end } } } as StateMachineDefinition;
}

/** The event types of a history, in order. */
export function types(history: readonly HistoryEvent[]): string[] {
  return history.map((e) => e.type);
}

/** The details member of an event (`stateEnteredEventDetails`, ...). */
export function details(event: HistoryEvent | undefined): Record<string, unknown> {
  if (!event) throw new Error('no such event');
  const key = Object.keys(event).find((k) => k.endsWith('EventDetails'));
  return key ? (event[key] as Record<string, unknown>) : {};
}

/** Events of one type. */
export function eventsOf(history: readonly HistoryEvent[], type: string): HistoryEvent[] {
  return history.filter((e) => e.type === type);
}

export function parsed(text: unknown): JsonValue {
  return JSON.parse(text as string) as JsonValue;
}
