import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../../core/deploy/ports';
import type { ClockMode, TaskHandler, TaskRequest } from '../engine';

/**
 * The clock of the execution a function is invoked for (ADR 0114). The engine knows each execution's time
 * (`TaskRequest.clock`: on the virtual clock, the time its Waits have reached, going on after a restart from its
 * last recorded event, ADR 0115); the Task handler that invokes the functions in process runs each invocation
 * inside that execution's time, and `executionClock` answers it to the function, so that a deadline a function
 * computes and checks (a rollout's) is on the same clock as the Waits between its checks. Outside an execution (a
 * webhook, an approval page, the keeper), it is the machine's time.
 */

type ExecutionTime = TaskRequest['clock'];

const current = new AsyncLocalStorage<ExecutionTime>();

/** The Task handler `handler`, each call of it (and all it starts) inside the requesting execution's time. */
export function inExecutionTime(handler: TaskHandler): TaskHandler {
  return (request) => current.run(request.clock, () => handler(request));
}

/** The time of the execution the caller works for, else the machine's. */
export const executionClock: Clock = {
  now: () => new Date(current.getStore()?.now() ?? Date.now()),
};

/** The clock mode of the execution the caller works for; null outside one. */
export function executionClockMode(): ClockMode | null {
  return current.getStore()?.mode ?? null;
}
