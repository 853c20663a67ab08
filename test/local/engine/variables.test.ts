import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from '../../../local/engine';
import { details, eventsOf, run } from './helpers';

// Examples from the AWS Step Functions guide, "Passing data between states with variables".

describe('workflow variables (Assign)', () => {
  it('stores constants and reads them in a later state, in JSONPath and in JSONata', async () => {
    // Prepare
    const def = {
      StartAt: 'Store',
      States: {
        Store: { Type: 'Pass', Assign: { productName: 'product1', count: 42, available: true }, Next: 'ReadPath' },
        ReadPath: { Type: 'Pass', Parameters: { 'name.$': '$productName' }, ResultPath: '$.fromPath', Next: 'ReadAta' },
        ReadAta: {
          Type: 'Pass',
          QueryLanguage: 'JSONata',
          Output: {
            fromPath: '{% $states.input.fromPath %}',
            fromAta: { count: '{% $count %}', available: '{% $available %}' },
          },
          End: true,
        },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    expect(r.output).toEqual({ fromPath: { name: 'product1' }, fromAta: { count: 42, available: true } });
  });

  it('evaluates every assignment of a state with the values from before the state (a swap works)', async () => {
    // Prepare
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { x: 1, y: 2 }, Next: 'Swap' },
        Swap: { Type: 'Pass', Assign: { x: '{% $y %}', y: '{% $x %}' }, Output: '{% [$x, $y] %}', Next: 'Read' },
        Read: { Type: 'Pass', Output: { before: '{% $states.input %}', after: '{% [$x, $y] %}' }, End: true },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    expect(r.output).toEqual({ before: [1, 2], after: [2, 1] });
  });

  it('assigns from the result in JSONPath: after ResultSelector, before ResultPath and OutputPath', async () => {
    // Prepare
    const def = {
      StartAt: 'Get',
      States: {
        Get: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          ResultSelector: { 'body.$': '$.Payload' },
          Assign: { 'fromResult.$': '$.body.value', 'fromInput.$': '$$.Execution.Input.seed' },
          ResultPath: '$.task',
          OutputPath: '$.task',
          Next: 'Read',
        },
        Read: { Type: 'Pass', Parameters: { 'r.$': '$fromResult', 'i.$': '$fromInput' }, End: true },
      },
    };
    const handlers = { 'arn:aws:states:::lambda:invoke': () => ({ Payload: { value: 'v' } }) };
    // Act
    const r = await run(def, { seed: 's' }, { handlers });
    // Assess
    expect(r.output).toEqual({ r: 'v', i: 's' });
  });

  it('records the assigned values in the state’s exited event', async () => {
    // Prepare
    const def = { StartAt: 'S', States: { S: { Type: 'Pass', Assign: { x: 42, name: 'a' }, End: true } } };
    // Act
    const r = await run(def);
    // Assess
    const exited = details(eventsOf(r.history, 'PassStateExited')[0]);
    expect(exited['assignedVariables']).toEqual({ x: '42', name: '"a"' });
    expect(exited['assignedVariablesDetails']).toEqual({ truncated: false });
  });

  it('lets Map iterations and Parallel branches read outer variables but keeps their own assignments inside', async () => {
    // Prepare
    const def = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { base: 10 }, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            StartAt: 'Local',
            States: {
              Local: { Type: 'Pass', Assign: { inner: 'set inside' }, Next: 'Sum' },
              Sum: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input + $base %}', End: true },
            },
          },
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'B1', States: { B1: { Type: 'Pass', Parameters: { 'base.$': '$base' }, End: true } } },
            { StartAt: 'B2', States: { B2: { Type: 'Pass', Assign: { inner: 'other' }, Result: 'b2', End: true } } },
          ],
          Next: 'After',
        },
        After: {
          Type: 'Pass',
          QueryLanguage: 'JSONata',
          Output: { parallel: '{% $states.input %}', innerVisible: '{% $exists($inner) %}' },
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, { items: [1, 2] });
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(r.output).toEqual({ parallel: [{ base: 10 }, 'b2'], innerVisible: false });
  });

  it('fails when a branch assigns a variable that belongs to an outer scope', async () => {
    // Prepare
    const def = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { x: 1 }, Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Assign: { x: 2 }, End: true } } }],
          End: true,
        },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toContain("variable 'x' as it belongs to an outer scope");
  });

  it('gives the child workflows of a distributed Map no access to outer variables', async () => {
    // Prepare
    const def = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { secret: 's' }, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Read',
            States: { Read: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $exists($secret) %}', End: true } },
          },
          End: true,
        },
      },
    };
    // Act
    const r = await run(def, [1]);
    // Assess
    expect(r.output).toEqual([false]);
  });

  it('assigns in a Catch from the error output', async () => {
    // Prepare
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Catch: [
            { ErrorEquals: ['States.ALL'], Assign: { 'failure.$': '$.Error' }, ResultPath: null, Next: 'Report' },
          ],
          End: true,
        },
        Report: { Type: 'Pass', Parameters: { 'failure.$': '$failure' }, End: true },
      },
    };
    const handlers = {
      'arn:aws:states:::lambda:invoke': () => {
        throw Object.assign(new Error('no'), { name: 'Lambda.ServiceException' });
      },
    };
    // Act
    const r = await run(def, {}, { handlers });
    // Assess
    expect(r.output).toEqual({ failure: 'Lambda.ServiceException' });
  });

  it('fails with States.Runtime when a JSONPath state reads a variable that was never assigned', async () => {
    // Act
    const r = await run({ StartAt: 'S', States: { S: { Type: 'Pass', Parameters: { 'v.$': '$never' }, End: true } } });
    // Assess
    expect(r.error).toBe('States.Runtime');
  });

  it.each([
    ['the reserved name states', { states: 1 }],
    ['a name starting with a digit', { '1x': 1 }],
    ['a name with a dash', { 'my-var': 1 }],
    ['a name longer than 80 characters', { ['v'.repeat(81)]: 1 }],
  ])('rejects %s', async (_name, assign) => {
    // Act
    const attempt = run({ StartAt: 'S', States: { S: { Type: 'Pass', Assign: assign, End: true } } });
    // Assess
    await expect(attempt).rejects.toThrow(InvalidDefinitionError);
    await expect(attempt).rejects.toThrow('/States/S/Assign/');
  });
});
