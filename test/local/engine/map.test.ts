import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError, TaskFailure } from '../../../local/engine';
import { details, eventsOf, run, types } from './helpers';

// Examples from the AWS Step Functions guide, "Map workflow state", "ItemSelector", "ItemBatcher" and
// "Setting failure thresholds for Distributed Map states".

const shipping = {
  'ship-date': '2016-03-14T01:59:00Z',
  detail: {
    'delivery-partner': 'UQS',
    shipped: [
      { prod: 'R31', 'dest-code': 9511, quantity: 1344 },
      { prod: 'S39', 'dest-code': 9511, quantity: 40 },
      { prod: 'R31', 'dest-code': 9833, quantity: 12 },
    ],
  },
};

function inline(
  extra: Record<string, unknown>,
  processor: Record<string, unknown> = { P: { Type: 'Pass', End: true } },
): unknown {
  return {
    StartAt: 'M',
    States: {
      M: { Type: 'Map', ItemProcessor: { StartAt: Object.keys(processor)[0], States: processor }, ...extra, End: true },
    },
  };
}

function distributed(extra: Record<string, unknown>, processor: Record<string, unknown>): unknown {
  return {
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: Object.keys(processor)[0],
          States: processor,
        },
        ...extra,
        End: true,
      },
    },
  };
}

describe('Map (inline)', () => {
  it('runs the processor for each item of ItemsPath, with ItemSelector and $$.Map.Item', async () => {
    // Prepare
    const def = inline({
      InputPath: '$.detail',
      ItemsPath: '$.shipped',
      ItemSelector: {
        'parcel.$': '$$.Map.Item.Value',
        'index.$': '$$.Map.Item.Index',
        'courier.$': '$.delivery-partner',
      },
      ResultPath: '$.detail.shipped',
    });
    // Act
    const r = await run(def, shipping);
    // Assess
    expect(r.output).toEqual({
      ...shipping,
      detail: {
        ...shipping.detail,
        shipped: shipping.detail.shipped.map((parcel, index) => ({ parcel, index, courier: 'UQS' })),
      },
    });
  });

  it('records MapStateStarted with the length, then each iteration, then MapStateSucceeded', async () => {
    // Act
    const r = await run(inline({ ItemsPath: '$.items', MaxConcurrency: 1 }), { items: ['a', 'b'] });
    // Assess
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'MapStateStarted')[0])).toEqual({ length: 2 });
    expect(details(eventsOf(r.history, 'MapIterationStarted')[1])).toEqual({ index: 1, name: 'M' });
  });

  it('outputs [] for no items', async () => {
    // Act
    const r = await run(inline({}), []);
    // Assess
    expect(r.output).toEqual([]);
  });

  it('never runs more than MaxConcurrency iterations at once', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    const handlers = {
      'arn:aws:states:::lambda:invoke': async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return 'done';
      },
    };
    const def = inline(
      { MaxConcurrency: 2 },
      { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
    );
    // Act
    const r = await run(def, [1, 2, 3, 4, 5], { handlers });
    // Assess
    expect(r.output).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(peak).toBe(2);
  });

  it('runs at most 40 iterations at once when MaxConcurrency is 0, as AWS does inline', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    const handlers = {
      'arn:aws:states:::lambda:invoke': async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        return null;
      },
    };
    const def = inline(
      { MaxConcurrency: 0 },
      { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
    );
    // Act
    const r = await run(
      def,
      Array.from({ length: 100 }, (_, i) => i),
      { handlers },
    );
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(peak).toBe(40);
  });

  it('fails with an iteration’s error', async () => {
    // Prepare
    const def = inline(
      {},
      {
        Check: { Type: 'Choice', Choices: [{ Variable: '$', NumericEquals: 2, Next: 'Bad' }], Default: 'Good' },
        Bad: { Type: 'Fail', Error: 'HandleItemFailError', Cause: 'item 2' },
        Good: { Type: 'Pass', End: true },
      },
    );
    // Act
    const r = await run(def, [1, 2, 3]);
    // Assess
    expect(r.error).toBe('HandleItemFailError');
    expect(types(r.history)).toContain('MapIterationFailed');
    expect(types(r.history)).toContain('MapStateFailed');
  });

  it('fails with States.Runtime when the items are not an array', async () => {
    // Act
    const r = await run(inline({ ItemsPath: '$.items' }), { items: 'abc' });
    // Assess
    expect(r.error).toBe('States.Runtime');
  });

  it('reads MaxConcurrencyPath, accepting an integer in a string, refusing anything else', async () => {
    // Act
    const ok = await run(inline({ ItemsPath: '$.items', MaxConcurrencyPath: '$.mc' }), { mc: '1', items: [] });
    const bad = await run(inline({ ItemsPath: '$.items', MaxConcurrencyPath: '$.mc' }), { mc: 'NoNumber', items: [1] });
    // Assess
    expect(ok.status).toBe('SUCCEEDED');
    expect(bad.error).toBe('States.Runtime');
    expect(bad.cause).toContain(
      'The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.mc',
    );
  });

  it('takes Items and ItemSelector from JSONata, with $states.context.Map.Item', async () => {
    // Prepare
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          Items: '{% $states.input.values %}',
          ItemSelector: { value: '{% $states.context.Map.Item.Value %}', at: '{% $states.context.Map.Item.Index %}' },
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          Output: '{% $states.result.(value * 10 + at) %}',
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, { values: [1, 2] });
    // Assess
    expect(r.output).toEqual([10, 21]);
  });

  it('rejects distributed-only fields on an inline Map', async () => {
    // Act / Assess
    await expect(run(inline({ ToleratedFailureCount: 1 }))).rejects.toThrow(InvalidDefinitionError);
  });
});

describe('Map (distributed, over inline items)', () => {
  const failOdd = {
    Check: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThan: 0, Next: 'Bad' }], Default: 'Good' },
    Bad: { Type: 'Fail', Error: 'Odd', Cause: 'odd item' },
    Good: { Type: 'Pass', End: true },
  };

  it('records a map run instead of the child executions’ events', async () => {
    // Act
    const r = await run(distributed({}, { P: { Type: 'Pass', End: true } }), ['Hello', 'World']);
    // Assess
    expect(r.output).toEqual(['Hello', 'World']);
    expect(types(r.history)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(details(eventsOf(r.history, 'MapRunStarted')[0])['mapRunArn']).toMatch(
      /^arn:aws:states:us-east-1:123456789012:mapRun:StateMachine\/M:/,
    );
  });

  it('tolerates failed items up to ToleratedFailureCount, and gives their error output', async () => {
    // Prepare
    const items = [{ n: 0 }, { n: 1 }, { n: 0 }];
    // Act
    const ok = await run(distributed({ ToleratedFailureCount: 1 }, failOdd), items);
    const over = await run(distributed({ ToleratedFailureCount: 0 }, failOdd), items);
    // Assess
    expect(ok.output).toEqual([{ n: 0 }, { Error: 'Odd', Cause: 'odd item' }, { n: 0 }]);
    expect(over.status).toBe('FAILED');
    expect(over.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(types(over.history)).toContain('MapRunFailed');
  });

  it('tolerates failed items up to ToleratedFailurePercentage', async () => {
    // Prepare
    const items = [{ n: 1 }, { n: 0 }, { n: 0 }, { n: 0 }];
    // Act
    const ok = await run(distributed({ ToleratedFailurePercentage: 25 }, failOdd), items);
    const over = await run(distributed({ ToleratedFailurePercentage: 20 }, failOdd), items);
    // Assess
    expect(ok.status).toBe('SUCCEEDED');
    expect(over.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('fails with States.Runtime on a tolerated failure percentage outside 0..100', async () => {
    // Act
    const r = await run(distributed({ ItemsPath: '$.items', ToleratedFailurePercentagePath: '$.p' }, failOdd), {
      items: [{ n: 0 }],
      p: 100.1,
    });
    // Assess
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toContain('ToleratedFailurePercentage must be between 0 and 100.');
  });

  it('batches items with ItemBatcher, adding BatchInput', async () => {
    // Prepare
    const def = distributed(
      { ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'run.$': '$.run' } }, ItemsPath: '$.items' },
      { P: { Type: 'Pass', End: true } },
    );
    // Act
    const r = await run(def, { run: 'r1', items: [1, 2, 3] });
    // Assess
    expect(r.output).toEqual([
      { Items: [1, 2], BatchInput: { run: 'r1' } },
      { Items: [3], BatchInput: { run: 'r1' } },
    ]);
  });

  it('batches by MaxInputBytesPerBatch', async () => {
    // Prepare
    const def = distributed({ ItemBatcher: { MaxInputBytesPerBatch: 10 } }, { P: { Type: 'Pass', End: true } });
    // Act
    const r = await run(def, ['aaaa', 'bbbb', 'cccc']);
    // Assess
    expect(r.output).toEqual([{ Items: ['aaaa'] }, { Items: ['bbbb'] }, { Items: ['cccc'] }]);
  });

  it('retries the whole Map on a retried error', async () => {
    // Prepare
    let calls = 0;
    const handlers = {
      'arn:aws:states:::lambda:invoke': () => {
        calls++;
        if (calls === 1) throw new TaskFailure('Flaky', 'once');
        return calls;
      },
    };
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'T',
            States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
          },
          Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 1 }],
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, [1], { handlers });
    // Assess
    expect(r.output).toEqual([2]);
    expect(types(r.history).filter((t) => t === 'MapStateStarted')).toHaveLength(2);
  });
});
