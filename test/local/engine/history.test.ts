import { describe, expect, it } from 'vitest';
import { details, run } from './helpers';

// The events of GetExecutionHistory, with their details as the API returns them (inputs and outputs as JSON text).

describe('execution history', () => {
  it('gives each event the details member of its type, with JSON text for inputs and outputs', async () => {
    // Prepare
    const def = { StartAt: 'A', States: { A: { Type: 'Pass', Result: { b: 2 }, ResultPath: '$.r', End: true } } };
    // Act
    const r = await run(def, { a: 1 });
    // Assess
    const [started, entered, exited, succeeded] = r.history;
    expect(Object.keys(started ?? {}).sort()).toEqual([
      'executionStartedEventDetails',
      'id',
      'previousEventId',
      'timestamp',
      'type',
    ]);
    expect(details(started)).toEqual({
      input: '{"a":1}',
      inputDetails: { truncated: false },
      roleArn: 'arn:aws:iam::123456789012:role/StepFunctionsLocal',
    });
    expect(details(entered)).toEqual({ input: '{"a":1}', inputDetails: { truncated: false }, name: 'A' });
    expect(details(exited)).toEqual({ name: 'A', output: '{"a":1,"r":{"b":2}}', outputDetails: { truncated: false } });
    expect(details(succeeded)).toEqual({ output: '{"a":1,"r":{"b":2}}', outputDetails: { truncated: false } });
  });

  it('gives ExecutionFailed the error and cause, and nothing when a Fail state names neither', async () => {
    // Act
    const named = await run({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'E', Cause: 'C' } } });
    const bare = await run({ StartAt: 'F', States: { F: { Type: 'Fail' } } });
    // Assess
    expect(details(named.history.at(-1))).toEqual({ error: 'E', cause: 'C' });
    expect(bare.history.at(-1)?.type).toBe('ExecutionFailed');
    expect(details(bare.history.at(-1))).toEqual({});
    expect(bare.error).toBeUndefined();
  });

  it('reads the same whether the history is read during the execution or after it', async () => {
    // Prepare
    const def = {
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 1, Next: 'P' }, P: { Type: 'Pass', End: true } },
    };
    // Act
    const r = await run(def, { z: [1, 2] });
    const again = JSON.parse(JSON.stringify(r.history));
    // Assess
    expect(again.map((e: { type: string }) => e.type)).toEqual(r.history.map((e) => e.type));
    expect(again[1].stateEnteredEventDetails.input).toBe('{"z":[1,2]}');
  });
});
