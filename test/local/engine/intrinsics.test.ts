import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from '../../../local/engine';
import { run, single } from './helpers';

// Examples from the AWS Step Functions guide, "Intrinsic functions for JSONPath states".

async function evaluate(expression: string, input: unknown): Promise<unknown> {
  const r = await run(single({ Type: 'Pass', Parameters: { 'result.$': expression } }), input);
  if (r.status !== 'SUCCEEDED') throw new Error(`${r.error}: ${r.cause}`);
  return (r.output as { result: unknown }).result;
}

describe('intrinsic functions', () => {
  it.each([
    [
      'States.Format with a literal template',
      "States.Format('Hello, my name is {}.', $.name)",
      { name: 'Arnav' },
      'Hello, my name is Arnav.',
    ],
    [
      'States.Format with a template from the input',
      'States.Format($.template, $.name)',
      { name: 'Arnav', template: 'Hello, my name is {}.' },
      'Hello, my name is Arnav.',
    ],
    ['States.Format with escaped braces', "States.Format('\\{literal\\} {}', $.v)", { v: 'x' }, '{literal} x'],
    [
      'States.StringToJson',
      'States.StringToJson($.escapedJsonString)',
      { escapedJsonString: '{"foo": "bar"}' },
      { foo: 'bar' },
    ],
    ['States.JsonToString', 'States.JsonToString($.unescapedJson)', { unescapedJson: { foo: 'bar' } }, '{"foo":"bar"}'],
    ['States.Array', 'States.Array($.Id)', { Id: 123456 }, [123456]],
    [
      'States.ArrayPartition',
      'States.ArrayPartition($.inputArray,4)',
      { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    ],
    [
      'States.ArrayContains',
      'States.ArrayContains($.inputArray, $.lookingFor)',
      { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], lookingFor: 5 },
      true,
    ],
    [
      'States.ArrayContains on objects',
      'States.ArrayContains($.a, $.b)',
      { a: [{ k: 1 }, { k: 2 }], b: { k: 2 } },
      true,
    ],
    ['States.ArrayRange', 'States.ArrayRange(1, 9, 2)', {}, [1, 3, 5, 7, 9]],
    ['States.ArrayRange downwards', 'States.ArrayRange(5, 1, -2)', {}, [5, 3, 1]],
    [
      'States.ArrayGetItem',
      'States.ArrayGetItem($.inputArray, $.index)',
      { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9], index: 5 },
      6,
    ],
    ['States.ArrayLength', 'States.ArrayLength($.inputArray)', { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 9],
    [
      'States.ArrayUnique',
      'States.ArrayUnique($.inputArray)',
      { inputArray: [1, 2, 3, 3, 3, 3, 3, 3, 4] },
      [1, 2, 3, 4],
    ],
    ['States.Base64Encode', 'States.Base64Encode($.input)', { input: 'Data to encode' }, 'RGF0YSB0byBlbmNvZGU='],
    ['States.Base64Decode', 'States.Base64Decode($.base64)', { base64: 'RGF0YSB0byBlbmNvZGU=' }, 'Data to encode'],
    [
      'States.Hash',
      'States.Hash($.Data, $.Algorithm)',
      { Data: 'input data', Algorithm: 'SHA-1' },
      'aaff4a450a104cd177d28d18d74485e8cae074b7',
    ],
    [
      'States.JsonMerge (shallow)',
      'States.JsonMerge($.json1, $.json2, false)',
      { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } },
      { a: { a3: 1, a4: 2 }, b: 2, c: 3 },
    ],
    ['States.MathAdd', 'States.MathAdd($.value1, $.step)', { value1: 111, step: -1 }, 110],
    ['States.MathAdd rounds each operand half up', 'States.MathAdd($.a, $.b)', { a: -1.49, b: -1.5 }, -2],
    [
      'States.StringSplit',
      'States.StringSplit($.inputString, $.splitter)',
      { inputString: '1,2,3,4,5', splitter: ',' },
      ['1', '2', '3', '4', '5'],
    ],
    [
      'States.StringSplit on any of several delimiters',
      'States.StringSplit($.inputString, $.splitter)',
      { inputString: 'This.is+a,test=string', splitter: '.+,=' },
      ['This', 'is', 'a', 'test', 'string'],
    ],
    [
      'nested calls',
      "States.ArrayGetItem(States.StringSplit($.arn, ':'), 5)",
      { arn: 'arn:aws:lambda:us-east-1:123456789012:function:build' },
      'function',
    ],
  ])('%s', async (_name, expression, input, expected) => {
    // Act / Assess
    expect(await evaluate(expression, input)).toEqual(expected);
  });

  it('takes workflow variables as arguments', async () => {
    // Prepare
    const def = {
      StartAt: 'Set',
      States: {
        Set: { Type: 'Pass', Assign: { prefix: 'build' }, Next: 'Use' },
        Use: { Type: 'Pass', Parameters: { 'result.$': "States.Format('{}-{}', $prefix, $.id)" }, End: true },
      },
    };
    // Act
    const r = await run(def, { id: 7 });
    // Assess
    expect(r.output).toEqual({ result: 'build-7' });
  });

  it('States.MathRandom returns an integer from start (inclusive) to end (exclusive), the same for the same seed', async () => {
    // Act
    const values = await Promise.all(
      Array.from({ length: 20 }, () => evaluate('States.MathRandom($.start, $.end)', { start: 1, end: 4 })),
    );
    const seeded = await Promise.all([1, 2].map(() => evaluate('States.MathRandom(1, 1000, 42)', {})));
    // Assess
    for (const v of values) expect([1, 2, 3]).toContain(v);
    expect(seeded[0]).toBe(seeded[1]);
  });

  it('States.UUID returns a version 4 UUID', async () => {
    // Act
    const v = await evaluate('States.UUID()', {});
    // Assess
    expect(v).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([
    ['a Format with fewer values than placeholders', "States.Format('{} {}', $.a)", { a: 1 }],
    ['StringToJson of text that is not JSON', 'States.StringToJson($.s)', { s: '{nope' }],
    ['ArrayPartition with a chunk size of 0', 'States.ArrayPartition($.a, 0)', { a: [1] }],
    ['ArrayRange of more than 1000 items', 'States.ArrayRange(1, 2000, 1)', {}],
    ['ArrayRange with a step of 0', 'States.ArrayRange(1, 2, 0)', {}],
    ['ArrayGetItem past the end', 'States.ArrayGetItem($.a, 3)', { a: [1, 2, 3] }],
    ['ArrayLength of a string', 'States.ArrayLength($.a)', { a: 'abc' }],
    ['Base64Encode of more than 10000 characters', 'States.Base64Encode($.s)', { s: 'x'.repeat(10_001) }],
    ['Hash with an unknown algorithm', "States.Hash($.s, 'SHA-3')", { s: 'x' }],
    ['JsonMerge in deep mode', 'States.JsonMerge($.a, $.b, true)', { a: {}, b: {} }],
    ['MathAdd of a string', 'States.MathAdd($.a, 1)', { a: 'one' }],
    ['a path argument that matches nothing', 'States.Array($.missing)', {}],
  ])('fails with States.Runtime on %s', async (_name, expression, input) => {
    // Act
    const r = await run(single({ Type: 'Pass', Parameters: { 'result.$': expression } }), input);
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toMatch(/^An error occurred while executing the state 'S' \(entered at the event id #2\)\. /);
  });

  it.each([
    ['an unknown function', 'States.Nope($.a)', /unknown intrinsic function 'States.Nope'/],
    ['a wrong number of arguments', 'States.ArrayLength($.a, $.b)', /States.ArrayLength takes 1 argument/],
    [
      'more than 10 nested calls',
      'States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(1)))))))))))',
      /more than 10 nested/,
    ],
    // An open escape backslash is not refused when the definition loads: it fails the call when it runs
    // (documented-intrinsics.test.ts, "an open escape backslash is a runtime error").
  ])('rejects a definition with %s, naming the field', async (_name, expression, message) => {
    // Act
    const attempt = run(single({ Type: 'Pass', Parameters: { 'result.$': expression } }));
    // Assess
    await expect(attempt).rejects.toThrow(InvalidDefinitionError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow('/States/S/Parameters/result.$');
  });

  it('leaves strings that look like functions alone when the key does not end in .$', async () => {
    // Prepare
    const def = single({ Type: 'Pass', Parameters: { literal: 'States.Format($.x)' } });
    // Act
    const r = await run(def, { x: 1 });
    // Assess
    expect(r.output).toEqual({ literal: 'States.Format($.x)' });
  });
});
