import type { HistoryEvent, JsonObject, JsonValue, ScopeCheckpoint, StateMachineDefinition } from '../../engine';
import { detailsOf } from '../../store/executions';

/**
 * Where an execution stood when the runtime stopped, read back from its recorded history, in the form the engine
 * redrives from (ADR 0053): the top-level state it was in, with its input and the variables assigned before it;
 * and, when that state is an inline Map, what became of each iteration: the output of those that succeeded
 * (they are not run again), and for those in progress the state each was in, with its input and the iteration's
 * own variables (they go on from there). Iterations that had not started run as usual. A Parallel, a distributed
 * Map, or an iteration that stood between two states runs again from its start.
 */

type States = Readonly<Record<string, Record<string, unknown>>>;

const parse = (text: unknown): JsonValue => {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
};

const nameOf = (event: HistoryEvent): string | undefined => {
  const name = detailsOf(event)?.[1]?.['name'];
  return typeof name === 'string' ? name : undefined;
};

/** The state of one scope (the machine, or one iteration) that was entered last and not exited. */
interface Open {
  readonly stateName: string;
  readonly input: JsonValue;
  readonly variables: JsonObject;
  readonly enteredEventId: number;
}

/** Folds the events of one scope: the variables its states assigned, and the state left open at the end. */
function openState(states: States, events: readonly HistoryEvent[]): Open | undefined {
  const variables: JsonObject = {};
  let open: Open | undefined;
  for (const event of events) {
    const name = nameOf(event);
    if (!name || !Object.hasOwn(states, name)) continue;
    const details = detailsOf(event)?.[1];
    if (event.type.endsWith('StateEntered')) {
      const input = parse(details?.['input'] ?? '{}');
      open = { stateName: name, input: input ?? {}, variables: { ...variables }, enteredEventId: event.id };
    } else if (event.type.endsWith('StateExited')) {
      const assigned = details?.['assignedVariables'];
      if (assigned && typeof assigned === 'object') {
        for (const [k, v] of Object.entries(assigned as Record<string, unknown>)) variables[k] = parse(v);
      }
      if (open?.stateName === name) open = undefined;
    }
  }
  return open;
}

function inlineProcessor(state: Record<string, unknown>): States | undefined {
  if (state['Type'] !== 'Map') return undefined;
  const processor = (state['ItemProcessor'] ?? state['Iterator']) as
    | { States?: States; ProcessorConfig?: { Mode?: string } }
    | undefined;
  if (!processor?.States || processor.ProcessorConfig?.Mode === 'DISTRIBUTED') return undefined;
  return processor.States;
}

export function checkpointFromHistory(
  definition: StateMachineDefinition,
  history: readonly HistoryEvent[],
): ScopeCheckpoint | undefined {
  const states = (definition.States ?? {}) as States;
  const top = openState(states, history);
  if (!top) return undefined;
  const checkpoint = { stateName: top.stateName, input: top.input, variables: top.variables };
  const processor = inlineProcessor(states[top.stateName] ?? {});
  if (!processor) return checkpoint;

  // The Map's own events: after it was entered. Its iterations are the MapIteration* events of its name.
  const after = history.filter((e) => e.id > top.enteredEventId);
  const byId = new Map(after.map((e) => [e.id, e]));
  const startedAt = new Map<number, number>();
  const succeeded = new Map<number, HistoryEvent>();
  for (const event of after) {
    if (nameOf(event) !== top.stateName) continue;
    const index = detailsOf(event)?.[1]?.['index'];
    if (typeof index !== 'number') continue;
    if (event.type === 'MapIterationStarted') startedAt.set(event.id, index);
    if (event.type === 'MapIterationSucceeded') succeeded.set(index, event);
  }
  if (startedAt.size === 0) return checkpoint;

  // Each event belongs to the iteration whose MapIterationStarted its chain of previous events reaches.
  const owner = new Map<number, number | null>();
  const iterationOf = (event: HistoryEvent): number | null => {
    const path: number[] = [];
    let current: HistoryEvent | undefined = event;
    let found: number | null = null;
    while (current) {
      const known = owner.get(current.id);
      if (known !== undefined) {
        found = known;
        break;
      }
      const started = startedAt.get(current.id);
      if (started !== undefined) {
        found = started;
        path.push(current.id);
        break;
      }
      path.push(current.id);
      current = byId.get(current.previousEventId);
    }
    for (const id of path) owner.set(id, found);
    return found;
  };
  const eventsOf = new Map<number, HistoryEvent[]>();
  for (const event of after) {
    const index = iterationOf(event);
    if (index === null) continue;
    const list = eventsOf.get(index) ?? [];
    list.push(event);
    eventsOf.set(index, list);
  }

  const results = new Map<number, JsonValue>();
  const failed = new Map<number, ScopeCheckpoint>();
  for (const index of new Set(startedAt.values())) {
    const done = succeeded.get(index);
    const last = done ? byId.get(done.previousEventId) : undefined;
    const output = last?.type.endsWith('StateExited') ? detailsOf(last)?.[1]?.['output'] : undefined;
    if (typeof output === 'string') {
      results.set(index, parse(output));
      continue;
    }
    const open = openState(processor, eventsOf.get(index) ?? []);
    if (open) failed.set(index, { stateName: open.stateName, input: open.input, variables: open.variables });
  }
  return { ...checkpoint, children: { results, failed } };
}
