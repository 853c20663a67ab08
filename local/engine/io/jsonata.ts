import { parseTimestamp } from '../choice';
import type {
  ChoiceRule,
  ChoiceState,
  FailField,
  FailState,
  MapState,
  NumberSpec,
  StateType,
  WaitState,
} from '../compiled';
import { queryError, runtimeError } from '../errors';
import { isObject, toJsonText } from '../json';
import { isJsonataString, isMalformedJsonata, type StatesBinding } from '../jsonata';
import type { Maybe, StateRun, Step } from '../state-run';
import {
  type AtaEnv,
  type AtaTemplate,
  compileAtaTemplate,
  evaluateAtaTemplate,
  expressionsOf,
  TemplateError,
} from '../templates';
import type { JsonObject, JsonValue } from '../types';
import { assignObject, literalNumber, literalTimestamp, numberFieldForm, onlyFields, pathNumber } from './shared';
import type { Branch, ChoiceCondition, Diagnostics, Failure, Language, NumberLimits, StateIO } from './types';

/**
 * Input and output processing of JSONata states: Arguments, Output, Assign, Items, ItemSelector and every field
 * written `{% ... %}`, evaluated with `$states` (input, result, errorOutput, context) and the workflow variables.
 * A failed or unusable expression is States.QueryEvaluationError. Everything here answers with a promise.
 */

interface AtaFields {
  readonly args: AtaTemplate | undefined;
  readonly output: AtaTemplate | undefined;
  readonly assign: AtaTemplate | undefined;
  readonly items: AtaTemplate | undefined;
  readonly itemSelector: AtaTemplate | undefined;
  readonly batchInput: AtaTemplate | undefined;
  /** Whether any field reads `$states` (or `$$`), so that the context object is built only when needed. */
  readonly usesContext: boolean;
}

/** A Choice rule's or a Catcher's own Output and Assign. */
class AtaBranch implements Branch {
  public readonly language = 'JSONata' as const;
  public constructor(
    public readonly assign: AtaTemplate | undefined,
    public readonly output: AtaTemplate | undefined,
  ) {}
}

class AtaCondition implements ChoiceCondition {
  public readonly language = 'JSONata' as const;
  public constructor(public readonly template: AtaTemplate) {}
}

async function evaluated(template: AtaTemplate | undefined, env: AtaEnv, dflt: JsonValue): Promise<JsonValue> {
  if (!template) return dflt;
  return evaluateAtaTemplate(template, env);
}

async function assignedBy(template: AtaTemplate | undefined, env: AtaEnv): Promise<JsonObject | undefined> {
  return template ? ((await evaluateAtaTemplate(template, env)) as JsonObject) : undefined;
}

async function failField(f: FailField | undefined, env: AtaEnv, field: string): Promise<string | undefined> {
  if (!f) return undefined;
  if (f.kind === 'literal') return f.value;
  if (f.kind !== 'jsonata') return undefined;
  const v = await evaluateAtaTemplate(f.template, env);
  if (typeof v !== 'string')
    throw queryError(`The ${field} field must evaluate to a string, got ${toJsonText(v)}.`, field);
  return v;
}

class AtaIO implements StateIO {
  public readonly language = 'JSONata' as const;

  public constructor(private readonly f: AtaFields) {}

  public effectiveInput(run: StateRun): JsonValue {
    return run.input;
  }

  public async arguments(run: StateRun, effective: JsonValue): Promise<JsonValue> {
    return evaluated(this.f.args, this.env(run), effective);
  }

  public async afterResult(run: StateRun, result: JsonValue, next: string | undefined): Promise<Step> {
    const env = this.env(run, { result });
    const output = await evaluated(this.f.output, env, result);
    return { output, assigned: await assignedBy(this.f.assign, env), next };
  }

  public async passOn(
    run: StateRun,
    _effective: JsonValue,
    branch: Branch | undefined,
    next: string | undefined,
  ): Promise<Step> {
    const env = this.env(run);
    const own = branch ? (branch as AtaBranch) : this.f;
    const output = await evaluated(own.output, env, run.input);
    return { output, assigned: await assignedBy(own.assign, env), next };
  }

  public async caught(run: StateRun, branch: Branch, errorOutput: JsonObject, next: string): Promise<Step> {
    const b = branch as AtaBranch;
    const env = this.env(run, { errorOutput });
    const output = await evaluated(b.output, env, errorOutput);
    return { output, assigned: await assignedBy(b.assign, env), next };
  }

  public async number(
    run: StateRun,
    spec: NumberSpec | undefined,
    _doc: JsonValue,
    kind: 'integer' | 'float',
    min: number,
  ): Promise<number | undefined> {
    if (!spec) return undefined;
    if (spec.kind === 'literal') return spec.value;
    if (spec.kind !== 'jsonata') throw new Error('JSONPath number in a JSONata state');
    const v = await evaluateAtaTemplate(spec.template, this.env(run));
    if (typeof v !== 'number' || (kind === 'integer' && !Number.isInteger(v)) || v < min) {
      throw queryError(
        `The JSONata expression specified for the field '${spec.field}' returned ${toJsonText(v)}, which is not a valid ${kind === 'integer' ? 'non-negative integer' : 'number'}.`,
        spec.field,
      );
    }
    return v;
  }

  public async waitMillis(run: StateRun, s: WaitState, _effective: JsonValue): Promise<number> {
    if (s.seconds) return ((await this.number(run, s.seconds, run.input, 'integer', 0)) as number) * 1000;
    const ts = s.timestamp;
    if (!ts) return 0;
    const text =
      ts.kind === 'literal'
        ? ts.value
        : await evaluateAtaTemplate((ts as { template: AtaTemplate }).template, this.env(run));
    const t = parseTimestamp(text);
    if (t === undefined) {
      throw queryError(
        `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${typeof text === 'string' ? text : toJsonText(text)}`,
        'Timestamp',
      );
    }
    return Math.max(0, t - run.exec.config.clock.now());
  }

  public async choose(run: StateRun, s: ChoiceState, _effective: JsonValue): Promise<ChoiceRule | undefined> {
    const env = this.env(run);
    for (const rule of s.choices) {
      const c = await evaluateAtaTemplate((rule.condition as AtaCondition).template, env);
      if (typeof c !== 'boolean') {
        throw queryError(
          `The Condition of a choice rule must evaluate to a boolean, got ${toJsonText(c)}.`,
          'Condition',
        );
      }
      if (c) return rule;
    }
    return undefined;
  }

  /** Literal Error and Cause answer at once, as in JSONPath; an expression makes the answer a promise. */
  public failure(run: StateRun, s: FailState): Maybe<Failure> {
    if (s.error?.kind !== 'jsonata' && s.cause?.kind !== 'jsonata') {
      const literal = (f: FailField | undefined): string | undefined => (f?.kind === 'literal' ? f.value : undefined);
      return { error: literal(s.error), cause: literal(s.cause) };
    }
    const env = this.env(run);
    return (async () => ({
      error: await failField(s.error, env, 'Error'),
      cause: await failField(s.cause, env, 'Cause'),
    }))();
  }

  public async items(run: StateRun, _state: MapState, _effective: JsonValue): Promise<JsonValue[]> {
    const items = await evaluated(this.f.items, this.env(run), run.input);
    if (!Array.isArray(items)) {
      throw runtimeError(`The Items field must evaluate to a JSON array, got ${toJsonText(items)}`);
    }
    return items;
  }

  public async itemInputs(run: StateRun, _effective: JsonValue, items: readonly JsonValue[]): Promise<JsonValue[]> {
    const selector = this.f.itemSelector;
    if (!selector) return items.slice();
    const out: JsonValue[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const context = run.exec.contextObject(run, { Index: i, Value: items[i] as JsonValue });
      out[i] = await evaluateAtaTemplate(selector, { states: { input: run.input, context }, vars: run.frame.vars });
    }
    return out;
  }

  public async batchInput(run: StateRun, _effective: JsonValue): Promise<JsonValue | undefined> {
    const b = this.f.batchInput;
    return b ? evaluateAtaTemplate(b, this.env(run)) : undefined;
  }

  private env(run: StateRun, extra: { result?: JsonValue; errorOutput?: JsonValue } = {}): AtaEnv {
    const states: { -readonly [K in keyof StatesBinding]: StatesBinding[K] } = {
      input: run.input,
      context: this.f.usesContext ? run.exec.contextObject(run) : {},
    };
    if (extra.result !== undefined) states.result = extra.result;
    if (extra.errorOutput !== undefined) states.errorOutput = extra.errorOutput;
    return { states, vars: run.frame.vars };
  }
}

// ----------------------------------------------------------------------------------------------------- compiling

const JSONPATH_ONLY = [
  'InputPath',
  'OutputPath',
  'Parameters',
  'ResultPath',
  'ResultSelector',
  'ItemsPath',
  'MaxConcurrencyPath',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentagePath',
  'TimeoutSecondsPath',
  'HeartbeatSecondsPath',
  'SecondsPath',
  'TimestampPath',
  'ErrorPath',
  'CausePath',
  'Iterator',
];

/** Which parts of `$states` beyond input and context a field may read. */
interface Access {
  readonly result: boolean;
  readonly errorOutput: boolean;
}

const NO_ACCESS: Access = { result: false, errorOutput: false };
const RESULT = /\$states\s*\.\s*result\b/;
const ERROR_OUTPUT = /\$states\s*\.\s*errorOutput\b/;

/**
 * "Attempting to access $states.result or $states.errorOutput in fields and states where they are not accessible
 * will be caught at creation, update, or validation of the state machine" (transforming-data.html): the result
 * in a Task's, Parallel's or Map's Output and Assign, the error output in a Catcher's.
 */
function checkAccess(template: AtaTemplate, pointer: string, access: Access, diag: Diagnostics): void {
  for (const text of expressionsOf(template)) {
    if (!access.result && RESULT.test(text))
      diag.schema(pointer, '$states.result is only accessible in the Output and Assign of a Task, Parallel or Map');
    if (!access.errorOutput && ERROR_OUTPUT.test(text))
      diag.schema(pointer, "$states.errorOutput is only accessible in a Catcher's Output and Assign");
  }
}

/** A field's JSONata template; `location` is AWS's name of the field in messages (`Output`, `Arguments/x`). */
export function ataTemplateOf(
  value: unknown,
  location: string,
  pointer: string,
  diag: Diagnostics,
  access: Access = NO_ACCESS,
): AtaTemplate | undefined {
  try {
    const template = compileAtaTemplate(value, location, pointer);
    checkAccess(template, pointer, access, diag);
    return template;
  } catch (err) {
    if (err instanceof TemplateError) diag.schema(err.pointer, err.message);
    else throw err;
    return undefined;
  }
}

function fieldTemplate(
  def: Record<string, unknown>,
  field: string,
  pointer: string,
  diag: Diagnostics,
  access: Access = NO_ACCESS,
): AtaTemplate | undefined {
  return field in def ? ataTemplateOf(def[field], field, `${pointer}/${field}`, diag, access) : undefined;
}

function assignTemplate(
  value: unknown,
  pointer: string,
  diag: Diagnostics,
  access: Access = NO_ACCESS,
): AtaTemplate | undefined {
  const obj = assignObject(value, pointer, diag, false);
  return obj ? ataTemplateOf(obj, 'Assign', pointer, diag, access) : undefined;
}

function mapFields(
  def: Record<string, unknown>,
  pointer: string,
  diag: Diagnostics,
): Pick<AtaFields, 'items' | 'itemSelector' | 'batchInput'> {
  const b = def['ItemBatcher'];
  return {
    items: fieldTemplate(def, 'Items', pointer, diag),
    itemSelector: fieldTemplate(def, 'ItemSelector', pointer, diag),
    batchInput:
      isObject(b) && 'BatchInput' in b
        ? ataTemplateOf(b['BatchInput'], 'ItemBatcher/BatchInput', `${pointer}/ItemBatcher/BatchInput`, diag)
        : undefined,
  };
}

export const JSONATA: Language = {
  name: 'JSONata',

  foreignField(field: string): string | undefined {
    return JSONPATH_ONLY.includes(field)
      ? `The field '${field}' is not supported with the JSONata query language; use Arguments, Output, Items and JSONata expressions`
      : undefined;
  },

  io(def: Record<string, unknown>, pointer: string, type: StateType, diag: Diagnostics): StateIO {
    const text = JSON.stringify(def);
    const results: Access = { result: type === 'Task' || type === 'Parallel' || type === 'Map', errorOutput: false };
    const args = fieldTemplate(def, 'Arguments', pointer, diag);
    const output = fieldTemplate(def, 'Output', pointer, diag, results);
    const assign = assignTemplate(def['Assign'], `${pointer}/Assign`, diag, results);
    const map =
      type === 'Map'
        ? mapFields(def, pointer, diag)
        : { items: undefined, itemSelector: undefined, batchInput: undefined };
    return new AtaIO({ args, output, assign, ...map, usesContext: text.includes('$$') || text.includes('$states') });
  },

  number(def, field, pointer, limits: NumberLimits, diag): NumberSpec | undefined {
    const form = numberFieldForm(def, field, pointer, diag);
    if (form === 'path') return pathNumber(def, field, pointer, diag);
    if (form !== 'literal') return undefined;
    const v = def[field];
    if (!isJsonataString(v)) return literalNumber(v, field, pointer, limits, diag);
    const template = ataTemplateOf(v, field, `${pointer}/${field}`, diag);
    return template ? { kind: 'jsonata', template, field } : undefined;
  },

  timestamp(def, pointer, diag) {
    if (!('Timestamp' in def)) return undefined;
    const v = def['Timestamp'];
    if (!isJsonataString(v)) return literalTimestamp(v, pointer, diag);
    const template = ataTemplateOf(v, 'Timestamp', `${pointer}/Timestamp`, diag);
    return template ? { kind: 'jsonata', template } : undefined;
  },

  failField(def, field, pointer, diag): FailField | undefined {
    if (!(field in def)) return undefined;
    const v = def[field];
    if (typeof v !== 'string') {
      diag.schema(`${pointer}/${field}`, `'${field}' must be a string`);
      return undefined;
    }
    if (isMalformedJsonata(v)) {
      diag.schema(`${pointer}/${field}`, "a JSONata expression must start with '{%' and end with '%}'");
      return undefined;
    }
    if (!isJsonataString(v)) return { kind: 'literal', value: v };
    const template = ataTemplateOf(v, field, `${pointer}/${field}`, diag);
    return template ? { kind: 'jsonata', template } : undefined;
  },

  choiceRule(rule, pointer, diag) {
    onlyFields(rule, ['Condition', 'Next', 'Comment', 'Assign', 'Output'], pointer, 'a JSONata choice rule', diag);
    if (!('Condition' in rule)) {
      diag.schema(pointer, 'These fields are required: [Condition]');
      return undefined;
    }
    const c = rule['Condition'];
    if (typeof c !== 'boolean' && !isJsonataString(c)) {
      diag.schema(`${pointer}/Condition`, "'Condition' must be a boolean or a JSONata expression {% ... %}");
      return undefined;
    }
    const condition = ataTemplateOf(c, 'Condition', `${pointer}/Condition`, diag);
    const assign = assignTemplate(rule['Assign'], `${pointer}/Assign`, diag);
    const output = 'Output' in rule ? ataTemplateOf(rule['Output'], 'Output', `${pointer}/Output`, diag) : undefined;
    if (!condition) return undefined;
    return { condition: new AtaCondition(condition), branch: new AtaBranch(assign, output) };
  },

  catcher(c, pointer, diag): Branch {
    onlyFields(c, ['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'], pointer, 'a Catcher', diag);
    const errors: Access = { result: false, errorOutput: true };
    const assign = assignTemplate(c['Assign'], `${pointer}/Assign`, diag, errors);
    const output = 'Output' in c ? ataTemplateOf(c['Output'], 'Output', `${pointer}/Output`, diag, errors) : undefined;
    return new AtaBranch(assign, output);
  },
};
