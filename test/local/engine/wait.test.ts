import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from '../../../local/engine';
import { eventsOf, run, single } from './helpers';

// Examples from the AWS Step Functions guide, "Wait workflow state".

/** Milliseconds between the Wait state's entered and exited events. */
function waited(history: readonly { type: string; timestamp: Date }[]): number {
  const entered = eventsOf(history as never, 'WaitStateEntered')[0]?.timestamp.getTime() as number;
  const exited = eventsOf(history as never, 'WaitStateExited')[0]?.timestamp.getTime() as number;
  return exited - entered;
}

describe('Wait', () => {
  it('waits Seconds on the virtual clock at once, and the history shows the wait', async () => {
    // Prepare
    const def = single({ Type: 'Wait', Seconds: 86_400 });
    const t0 = Date.now();
    // Act
    const r = await run(def, { a: 1 });
    // Assess
    expect(r.output).toEqual({ a: 1 });
    expect(waited(r.history)).toBe(86_400_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('lets parallel waits overlap on the virtual clock: two branches of 10 s and 20 s take 20 s', async () => {
    // Prepare
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 10, End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Wait', Seconds: 20, End: true } } },
          ],
          End: true,
        },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    const at = (type: string): number => eventsOf(r.history, type)[0]?.timestamp.getTime() as number;
    expect(at('ParallelStateExited') - at('ParallelStateEntered')).toBe(20_000);
  });

  it('waits for SecondsPath', async () => {
    // Act
    const r = await run(single({ Type: 'Wait', SecondsPath: '$.delay' }), { delay: 90 });
    // Assess
    expect(waited(r.history)).toBe(90_000);
  });

  it('waits until a Timestamp in the future, and not at all for one in the past', async () => {
    // Prepare
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    // Act
    const future = await run(single({ Type: 'Wait', Timestamp: inAnHour }));
    const past = await run(single({ Type: 'Wait', TimestampPath: '$.when' }), { when: '2016-03-14T01:59:00Z' });
    // Assess
    expect(waited(future.history)).toBeGreaterThan(3_590_000);
    expect(waited(future.history)).toBeLessThanOrEqual(3_600_000);
    expect(past.status).toBe('SUCCEEDED');
    expect(waited(past.history)).toBe(0);
  });

  it('takes Seconds and Timestamp from JSONata expressions', async () => {
    // Prepare
    const seconds = single({ Type: 'Wait', Seconds: '{% $states.input.n * 2 %}' }, { QueryLanguage: 'JSONata' });
    const timestamp = single({ Type: 'Wait', Timestamp: '{% $states.input.at %}' }, { QueryLanguage: 'JSONata' });
    // Act
    const a = await run(seconds, { n: 5 });
    const b = await run(timestamp, { at: '2016-12-05T21:29:29Z' });
    // Assess
    expect(waited(a.history)).toBe(10_000);
    expect(b.status).toBe('SUCCEEDED');
  });

  it.each([
    '2016-12-05 21:29:29Z',
    '2016-12-05T21:29:29',
    '2016-13-05T21:29:29Z',
    '2016-12-05T25:29:29Z',
    '05-12-2016T21:29:29Z',
  ])('fails with States.QueryEvaluationError on the JSONata timestamp %s', async (at) => {
    // Act
    const r = await run(single({ Type: 'Wait', Timestamp: '{% $states.input.at %}' }, { QueryLanguage: 'JSONata' }), {
      at,
    });
    // Assess
    expect(r.error).toBe('States.QueryEvaluationError');
    expect(r.cause).toContain(
      `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${at}`,
    );
  });

  it('fails with States.Runtime when TimestampPath holds no timestamp', async () => {
    // Act
    const r = await run(single({ Type: 'Wait', TimestampPath: '$.when' }), { when: 'tomorrow' });
    // Assess
    expect(r.error).toBe('States.Runtime');
  });

  it('sleeps for real on the real clock', async () => {
    // Prepare
    const t0 = Date.now();
    // Act
    const r = await run(single({ Type: 'Wait', Seconds: 1 }), {}, { clock: 'real' });
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it.each([
    ['no wait field', { Type: 'Wait' }],
    ['two wait fields', { Type: 'Wait', Seconds: 1, SecondsPath: '$.s' }],
    ['a negative Seconds', { Type: 'Wait', Seconds: -1 }],
    ['a Timestamp that is not ISO-8601', { Type: 'Wait', Timestamp: 'tomorrow' }],
  ])('rejects a Wait with %s', async (_name, state) => {
    // Act / Assess
    await expect(run(single(state))).rejects.toThrow(InvalidDefinitionError);
  });
});
