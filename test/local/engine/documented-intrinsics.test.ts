import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileStateMachine, type StateMachineDefinition } from '../../../local/engine';
import { run, single } from './helpers';

// One case per statement of AWS's page "Intrinsic functions for JSONPath states in Step Functions",
// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html (the anchors name its sections).
// Where the page's own example is wrong, the case says so and holds what the statement around it says.

/** Runs a Pass state whose Parameters are `parameters`; resolves the execution's result. */
function pass(parameters: Record<string, unknown>, input: unknown = {}) {
  return run(single({ Type: 'Pass', Parameters: parameters }), input);
}

/** The value of one intrinsic call, or the error the execution ended with. */
async function call(expression: string, input: unknown = {}): Promise<{ value?: unknown; error?: string }> {
  const r = await pass({ 'value.$': expression }, input);
  return r.status === 'SUCCEEDED' ? { value: (r.output as { value: unknown }).value } : { error: r.error as string };
}

function invalid(definition: unknown): boolean {
  try {
    compileStateMachine(definition as StateMachineDefinition);
    return false;
  } catch {
    return true;
  }
}

const NINE = { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] };

describe('intrinsic-functions.html: using intrinsics', () => {
  it('#intrinsic-functions: a key ending in .$ runs the call ("KeyId.$": "States.Array($.Id)")', async () => {
    // Act
    const r = await pass({ 'KeyId.$': 'States.Array($.Id)' }, { Id: 123456 });
    // Assess
    expect(r.output).toEqual({ KeyId: [123456] });
  });

  it('#intrinsic-functions: nine nested functions in one field run (the myArn example, with a {} per value)', async () => {
    // Prepare: the page's example has three {} for two values, which its own States.Format rule refuses
    const arn = 'arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/sample-recipe/1.0.2';
    const expression =
      "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))";
    // Act / Assess
    expect(await call(expression, { ImageRecipe: { Arn: arn } })).toEqual({ value: '1.0' });
  });

  it('#intrinsic-functions: up to 10 nested functions in a field; an 11th is refused', () => {
    // Prepare
    const nested = (n: number): string => `${'States.Array('.repeat(n)}1${')'.repeat(n)}`;
    const machine = (n: number) => single({ Type: 'Pass', Parameters: { 'v.$': nested(n) } });
    // Act / Assess
    expect(invalid(machine(10))).toBe(false);
    expect(invalid(machine(11))).toBe(true);
  });

  it('#intrinsic-functions: a JSONata state cannot use intrinsics (a States.… string is only a string there)', async () => {
    // Act
    const r = await run(single({ Type: 'Pass', QueryLanguage: 'JSONata', Output: { v: 'States.Array(1)' } }));
    // Assess
    expect(r.output).toEqual({ v: 'States.Array(1)' });
  });

  it('#intrinsic-functions-states: a Parallel and a Map accept intrinsics in Parameters and ResultSelector', async () => {
    // Prepare
    const definition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Result: 'b', End: true } } }],
          ResultSelector: { 'n.$': 'States.ArrayLength($)' },
          ResultPath: '$.parallel',
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          Parameters: { 'twice.$': 'States.Array($$.Map.Item.Value, $$.Map.Item.Value)' },
          ResultSelector: { 'n.$': 'States.ArrayLength($)' },
          ResultPath: '$.map',
          End: true,
        },
      },
    };
    // Act
    const r = await run(definition, { items: [1, 2] });
    // Assess
    expect(r.output).toEqual({ items: [1, 2], parallel: { n: 1 }, map: { n: 2 } });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-arrays', () => {
  it('States.Array takes zero or more arguments and returns them in order', async () => {
    expect(await call('States.Array()')).toEqual({ value: [] });
    expect(await call("States.Array('a', 1, true, null, $.x)", { x: { y: 2 } })).toEqual({
      value: ['a', 1, true, null, { y: 2 }],
    });
  });

  it('States.ArrayPartition: chunks of the chunk size, the last one shorter (the page example)', async () => {
    expect(await call('States.ArrayPartition($.inputArray,4)', NINE)).toEqual({
      value: [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    });
  });

  it('States.ArrayPartition: a non-integer chunk size is rounded to the nearest integer', async () => {
    expect(await call('States.ArrayPartition($.inputArray, 3.6)', NINE)).toEqual({
      value: [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    });
  });

  it('States.ArrayPartition: the chunk size must be a non-zero, positive integer', async () => {
    expect(await call('States.ArrayPartition($.inputArray, 0)', NINE)).toEqual({ error: 'States.Runtime' });
    expect(await call('States.ArrayPartition($.inputArray, -2)', NINE)).toEqual({ error: 'States.Runtime' });
  });

  it('States.ArrayPartition: the first argument must be an array', async () => {
    expect(await call("States.ArrayPartition('abc', 2)")).toEqual({ error: 'States.Runtime' });
  });

  it('States.ArrayContains: whether the value is in the array (the page example, and a miss)', async () => {
    expect(await call('States.ArrayContains($.inputArray, $.lookingFor)', { ...NINE, lookingFor: 5 })).toEqual({
      value: true,
    });
    expect(await call('States.ArrayContains($.inputArray, $.lookingFor)', { ...NINE, lookingFor: 10 })).toEqual({
      value: false,
    });
  });

  it('States.ArrayContains: the first argument must be an array', async () => {
    expect(await call("States.ArrayContains('abc', 'a')")).toEqual({ error: 'States.Runtime' });
  });

  it('States.ArrayRange: first, final and increment (the page example)', async () => {
    expect(await call('States.ArrayRange(1, 9, 2)')).toEqual({ value: [1, 3, 5, 7, 9] });
  });

  it('States.ArrayRange: non-integer arguments are rounded to the nearest integer', async () => {
    expect(await call('States.ArrayRange(1.2, 8.6, 2.4)')).toEqual({ value: [1, 3, 5, 7, 9] });
  });

  it('States.ArrayRange: the increment must not be zero', async () => {
    expect(await call('States.ArrayRange(1, 9, 0)')).toEqual({ error: 'States.Runtime' });
  });

  it('States.ArrayRange: the new array can hold up to 1000 items, not more', async () => {
    expect(await call('States.ArrayLength(States.ArrayRange(1, 1000, 1))')).toEqual({ value: 1000 });
    expect(await call('States.ArrayRange(1, 1001, 1)')).toEqual({ error: 'States.Runtime' });
  });

  it('States.ArrayGetItem: the value at an index (the page example)', async () => {
    expect(await call('States.ArrayGetItem($.inputArray, $.index)', { ...NINE, index: 5 })).toEqual({ value: 6 });
  });

  it('States.ArrayLength: the length of an array (the page example)', async () => {
    expect(await call('States.ArrayLength($.inputArray)', NINE)).toEqual({ value: 9 });
  });

  it('States.ArrayUnique: removes duplicates from an unsorted array (the page example)', async () => {
    expect(await call('States.ArrayUnique($.inputArray)', { inputArray: [1, 2, 3, 3, 3, 3, 3, 3, 4] })).toEqual({
      value: [1, 2, 3, 4],
    });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-data-encode-decode', () => {
  it('States.Base64Encode: MIME Base64 of a string (the page example)', async () => {
    expect(await call('States.Base64Encode($.input)', { input: 'Data to encode' })).toEqual({
      value: 'RGF0YSB0byBlbmNvZGU=',
    });
  });

  it('States.Base64Encode: takes a string of up to 10,000 characters', async () => {
    expect((await call('States.Base64Encode($.s)', { s: 'a'.repeat(10_000) })).value).toBeTypeOf('string');
    expect(await call('States.Base64Encode($.s)', { s: 'a'.repeat(10_001) })).toEqual({ error: 'States.Runtime' });
  });

  it('States.Base64Decode: decodes MIME Base64 (the page prints "Decoded data"; its input decodes to this)', async () => {
    expect(await call('States.Base64Decode($.base64)', { base64: 'RGF0YSB0byBlbmNvZGU=' })).toEqual({
      value: 'Data to encode',
    });
  });

  it('States.Base64Decode: takes an encoded string of up to 10,000 characters', async () => {
    expect((await call('States.Base64Decode($.s)', { s: 'QUJD'.repeat(2500) })).value).toBe('ABC'.repeat(2500));
    expect(await call('States.Base64Decode($.s)', { s: `${'QUJD'.repeat(2500)}QUJD` })).toEqual({
      error: 'States.Runtime',
    });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-hash-calc', () => {
  it('States.Hash: the SHA-1 of "input data" (the page prints it one digit short)', async () => {
    expect(await call('States.Hash($.Data, $.Algorithm)', { Data: 'input data', Algorithm: 'SHA-1' })).toEqual({
      value: 'aaff4a450a104cd177d28d18d74485e8cae074b7',
    });
  });

  it.each([
    ['MD5', 'md5'],
    ['SHA-256', 'sha256'],
    ['SHA-384', 'sha384'],
    ['SHA-512', 'sha512'],
  ])('States.Hash: the algorithm may be %s', async (algorithm, node) => {
    const expected = createHash(node).update('input data').digest('hex');
    expect(await call(`States.Hash('input data', '${algorithm}')`)).toEqual({ value: expected });
  });

  it('States.Hash: any other algorithm fails', async () => {
    expect(await call("States.Hash('input data', 'SHA-3')")).toEqual({ error: 'States.Runtime' });
  });

  it('States.Hash: the data must be 10,000 characters or less', async () => {
    expect((await call("States.Hash($.s, 'MD5')", { s: 'a'.repeat(10_000) })).value).toBeTypeOf('string');
    expect(await call("States.Hash($.s, 'MD5')", { s: 'a'.repeat(10_001) })).toEqual({ error: 'States.Runtime' });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-json-manipulate', () => {
  it('States.JsonMerge: a shallow merge, the second object winning (the page example)', async () => {
    const input = { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } };
    expect(await call('States.JsonMerge($.json1, $.json2, false)', input)).toEqual({
      value: { a: { a3: 1, a4: 2 }, b: 2, c: 3 },
    });
  });

  it('States.JsonMerge: only the shallow mode exists, so the third argument must be false', async () => {
    expect(await call('States.JsonMerge($.a, $.b, true)', { a: {}, b: {} })).toEqual({ error: 'States.Runtime' });
  });

  it('States.StringToJson: parses an escaped JSON string (the page example)', async () => {
    expect(await call('States.StringToJson($.escapedJsonString)', { escapedJsonString: '{"foo": "bar"}' })).toEqual({
      value: { foo: 'bar' },
    });
  });

  it('States.JsonToString: the JSON text of the data at a path (compact, as recorded on AWS)', async () => {
    expect(await call('States.JsonToString($.unescapedJson)', { unescapedJson: { foo: 'bar' } })).toEqual({
      value: '{"foo":"bar"}',
    });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-math-operation', () => {
  it('States.MathRandom: an integer from the start (inclusive) to the end (exclusive)', async () => {
    for (let i = 0; i < 20; i++) {
      const { value } = await call('States.MathRandom($.start, $.end)', { start: 1, end: 999 });
      expect(Number.isInteger(value)).toBe(true);
      expect(value as number).toBeGreaterThanOrEqual(1);
      expect(value as number).toBeLessThan(999);
    }
  });

  it('States.MathRandom: the same seed returns an identical number', async () => {
    const a = await call('States.MathRandom(1, 1000000, 42)');
    const b = await call('States.MathRandom(1, 1000000, 42)');
    expect(a).toEqual(b);
  });

  it('States.MathRandom: non-integer start and end are rounded to the nearest integer', async () => {
    // 1.4 rounds to 1 and 2.4 to 2: the only integer in [1, 2) is 1
    expect(await call('States.MathRandom(1.4, 2.4)')).toEqual({ value: 1 });
  });

  it('States.MathAdd: the sum of two numbers (the page example, 111 + -1)', async () => {
    expect(await call('States.MathAdd($.value1, $.step)', { value1: 111, step: -1 })).toEqual({ value: 110 });
  });

  it('States.MathAdd: non-integer arguments are rounded to the nearest integer', async () => {
    expect(await call('States.MathAdd(1.4, 2.6)')).toEqual({ value: 4 });
  });

  it('States.MathAdd: arguments must lie in -2147483648..2147483647', async () => {
    expect(await call('States.MathAdd(2147483647, -2147483648)')).toEqual({ value: -1 });
    expect(await call('States.MathAdd(2147483648, 0)')).toEqual({ error: 'States.Runtime' });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-string-operation', () => {
  it('States.StringSplit: splits on one delimiting character (the page example)', async () => {
    expect(
      await call('States.StringSplit($.inputString, $.splitter)', { inputString: '1,2,3,4,5', splitter: ',' }),
    ).toEqual({
      value: ['1', '2', '3', '4', '5'],
    });
  });

  it('States.StringSplit: splits on each of several delimiting characters (the page example)', async () => {
    const input = { inputString: 'This.is+a,test=string', splitter: '.+,=' };
    expect(await call('States.StringSplit($.inputString, $.splitter)', input)).toEqual({
      value: ['This', 'is', 'a', 'test', 'string'],
    });
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-uuid-generate', () => {
  it('States.UUID: a version 4 UUID, called with no arguments', async () => {
    const { value } = await call('States.UUID()');
    expect(value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('intrinsic-functions.html#asl-intrsc-func-generic', () => {
  it('States.Format: each {} replaced by the positionally corresponding value (literal template)', async () => {
    expect(await call("States.Format('Hello, my name is {}.', $.name)", { name: 'Arnav' })).toEqual({
      value: 'Hello, my name is Arnav.',
    });
  });

  it('States.Format: the template may come from a path', async () => {
    const input = { name: 'Arnav', template: 'Hello, my name is {}.' };
    expect(await call('States.Format($.template, $.name)', input)).toEqual({ value: 'Hello, my name is Arnav.' });
  });

  it('States.Format: there must be as many values as {}', async () => {
    expect(await call("States.Format('{} and {}', $.name)", { name: 'Arnav' })).toEqual({ error: 'States.Runtime' });
  });
});

describe('intrinsic-functions.html#intrinsic-functions-escapes', () => {
  it("\\' stands for ', \\{ and \\} for the braces, \\\\ for a backslash", async () => {
    expect(await call("States.Format('It\\'s {}', $.name)", { name: 'Arnav' })).toEqual({ value: "It's Arnav" });
    expect(await call("States.Format('\\{\\} {}', $.name)", { name: 'Arnav' })).toEqual({ value: '{} Arnav' });
    expect(await call("States.Format('a\\\\b {}', $.name)", { name: 'Arnav' })).toEqual({ value: 'a\\b Arnav' });
  });

  it('an open escape backslash is a runtime error', async () => {
    expect(await call("States.Format('a\\b {}', $.name)", { name: 'Arnav' })).toEqual({ error: 'States.Runtime' });
  });

  it("a path argument uses square brackets for a name with other characters: $.abc.['def ghi']", async () => {
    expect(await call("States.Format('{}', $.abc.['def ghi'])", { abc: { 'def ghi': 'found' } })).toEqual({
      value: 'found',
    });
  });
});
