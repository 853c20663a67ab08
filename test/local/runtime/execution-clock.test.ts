import { describe, expect, it } from 'vitest';
import { runExecution, type StateMachineDefinition, type TaskRequest } from '../../../local/engine';
import { executionClock, executionClockMode, inExecutionTime } from '../../../local/runtime/execution-clock';

/**
 * The clock a function invoked in process reads (ADR 0114): the time of the execution that invoked it, through the
 * asynchronous work it starts, each execution its own, and the machine's time outside any execution.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** A Wait of `days`, then a Task whose handler reads `executionClock` after asynchronous work. */
function machine(days: number): StateMachineDefinition {
  return {
    StartAt: 'Wait',
    States: {
      Wait: { Type: 'Wait', Seconds: days * 86_400, Next: 'Read' },
      Read: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { days }, End: true },
    },
  };
}

describe('executionClock', () => {
  it('answers, through a function’s asynchronous work, the time of the execution that invoked it', async () => {
    // Prepare: two executions on virtual clocks at once, one a day ahead, the other two days
    const reads: { days: number; execution: number; function: number; mode: string | null }[] = [];
    const handler = inExecutionTime(async (request: TaskRequest) => {
      // What a deploy function does before it computes a deadline: calls that settle later, on timers and sockets.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setImmediate(resolve));
      reads.push({
        days: Number((request.input as { days: number }).days),
        execution: request.clock.now(),
        function: executionClock.now().getTime(),
        mode: executionClockMode(),
      });
      return {};
    });
    const start = Date.now();
    const run = (days: number) =>
      runExecution(machine(days), {}, { clock: 'virtual', handlers: { 'arn:aws:states:::lambda:invoke': handler } });

    // Act
    const results = await Promise.all([run(1), run(2)]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(reads).toHaveLength(2);
    for (const read of reads) {
      expect(read.mode).toBe('virtual');
      expect(read.function).toBe(read.execution);
      expect(read.function - start).toBeGreaterThanOrEqual(read.days * DAY_MS);
      expect(read.function - start).toBeLessThan((read.days + 0.5) * DAY_MS);
    }
  });

  it('answers the machine’s time outside any execution', () => {
    // Act
    const before = Date.now();
    const now = executionClock.now().getTime();
    const after = Date.now();

    // Assess
    expect(executionClockMode()).toBeNull();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(after);
  });
});
