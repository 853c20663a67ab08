import { describe, expect, it } from 'vitest';
import { TaskFailure } from '../../../local/engine';
import { run, types } from './helpers';

// Examples from the AWS Step Functions guide, "Parallel workflow state".

describe('Parallel', () => {
  it('runs every branch on the same input and outputs their results in branch order', async () => {
    // Prepare
    const def = {
      StartAt: 'LookupCustomerInfo',
      States: {
        LookupCustomerInfo: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'LookupAddress',
              States: { LookupAddress: { Type: 'Pass', Parameters: { 'address.$': '$.address' }, End: true } },
            },
            {
              StartAt: 'Wait',
              States: {
                Wait: { Type: 'Wait', Seconds: 5, Next: 'LookupPhone' },
                LookupPhone: { Type: 'Pass', Parameters: { 'phone.$': '$.phone' }, End: true },
              },
            },
          ],
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, { address: 'Main St', phone: '555' });
    // Assess
    expect(r.output).toEqual([{ address: 'Main St' }, { phone: '555' }]);
    const t = types(r.history);
    expect(t.slice(0, 3)).toEqual(['ExecutionStarted', 'ParallelStateEntered', 'ParallelStateStarted']);
    expect(t.slice(-3)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
  });

  it('gives the branches the Parameters and shapes the array with ResultSelector and ResultPath', async () => {
    // Prepare
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Parameters: { 'n.$': '$.n' },
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Pass', Result: 'b', End: true } } },
          ],
          ResultSelector: { 'first.$': '$[0].n', 'second.$': '$[1]' },
          ResultPath: '$.results',
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, { n: 7, other: true });
    // Assess
    expect(r.output).toEqual({ n: 7, other: true, results: { first: 7, second: 'b' } });
  });

  it('fails with the error of a failed branch and stops the other branches', async () => {
    // Prepare
    let finished = false;
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Slow',
              States: { Slow: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
            },
            { StartAt: 'Bad', States: { Bad: { Type: 'Fail', Error: 'FailureType', Cause: 'branch 2' } } },
          ],
          End: true,
        },
      },
    };
    const handlers = {
      'arn:aws:states:::lambda:invoke': async (req: { signal: AbortSignal }) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = !req.signal.aborted;
        return {};
      },
    };
    // Act
    const r = await run(def, {}, { handlers });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('FailureType');
    expect(r.cause).toBe('branch 2');
    expect(types(r.history)).toContain('ParallelStateFailed');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(finished).toBe(false);
  });

  it('catches a branch failure with the Parallel state’s Catch', async () => {
    // Prepare
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Bad', States: { Bad: { Type: 'Fail', Error: 'FailureType', Cause: 'Cause description' } } },
          ],
          Catch: [{ ErrorEquals: ['FailureType'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    expect(r.output).toEqual({ Error: 'FailureType', Cause: 'Cause description' });
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'FailStateEntered',
      'ParallelStateFailed',
      'ParallelStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('runs all the branches again on a retry', async () => {
    // Prepare
    let calls = 0;
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } } },
          ],
          Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 1 }],
          End: true,
        },
      },
    };
    const handlers = {
      'arn:aws:states:::lambda:invoke': () => {
        calls++;
        if (calls === 1) throw new TaskFailure('Flaky', 'first time');
        return 'ok';
      },
    };
    // Act
    const r = await run(def, {}, { handlers });
    // Assess
    expect(r.output).toEqual(['ok']);
    expect(types(r.history).filter((t) => t === 'ParallelStateStarted')).toHaveLength(2);
  });
});
