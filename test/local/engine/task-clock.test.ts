import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition, TaskRequest } from '../../../local/engine';
import { run } from './helpers';

// A Task handler reads the time on the execution's clock (TaskRequest.clock, ADR 0114): on the virtual clock, the
// time the execution's Waits have reached, not the machine's; it does not move while the handler works.

const DAY_MS = 24 * 60 * 60 * 1000;

const machine: StateMachineDefinition = {
  StartAt: 'Before',
  States: {
    Before: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { at: 'before' }, Next: 'Wait' },
    Wait: { Type: 'Wait', Seconds: 86_400, Next: 'After' },
    After: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { at: 'after' }, End: true },
  },
};

describe('the execution’s clock, as a task handler sees it', () => {
  it('on the virtual clock: a Wait of a day moves it by a day, while no such time passes on the machine', async () => {
    // Prepare
    const seen: { mode: string; start: number; end: number; wall: number }[] = [];
    const handlers = {
      'arn:aws:states:::lambda:invoke': async (req: TaskRequest) => {
        const start = req.clock.now();
        // Work that takes real time: the execution's time does not move meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 30));
        seen.push({ mode: req.clock.mode, start, end: req.clock.now(), wall: Date.now() });
        return {};
      },
    };
    const wallBefore = Date.now();

    // Act
    const r = await run(machine, {}, { handlers });

    // Assess
    expect(r.status).toBe('SUCCEEDED');
    const [before, after] = seen as [(typeof seen)[0], (typeof seen)[0]];
    expect(before.mode).toBe('virtual');
    expect(before.end).toBe(before.start);
    expect(after.start - before.start).toBe(DAY_MS);
    expect(after.wall - wallBefore).toBeLessThan(DAY_MS / 2);
    // The history's timestamps are on the same clock as what the handler read.
    const entered = r.history.find((e) => e.type === 'TaskStateEntered' && e.timestamp.getTime() === after.start);
    expect(entered).toBeDefined();
  });

  it('on the real clock: the machine’s time', async () => {
    // Prepare
    const seen: { mode: string; now: number; before: number; after: number }[] = [];
    const handlers = {
      'arn:aws:states:::lambda:invoke': (req: TaskRequest) => {
        const before = Date.now();
        const now = req.clock.now();
        seen.push({ mode: req.clock.mode, now, before, after: Date.now() });
        return {};
      },
    };
    const short: StateMachineDefinition = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
    };

    // Act
    const r = await run(short, {}, { handlers, clock: 'real' });

    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(seen[0]?.mode).toBe('real');
    expect(seen[0]?.now).toBeGreaterThanOrEqual(seen[0]?.before ?? Number.NaN);
    expect(seen[0]?.now).toBeLessThanOrEqual(seen[0]?.after ?? Number.NaN);
  });
});
