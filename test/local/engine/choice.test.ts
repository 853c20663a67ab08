import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError } from '../../../local/engine';
import { run } from './helpers';

// Examples from the AWS Step Functions guide, "Choice workflow state".

const ends = {
  Public: { Type: 'Pass', Result: 'Public', End: true },
  ValueIsZero: { Type: 'Pass', Result: 'ValueIsZero', End: true },
  ValueInTwenties: { Type: 'Pass', Result: 'ValueInTwenties', End: true },
  DefaultState: { Type: 'Pass', Result: 'DefaultState', End: true },
};

const docExample = {
  StartAt: 'ChoiceStateX',
  States: {
    ChoiceStateX: {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: '$.type', StringEquals: 'Private' }, Next: 'Public' },
        { Variable: '$.value', NumericEquals: 0, Next: 'ValueIsZero' },
        {
          And: [
            { Variable: '$.value', NumericGreaterThanEquals: 20 },
            { Variable: '$.value', NumericLessThan: 30 },
          ],
          Next: 'ValueInTwenties',
        },
      ],
      Default: 'DefaultState',
    },
    ...ends,
  },
};

/** A one-rule Choice that goes to Yes when the rule holds, else to No. */
function rule(r: Record<string, unknown>): unknown {
  return {
    StartAt: 'C',
    States: {
      C: { Type: 'Choice', Choices: [{ ...r, Next: 'Yes' }], Default: 'No' },
      Yes: { Type: 'Pass', Result: true, End: true },
      No: { Type: 'Pass', Result: false, End: true },
    },
  };
}

describe('Choice (JSONPath)', () => {
  it.each([
    [{ type: 'Public', value: 1 }, 'Public'],
    [{ type: 'Private', value: 0 }, 'ValueIsZero'],
    [{ type: 'Private', value: 22 }, 'ValueInTwenties'],
    [{ type: 'Private', value: 31 }, 'DefaultState'],
  ])('takes the first matching rule of the guide example for %j', async (input, expected) => {
    // Act
    const r = await run(docExample, input);
    // Assess
    expect(r.output).toBe(expected);
  });

  it.each([
    ['StringEquals', { Variable: '$.v', StringEquals: 'abc' }, { v: 'abc' }, true],
    ['StringLessThan', { Variable: '$.v', StringLessThan: 'b' }, { v: 'a' }, true],
    ['StringGreaterThanEquals', { Variable: '$.v', StringGreaterThanEquals: 'b' }, { v: 'b' }, true],
    ['StringEqualsPath', { Variable: '$.v', StringEqualsPath: '$.w' }, { v: 'x', w: 'x' }, true],
    ['NumericEquals', { Variable: '$.v', NumericEquals: 1.5 }, { v: 1.5 }, true],
    ['NumericLessThanEquals', { Variable: '$.v', NumericLessThanEquals: 2 }, { v: 2 }, true],
    ['NumericGreaterThanPath', { Variable: '$.v', NumericGreaterThanPath: '$.w' }, { v: 3, w: 2 }, true],
    ['BooleanEquals', { Variable: '$.v', BooleanEquals: false }, { v: false }, true],
    ['BooleanEqualsPath', { Variable: '$.v', BooleanEqualsPath: '$.w' }, { v: true, w: true }, true],
    [
      'TimestampEquals across offsets',
      { Variable: '$.v', TimestampEquals: '2016-03-14T01:59:00Z' },
      { v: '2016-03-14T03:59:00+02:00' },
      true,
    ],
    [
      'TimestampLessThan',
      { Variable: '$.v', TimestampLessThan: '2016-03-14T01:59:00Z' },
      { v: '2016-03-14T01:58:59.999Z' },
      true,
    ],
    [
      'TimestampGreaterThanEqualsPath',
      { Variable: '$.v', TimestampGreaterThanEqualsPath: '$.w' },
      { v: '2020-01-02T00:00:00Z', w: '2020-01-01T00:00:00Z' },
      true,
    ],
    ['a comparison of another type is false, not an error', { Variable: '$.v', NumericEquals: 1 }, { v: '1' }, false],
    ['IsNull', { Variable: '$.v', IsNull: true }, { v: null }, true],
    ['IsPresent on a missing member', { Variable: '$.v', IsPresent: false }, {}, true],
    ['IsNumeric', { Variable: '$.v', IsNumeric: true }, { v: 3 }, true],
    ['IsString', { Variable: '$.v', IsString: false }, { v: 3 }, true],
    ['IsBoolean', { Variable: '$.v', IsBoolean: true }, { v: false }, true],
    ['IsTimestamp', { Variable: '$.v', IsTimestamp: true }, { v: '2016-08-18T17:33:00Z' }, true],
    ['IsTimestamp on a non-date', { Variable: '$.v', IsTimestamp: true }, { v: '2016-02-30T17:33:00Z' }, false],
    [
      'StringMatches with a wildcard',
      { Variable: '$.v', StringMatches: 'log-*.txt' },
      { v: 'log-2024-01-01.txt' },
      true,
    ],
    ['StringMatches on a mismatch', { Variable: '$.v', StringMatches: '*.log' }, { v: 'app.txt' }, false],
    ['StringMatches with an escaped star', { Variable: '$.v', StringMatches: 'a\\*b' }, { v: 'a*b' }, true],
    [
      'StringMatches: an escaped star is not a wildcard',
      { Variable: '$.v', StringMatches: 'a\\*b' },
      { v: 'axxb' },
      false,
    ],
    [
      'StringMatches with an escaped backslash',
      { Variable: '$.v', StringMatches: 'a\\\\*' },
      { v: 'a\\anything' },
      true,
    ],
    [
      'Or',
      {
        Or: [
          { Variable: '$.v', NumericEquals: 1 },
          { Variable: '$.v', NumericEquals: 2 },
        ],
      },
      { v: 2 },
      true,
    ],
    ['the context object', { Variable: '$$.State.Name', StringEquals: 'C' }, {}, true],
  ])('%s', async (_name, r, input, expected) => {
    // Act
    const result = await run(rule(r), input);
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toBe(expected);
  });

  it('compares workflow variables', async () => {
    // Prepare
    const def = {
      StartAt: 'Set',
      States: {
        Set: { Type: 'Pass', Assign: { guess: 'the_guess', answer: 'the_guess' }, Next: 'C' },
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$guess', StringEqualsPath: '$answer', Next: 'Yes' }],
          Default: 'No',
        },
        Yes: { Type: 'Pass', Result: 'correct', End: true },
        No: { Type: 'Pass', Result: 'wrong', End: true },
      },
    };
    // Act
    const r = await run(def);
    // Assess
    expect(r.output).toBe('correct');
  });

  it('fails with States.Runtime when the Variable matches nothing', async () => {
    // Act
    const r = await run(rule({ Variable: '$.missing', StringEquals: 'x' }), {});
    // Assess
    expect(r.error).toBe('States.Runtime');
    expect(r.cause).toContain(
      "Invalid path '$.missing': The choice state's condition path references an invalid value.",
    );
  });

  it('fails with States.NoChoiceMatched when no rule holds and there is no Default', async () => {
    // Prepare
    const def = {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Variable: '$.v', NumericEquals: 1, Next: 'Done' }] },
        Done: { Type: 'Succeed' },
      },
    };
    // Act
    const r = await run(def, { v: 2 });
    // Assess
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('States.NoChoiceMatched');
  });

  it('applies InputPath before the rules and OutputPath to the state output', async () => {
    // Prepare
    const def = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          InputPath: '$.inner',
          OutputPath: '$.v',
          Choices: [{ Variable: '$.v', NumericEquals: 1, Next: 'Done' }],
        },
        Done: { Type: 'Succeed' },
      },
    };
    // Act
    const r = await run(def, { inner: { v: 1 } });
    // Assess
    expect(r.output).toBe(1);
  });

  it.each([
    [
      'two operators in one rule',
      { Variable: '$.v', StringEquals: 'a', NumericEquals: 1, Next: 'D' },
      /exactly one comparison operator/,
    ],
    ['a rule without Next', { Variable: '$.v', StringEquals: 'a' }, /These fields are required: \[Next\]/],
    [
      'a literal of the wrong type',
      { Variable: '$.v', NumericEquals: 'one', Next: 'D' },
      /'NumericEquals' must be a numeric/,
    ],
    [
      'an invalid timestamp literal',
      { Variable: '$.v', TimestampEquals: 'yesterday', Next: 'D' },
      /'TimestampEquals' must be a timestamp/,
    ],
  ])('rejects a definition with %s', async (_name, choice, message) => {
    // Prepare
    const def = { StartAt: 'C', States: { C: { Type: 'Choice', Choices: [choice] }, D: { Type: 'Succeed' } } };
    // Act
    const attempt = run(def);
    // Assess
    await expect(attempt).rejects.toThrow(InvalidDefinitionError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow('/States/C/Choices/0');
  });
});

describe('Choice (JSONata)', () => {
  it('goes to the first rule whose Condition is true, with that rule’s Output and Assign', async () => {
    // Prepare
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { Condition: '{% $states.input.n > 10 %}', Next: 'Big', Output: { size: 'big' }, Assign: { seen: 'big' } },
            {
              Condition: '{% $states.input.n > 0 %}',
              Next: 'Small',
              Output: { size: 'small' },
              Assign: { seen: 'small' },
            },
          ],
          Default: 'Zero',
          Output: { size: 'none' },
        },
        Big: { Type: 'Pass', Output: '{% $states.input.size & "/" & $seen %}', End: true },
        Small: { Type: 'Pass', Output: '{% $states.input.size & "/" & $seen %}', End: true },
        Zero: { Type: 'Pass', End: true },
      },
    };
    // Act
    const [small, zero] = await Promise.all([run(def, { n: 3 }), run(def, { n: 0 })]);
    // Assess
    expect(small.output).toBe('small/small');
    expect(zero.output).toEqual({ size: 'none' });
  });

  it('fails with States.QueryEvaluationError when a Condition is not a boolean', async () => {
    // Prepare
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Condition: '{% $states.input.n %}', Next: 'D' }] },
        D: { Type: 'Succeed' },
      },
    };
    // Act
    const r = await run(def, { n: 1 });
    // Assess
    expect(r.error).toBe('States.QueryEvaluationError');
  });
});
