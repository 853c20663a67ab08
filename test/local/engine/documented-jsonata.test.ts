import { describe, expect, it } from 'vitest';
import { compileStateMachine, type StateMachineDefinition, TaskFailure } from '../../../local/engine';
import { details, eventsOf, parsed, run, single } from './helpers';

// One case per statement of AWS's page "Transforming data with JSONata in Step Functions",
// https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (the anchors name its sections).

const ATA = { QueryLanguage: 'JSONata' } as const;
const LAMBDA = 'arn:aws:states:::lambda:invoke';

/** Runs a one-state JSONata machine. */
function ata(state: Record<string, unknown>, input: unknown = {}, options: Parameters<typeof run>[2] = {}) {
  return run(single(state, ATA), input, options);
}

/** Whether CreateStateMachine would refuse the definition. */
function refused(definition: unknown): boolean {
  try {
    compileStateMachine(definition as StateMachineDefinition);
    return false;
  } catch {
    return true;
  }
}

describe('transforming-data.html: converting a JSONPath state', () => {
  it('the Parameters sample and its Arguments conversion send the same request', async () => {
    // Prepare: a Task that returns what it is called with; $customerName assigned before
    const echo = { [LAMBDA]: (r: { input: unknown }) => r.input };
    const machine = (ql: 'JSONPath' | 'JSONata', fields: Record<string, unknown>) => ({
      QueryLanguage: ql,
      StartAt: 'Name',
      States: {
        Name: { Type: 'Pass', Assign: { customerName: 'María' }, Next: 'T' },
        T: { Type: 'Task', Resource: LAMBDA, ...fields, End: true },
      },
    });
    const jsonPath = machine('JSONPath', {
      Parameters: {
        static: 'Hello',
        'title.$': '$.title',
        'name.$': '$customerName',
        'not-evaluated': '$customerName',
      },
    });
    const jsonata = machine('JSONata', {
      Arguments: {
        static: 'Hello',
        title: '{% $states.input.title %}',
        name: '{% $customerName %}',
        'not-evaluated': '$customerName',
      },
    });
    const expected = { static: 'Hello', title: 'Doctor', name: 'María', 'not-evaluated': '$customerName' };
    // Act
    const a = await run(jsonPath, { title: 'Doctor' }, { handlers: echo });
    const b = await run(jsonata, { title: 'Doctor' }, { handlers: echo });
    // Assess
    expect(a.output).toEqual(expected);
    expect(b.output).toEqual(expected);
  });

  it('Assign and Output run in parallel: Output does not see what the same state assigns', async () => {
    // Act
    const r = await run(
      {
        ...ATA,
        StartAt: 'A',
        States: {
          A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
          B: { Type: 'Pass', Assign: { x: '{% $x + 1 %}' }, Output: { x: '{% $x %}' }, Next: 'C' },
          C: { Type: 'Pass', Output: { x: '{% $x %}' }, End: true },
        },
      },
      {},
    );
    // Assess
    expect(r.output).toEqual({ x: 2 });
    const outputs = eventsOf(r.history, 'PassStateExited').map((e) => parsed(details(e)['output']));
    expect(outputs).toEqual([{}, { x: 1 }, { x: 2 }]);
  });
});

describe('transforming-data.html#querylanguage-field', () => {
  it('a machine without QueryLanguage is JSONPath; a state may set its own', async () => {
    // Act
    const r = await run(
      {
        StartAt: 'P',
        States: {
          P: { Type: 'Pass', Parameters: { 'a.$': '$.v' }, Next: 'J' },
          J: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input.a + 1 %}', End: true },
        },
      },
      { v: 1 },
    );
    // Assess
    expect(r.output).toBe(2);
  });
});

describe('transforming-data.html#writing-jsonata-expressions-in-json-strings', () => {
  it('a string in {% %} is evaluated as a field value, inside an object, inside an array', async () => {
    // Act
    const r = await run(
      {
        ...ATA,
        StartAt: 'A',
        States: {
          A: { Type: 'Pass', Assign: { timeout: 5, name: 'n', two: 2 }, Next: 'M' },
          M: {
            Type: 'Map',
            Items: [1, '{% $two %}', 3],
            ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
            Next: 'T',
          },
          T: {
            Type: 'Task',
            Resource: LAMBDA,
            TimeoutSeconds: '{% $timeout %}',
            Arguments: { field1: '{% $name %}' },
            End: true,
          },
        },
      },
      {},
      {
        handlers: {
          [LAMBDA]: (req: { input: unknown; timeoutSeconds: unknown }) => ({
            ...(req.input as object),
            timeout: req.timeoutSeconds,
          }),
        },
      },
    );
    // Assess
    expect(r.output).toEqual({ field1: 'n', timeout: 5 });
    expect(eventsOf(r.history, 'MapStateStarted')[0]).toMatchObject({ mapStateStartedEventDetails: { length: 3 } });
  });

  it('an expression must open with {% and close with %}, with no spaces around: anything else is refused', () => {
    // Act / Assess
    expect(refused(single({ Type: 'Pass', Output: '{% $states.input %}' }, ATA))).toBe(false);
    expect(refused(single({ Type: 'Pass', Output: '{% $states.input' }, ATA))).toBe(true);
    expect(refused(single({ Type: 'Pass', Output: '$states.input %}' }, ATA))).toBe(true);
    expect(refused(single({ Type: 'Pass', Output: ' {% $states.input %}' }, ATA))).toBe(true);
    expect(refused(single({ Type: 'Pass', Output: { a: '{% $states.input %} ' } }, ATA))).toBe(true);
  });

  it('Type and Resource must be constant strings', () => {
    expect(refused(single({ Type: 'Task', Resource: '{% "arn:aws:states:::lambda:invoke" %}' }, ATA))).toBe(true);
    expect(refused(single({ Type: '{% "Pass" %}' }, ATA))).toBe(true);
  });
});

describe('transforming-data.html#transforming-reserved-variable-states', () => {
  it('$states.input is the original state input, also where $states.result is there', async () => {
    // Act
    const r = await ata(
      {
        Type: 'Task',
        Resource: LAMBDA,
        Arguments: { x: 1 },
        Output: { input: '{% $states.input %}', result: '{% $states.result %}' },
      },
      { original: true },
      { handlers: { [LAMBDA]: () => ({ done: true }) } },
    );
    // Assess
    expect(r.output).toEqual({ input: { original: true }, result: { done: true } });
  });

  it("$states.errorOutput is the Error Output in a Catch's Assign and Output", async () => {
    // Act
    const r = await run(
      {
        ...ATA,
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: LAMBDA,
            Catch: [
              {
                ErrorEquals: ['States.ALL'],
                Assign: { caught: '{% $states.errorOutput.Error %}' },
                Output: '{% $states.errorOutput %}',
                Next: 'D',
              },
            ],
            End: true,
          },
          D: { Type: 'Pass', Output: { error: '{% $caught %}', output: '{% $states.input %}' }, End: true },
        },
      },
      {},
      {
        handlers: {
          [LAMBDA]: () => {
            throw new TaskFailure('Custom.Error', 'it broke');
          },
        },
      },
    );
    // Assess
    expect(r.output).toEqual({ error: 'Custom.Error', output: { Error: 'Custom.Error', Cause: 'it broke' } });
  });

  it('$states.result or $states.errorOutput where they are not accessible is refused at creation', () => {
    // Prepare
    const task = (fields: Record<string, unknown>) => single({ Type: 'Task', Resource: LAMBDA, ...fields }, ATA);
    // Act / Assess: accessible
    expect(refused(task({ Output: '{% $states.result %}', Assign: { r: '{% $states.result %}' } }))).toBe(false);
    // Act / Assess: not accessible
    expect(refused(single({ Type: 'Pass', Output: '{% $states.result %}' }, ATA))).toBe(true);
    expect(refused(task({ Arguments: { r: '{% $states.result %}' } }))).toBe(true);
    expect(refused(task({ Output: '{% $states.errorOutput %}' }))).toBe(true);
    const choice = (condition: string) => ({
      ...ATA,
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Condition: condition, Next: 'D' }], Default: 'D' },
        D: { Type: 'Succeed' },
      },
    });
    expect(refused(choice('{% $states.input.ok %}'))).toBe(false);
    expect(refused(choice('{% $states.result.ok %}'))).toBe(true);
  });
});

describe('transforming-data.html#handling-errors-jsonata-expressions', () => {
  it('a type error ($x + $y with a string) is States.QueryEvaluationError', async () => {
    const r = await ata({ Type: 'Pass', Output: '{% $states.input.x + $states.input.y %}' }, { x: 1, y: 'a' });
    expect(r.error).toBe('States.QueryEvaluationError');
  });

  it('a value of a type the field does not take (TimeoutSeconds from a string) is States.QueryEvaluationError', async () => {
    const r = await ata(
      { Type: 'Task', Resource: LAMBDA, TimeoutSeconds: '{% $states.input.t %}' },
      { t: '10' },
      {
        handlers: { [LAMBDA]: () => ({}) },
      },
    );
    expect(r.error).toBe('States.QueryEvaluationError');
  });

  it('a value out of range (a negative TimeoutSeconds) is States.QueryEvaluationError', async () => {
    const r = await ata(
      { Type: 'Task', Resource: LAMBDA, TimeoutSeconds: '{% $states.input.t %}' },
      { t: -5 },
      {
        handlers: { [LAMBDA]: () => ({}) },
      },
    );
    expect(r.error).toBe('States.QueryEvaluationError');
  });

  it('an expression that returns nothing ($data.thisFieldDoesNotExist) is States.QueryEvaluationError', async () => {
    const r = await ata({ Type: 'Pass', Output: '{% $states.input.thisFieldDoesNotExist %}' }, { data: 1 });
    expect(r.error).toBe('States.QueryEvaluationError');
  });

  it('a Task, Map or Parallel can Retry and Catch States.QueryEvaluationError', async () => {
    // Prepare: the Arguments fail on the first attempt only ($states.context.State.RetryCount is 0)
    const definition = {
      ...ATA,
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: LAMBDA,
          Arguments: { n: '{% $states.context.State.RetryCount = 0 ? $nothing : 1 %}' },
          Retry: [{ ErrorEquals: ['States.QueryEvaluationError'], MaxAttempts: 1 }],
          Next: 'P',
        },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', End: true } } }],
          Output: '{% $nothing %}',
          Catch: [{ ErrorEquals: ['States.QueryEvaluationError'], Output: 'caught', Next: 'D' }],
          End: true,
        },
        D: { Type: 'Succeed' },
      },
    };
    // Act
    const r = await run(definition, {}, { handlers: { [LAMBDA]: (req: { input: unknown }) => req.input } });
    // Assess
    expect(r.status).toBe('SUCCEEDED');
    expect(r.output).toBe('caught');
  });
});

describe('transforming-data.html#converting-from-jsonpath-to-jsonata', () => {
  it('no more .$: a key ending in .$ is only a key in a JSONata state', async () => {
    const r = await ata({ Type: 'Pass', Output: { 'a.$': '$.x' } }, { x: 1 });
    expect(r.output).toEqual({ 'a.$': '$.x' });
  });

  it('Output takes any JSON value: true, 42', async () => {
    expect((await ata({ Type: 'Pass', Output: true })).output).toBe(true);
    expect((await ata({ Type: 'Pass', Output: 42 })).output).toBe(42);
  });

  it('Arguments and Output are refused in JSONPath; the five path fields in JSONata', () => {
    expect(refused(single({ Type: 'Pass', Output: 1 }))).toBe(true);
    for (const field of ['InputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'OutputPath']) {
      const value = field === 'Parameters' || field === 'ResultSelector' ? {} : '$';
      expect(refused(single({ Type: 'Task', Resource: LAMBDA, [field]: value }, ATA))).toBe(true);
    }
  });

  it('a Choice rule tests a JSONata Condition', async () => {
    // Prepare
    const definition = {
      ...ATA,
      StartAt: 'Check Price',
      States: {
        'Check Price': {
          Type: 'Choice',
          Default: 'Pause',
          Choices: [{ Condition: '{% $states.input.current_price <= $states.input.desired_price %}', Next: 'Notify' }],
        },
        Notify: { Type: 'Pass', Output: 'notify', End: true },
        Pause: { Type: 'Pass', Output: 'pause', End: true },
      },
    };
    // Act / Assess
    expect((await run(definition, { current_price: 9, desired_price: 10 })).output).toBe('notify');
    expect((await run(definition, { current_price: 11, desired_price: 10 })).output).toBe('pause');
  });
});

describe('transforming-data.html#jsonata-examples', () => {
  it('Input and Output: the Succeed example', async () => {
    // Prepare
    const definition = {
      Comment: 'Input and Output example using JSONata',
      ...ATA,
      StartAt: 'Basic Input and Output',
      States: {
        'Basic Input and Output': {
          ...ATA,
          Type: 'Succeed',
          Output: {
            lastName: "{% 'Last=>' & $states.input.customer.lastName %}",
            orderValue: '{% $states.input.order.total %}',
          },
        },
      },
    };
    const input = { customer: { firstName: 'Martha', lastName: 'Rivera' }, order: { items: 7, total: 27.91 } };
    // Act / Assess
    expect((await run(definition, input)).output).toEqual({ lastName: 'Last=>Rivera', orderValue: 27.91 });
  });

  it('Filtering with JSONata: the products with zero calories', async () => {
    // Prepare
    const products = [
      { calories: 140, flavour: 'Cola', name: 'Product-1' },
      { calories: 0, flavour: 'Cola', name: 'Product-2' },
      { calories: 160, flavour: 'Orange', name: 'Product-3' },
      { calories: 100, flavour: 'Orange', name: 'Product-4' },
      { calories: 0, flavour: 'Lime', name: 'Product-5' },
    ];
    // Act
    const r = await ata(
      { Type: 'Pass', Output: { dietProducts: '{% $states.input.products[calories=0] %}' } },
      { products },
    );
    // Assess
    expect(r.output).toEqual({ dietProducts: [products[1], products[4]] });
  });
});

describe('transforming-data.html#jsonata-functions-provided-by-sfn', () => {
  /** The value of one expression, or the error. */
  async function value(expression: string, input: unknown = {}): Promise<{ value?: unknown; error?: string }> {
    const r = await ata({ Type: 'Pass', Output: `{% ${expression} %}` }, input);
    return r.status === 'SUCCEEDED' ? { value: r.output } : { error: r.error as string };
  }

  it('$partition: chunks of the chunk size, the last one may be shorter', async () => {
    expect(await value('$partition([1,2,3,4], $states.input.chunkSize)', { chunkSize: 3 })).toEqual({
      value: [[1, 2, 3], [4]],
    });
  });

  it('$range: from the first to the final element by the delta, which may be negative', async () => {
    expect(await value('$range(0, 10, 2)')).toEqual({ value: [0, 2, 4, 6, 8, 10] });
    expect(await value('$range(10, 0, -5)')).toEqual({ value: [10, 5, 0] });
  });

  it('$hash: the hash of a string with MD5, SHA-1, SHA-256, SHA-384 or SHA-512, no other', async () => {
    expect(await value("$hash('input data', 'SHA-1')")).toEqual({ value: 'aaff4a450a104cd177d28d18d74485e8cae074b7' });
    expect(await value("$hash('input data', 'SHA-3')")).toEqual({ error: 'States.QueryEvaluationError' });
  });

  it('$random: a number n with 0 <= n < 1; the same seed returns an identical number', async () => {
    const { value: n } = await value('$random()');
    expect(n as number).toBeGreaterThanOrEqual(0);
    expect(n as number).toBeLessThan(1);
    expect(await value('$random(7)')).toEqual(await value('$random(7)'));
  });

  it('$uuid: a v4 UUID', async () => {
    expect((await value('$uuid()')).value).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('$parse: deserializes a JSON string', async () => {
    expect(await value('$parse($states.input.json_string)', { json_string: '{"a":[1,2]}' })).toEqual({
      value: { a: [1, 2] },
    });
  });

  it('functions that take integers round non-integer numbers down', async () => {
    expect(await value('$partition([1,2,3,4,5], 2.9)')).toEqual({ value: [[1, 2], [3, 4], [5]] });
    expect(await value('$range(0.5, 4.9, 1.9)')).toEqual({ value: [0, 1, 2, 3, 4] });
    expect(await value('$random(2.9)')).toEqual(await value('$random(2)'));
  });
});
