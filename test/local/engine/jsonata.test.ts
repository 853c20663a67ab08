import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from '../../../local/engine';
import { details, eventsOf, run, single, types } from './helpers';

// Examples from the AWS Step Functions guide, "Transforming data with JSONata in Step Functions".

async function evaluate(expression: string, input: unknown = {}): Promise<unknown> {
  const r = await run(single({ Type: 'Pass', Output: `{% ${expression} %}` }, { QueryLanguage: 'JSONata' }), input);
  if (r.status !== 'SUCCEEDED') throw new Error(`${r.error}: ${r.cause}`);
  return r.output;
}

describe('JSONata states', () => {
  it('evaluates {% %} anywhere inside Output, including nested objects and arrays', async () => {
    // Prepare
    const def = single(
      {
        Type: 'Pass',
        Output: {
          customer: '{% $states.input.customer.name %}',
          items: ['{% $count($states.input.items) %}', 'literal'],
          total: '{% $sum($states.input.items.price) %}',
        },
      },
      { QueryLanguage: 'JSONata' },
    );
    const input = { customer: { name: 'Ana' }, items: [{ price: 2 }, { price: 3.5 }] };
    // Act
    const r = await run(def, input);
    // Assess
    expect(r.output).toEqual({ customer: 'Ana', items: [2, 'literal'], total: 5.5 });
  });

  it('passes the input through when a state has no Output', async () => {
    // Act
    const r = await run(single({ Type: 'Pass' }, { QueryLanguage: 'JSONata' }), { a: 1 });
    // Assess
    expect(r.output).toEqual({ a: 1 });
  });

  it('exposes the context object as $states.context', async () => {
    // Prepare
    const def = single(
      {
        Type: 'Pass',
        Output: { state: '{% $states.context.State.Name %}', execution: '{% $states.context.Execution.Name %}' },
      },
      { QueryLanguage: 'JSONata' },
    );
    // Act
    const r = await run(def, {}, { name: 'run-1' });
    // Assess
    expect(r.output).toEqual({ state: 'S', execution: 'run-1' });
  });

  it.each([
    ['$partition', '$partition([1, 2, 3, 4, 5], 2)', [[1, 2], [3, 4], [5]]],
    ['$partition of an empty array', '$partition([], 2)', []],
    ['$range', '$range(0, 10, 1)', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['$range downwards', '$range(1, -5, -1)', [1, 0, -1, -2, -3, -4, -5]],
    ['$range with a step past the end', '$range(1, 9, 3)', [1, 4, 7]],
    ['$range with a step of 0', '$range(1, 9, 0)', []],
    ['$hash', '$hash("input data", "SHA-1")', 'aaff4a450a104cd177d28d18d74485e8cae074b7'],
    ['$parse', `$parse('{"foo": "bar"}')`, { foo: 'bar' }],
    ['a seeded $random repeats', '$random(80) = $random(80)', true],
    ['an unseeded $random is in [0, 1)', '$random() >= 0 and $random() < 1', true],
  ])('provides AWS’s function %s', async (_name, expression, expected) => {
    // Act / Assess
    expect(await evaluate(expression)).toEqual(expected);
  });

  it('provides $uuid', async () => {
    // Act / Assess
    expect(await evaluate('$uuid()')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('does not provide $eval', async () => {
    // Act
    const r = await run(single({ Type: 'Pass', Output: '{% $eval("1 + 1") %}' }, { QueryLanguage: 'JSONata' }));
    // Assess
    expect(r.error).toBe('States.QueryEvaluationError');
    expect(r.cause).toContain('$eval is not supported');
  });

  it('fails with States.QueryEvaluationError and an EvaluationFailed event naming the field when an expression returns nothing', async () => {
    // Prepare
    const def = single({ Type: 'Pass', Output: { result: '{% $doesNotExist %}' } }, { QueryLanguage: 'JSONata' });
    // Act
    const r = await run(def);
    // Assess
    expect(r.error).toBe('States.QueryEvaluationError');
    expect(r.cause).toBe(
      "An error occurred while executing the state 'S' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).",
    );
    expect(types(r.history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'EvaluationFailed', 'ExecutionFailed']);
    expect(details(eventsOf(r.history, 'EvaluationFailed')[0])).toMatchObject({
      location: 'Output/result',
      state: 'S',
      error: 'States.QueryEvaluationError',
    });
  });

  it('reports an error thrown by an expression as States.QueryEvaluationError', async () => {
    // Act
    const r = await run(single({ Type: 'Pass', Output: '{% $number("abc") %}' }, { QueryLanguage: 'JSONata' }));
    // Assess
    expect(r.error).toBe('States.QueryEvaluationError');
  });

  it('lets one state use JSONata in a JSONPath machine, and the next read its output with JSONPath', async () => {
    // Prepare
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: { doubled: '{% $states.input.n * 2 %}' }, Next: 'B' },
        B: { Type: 'Pass', Parameters: { 'value.$': '$.doubled' }, End: true },
      },
    };
    // Act
    const r = await run(def, { n: 21 });
    // Assess
    expect(r.output).toEqual({ value: 42 });
  });

  it.each([
    ['a JSONPath field in a JSONata state', { Type: 'Pass', InputPath: '$.a' }, '/States/S/InputPath'],
    ['Parameters in a JSONata state', { Type: 'Pass', Parameters: {} }, '/States/S/Parameters'],
    ['a JSONPath state in a JSONata machine', { Type: 'Pass', QueryLanguage: 'JSONPath' }, '/States/S/QueryLanguage'],
    ['an expression that does not parse', { Type: 'Pass', Output: '{% $states.input.( %}' }, '/States/S/Output'],
  ])('rejects a definition with %s, naming the field', async (_name, state, pointer) => {
    // Act
    const attempt = run(single(state, { QueryLanguage: 'JSONata' }));
    // Assess
    await expect(attempt).rejects.toThrow(InvalidDefinitionError);
    await expect(attempt).rejects.toThrow(pointer);
  });

  it('gives a Task its Arguments and builds the Output from $states.result', async () => {
    // Prepare
    const def = single(
      {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Arguments: { FunctionName: 'build', Payload: { sha: '{% $states.input.sha %}' } },
        Output: { image: '{% $states.result.Payload.image %}', sha: '{% $states.input.sha %}' },
      },
      { QueryLanguage: 'JSONata' },
    );
    const seen: unknown[] = [];
    const handlers = {
      'arn:aws:states:::lambda:invoke': (req: { input: unknown }) => {
        seen.push(req.input);
        return { StatusCode: 200, Payload: { image: 'registry/app:abc' } };
      },
    };
    // Act
    const r = await run(def, { sha: 'abc' }, { handlers });
    // Assess
    expect(seen).toEqual([{ FunctionName: 'build', Payload: { sha: 'abc' } }]);
    expect(r.output).toEqual({ image: 'registry/app:abc', sha: 'abc' });
  });

  it('gives a Catch its $states.errorOutput', async () => {
    // Prepare
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: {},
          Catch: [
            {
              ErrorEquals: ['States.ALL'],
              Next: 'Handle',
              Output: { why: '{% $states.errorOutput.Cause %}', input: '{% $states.input %}' },
            },
          ],
          End: true,
        },
        Handle: { Type: 'Pass', End: true },
      },
    };
    const handlers = {
      'arn:aws:states:::lambda:invoke': () => {
        throw new Error('boom');
      },
    };
    // Act
    const r = await run(def, { x: 1 }, { handlers });
    // Assess
    expect(r.output).toEqual({ why: 'boom', input: { x: 1 } });
  });
});
