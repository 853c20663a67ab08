import { randomUUID } from 'node:crypto';
import {
  type CompiledStateMachine,
  type Engine,
  type ExecutionResult,
  type HistoryEvent,
  InvalidDefinitionError,
  type JsonValue,
  parseExecutionInput,
  TaskFailure,
  type TaskHandler,
} from '../../engine';
import { detailsOf } from '../../store';
import { InvalidArnError, ValidationError } from './states-errors';
import { enumValue, required } from './states-input';

/**
 * TestState on the local engine. The state under test is put in a small state machine of its own and run there,
 * unrecorded, on the virtual clock (a Wait state does not wait), so that every field behaves as in an execution.
 * Each transition of the state leads to a placeholder state that tells which one was taken:
 *
 * - `Next` (and a Choice's rules and `Default`): SUCCEEDED, `nextState` the target;
 * - a Catcher: CAUGHT_ERROR with the catcher's output and `nextState` its target;
 * - a Retrier is turned into a catcher placed before the real ones, so that an error it matches ends the test
 *   RETRIABLE, as TestState answers instead of retrying (retriers that `stateConfiguration.retrierRetryCount` has
 *   used up are left out);
 * - no transition taken (an uncaught error, a Fail state): FAILED with the error and cause.
 *
 * `variables` are assigned by a Pass state that runs first. A `mock` replaces the Task's call (its result, or its
 * error); a mocked Map or Parallel state runs as a Task whose result is the mock. With `inspectionLevel` DEBUG or
 * TRACE, the inspection data comes from the history (what the Task was called with and answered) and, for the
 * JSONPath steps in between, from the same fields run again in Pass states. docs/adr/0016 says what differs from AWS.
 */

/** The Resource of a mocked Task: one per test (`...:testStateMock-<uuid>`), served by `mockHandler`. */
export const MOCK_RESOURCE_PATTERN = 'arn:aws:states:::stepline:testStateMock-*';

/** What TestState needs of the Step Functions service: a way to run a definition without recording it. */
export interface TestStateHost {
  readonly engine: Engine;
  runUnrecorded(machine: CompiledStateMachine, input: JsonValue, clock: 'real' | 'virtual'): Promise<ExecutionResult>;
  /** The mocks of the tests running now, by their Task's Resource (read by `mockHandler`). */
  readonly mocks: Map<string, Mock>;
}

export type Mock = { readonly result: JsonValue } | { readonly error: string; readonly cause: string | undefined };

export interface TestStateOutput {
  status: 'SUCCEEDED' | 'FAILED' | 'RETRIABLE' | 'CAUGHT_ERROR';
  output?: string;
  error?: string;
  cause?: string;
  nextState?: string;
  inspectionData?: Record<string, unknown>;
}

type Transition =
  | { kind: 'next'; target: string }
  | { kind: 'catch'; target: string; index: number }
  | { kind: 'retry'; index: number };

type State = Record<string, unknown>;

const PLACEHOLDER = '__stepline_test_state_';
const VARIABLES_STATE = `${PLACEHOLDER}variables`;

/**
 * The Task handler of mocked Tasks (MOCK_RESOURCE_PATTERN), registered once by the service. A mocked callback task
 * (`.waitForTaskToken`, an activity) keeps its pattern, so that `$$.Task.Token` is there; its token is answered
 * with the mock at once.
 */
export function mockHandler(mocks: ReadonlyMap<string, Mock>, engine: Engine): TaskHandler {
  return function testStateMock(request) {
    const mock = mocks.get(request.baseResource);
    if (!mock) throw new TaskFailure('States.Runtime', 'No mock was given for this test');
    if (request.pattern === 'WAIT_FOR_TASK_TOKEN' && request.taskToken) {
      if ('result' in mock) engine.sendTaskSuccess(request.taskToken, JSON.stringify(mock.result));
      else engine.sendTaskFailure(request.taskToken, mock.error, mock.cause);
      return {};
    }
    if ('result' in mock) return mock.result;
    throw new TaskFailure(mock.error, mock.cause);
  };
}

function parseJson(text: unknown, member: string): JsonValue {
  if (typeof text !== 'string') throw new ValidationError(`${member} must be JSON text`);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ValidationError(`${member} is not valid JSON: ${(error as Error).message}`);
  }
}

function mockOf(value: unknown): Mock | undefined {
  if (value === undefined || value === null) return undefined;
  const m = value as {
    result?: unknown;
    errorOutput?: { error?: unknown; cause?: unknown };
    fieldValidationMode?: unknown;
  };
  enumValue('mock.fieldValidationMode', m.fieldValidationMode, ['STRICT', 'PRESENT', 'NONE']);
  if ((m.result === undefined) === (m.errorOutput === undefined)) {
    throw new ValidationError('A mock takes either a result or an errorOutput');
  }
  if (m.result !== undefined) return { result: parseJson(m.result, 'mock.result') };
  if (typeof m.errorOutput?.error !== 'string') throw required('mock.errorOutput.error');
  return {
    error: m.errorOutput.error,
    cause: typeof m.errorOutput.cause === 'string' ? m.errorOutput.cause : undefined,
  };
}

/** The state under test, its name and query language, from a single state or a machine and `stateName`. */
function stateUnderTest(
  definition: string,
  stateName: unknown,
  engine: Engine,
): { state: State; name: string; ql: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch (error) {
    throw new InvalidDefinitionError([
      {
        code: 'INVALID_JSON_DESCRIPTION',
        location: '',
        message: `The definition is not valid JSON: ${(error as Error).message}`,
      },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidDefinitionError([
      { code: 'SCHEMA_VALIDATION_FAILED', location: '', message: 'The definition must be a JSON object' },
    ]);
  }
  const def = parsed as Record<string, unknown>;
  if (stateName !== undefined && stateName !== null) {
    if (typeof stateName !== 'string') throw required('stateName');
    engine.validate(definition);
    const state = (def['States'] as Record<string, State> | undefined)?.[stateName];
    if (!state) throw new ValidationError(`The state '${stateName}' is not in the definition's States`);
    return { state, name: stateName, ql: String(state['QueryLanguage'] ?? def['QueryLanguage'] ?? 'JSONPath') };
  }
  if ('States' in def || 'StartAt' in def) {
    throw new InvalidDefinitionError([
      {
        code: 'SCHEMA_VALIDATION_FAILED',
        location: '',
        message: 'TestState takes the definition of one state; give stateName to test a state of a state machine',
      },
    ]);
  }
  return { state: def, name: 'TestState', ql: String(def['QueryLanguage'] ?? 'JSONPath') };
}

function waitsForSomeoneElse(resource: unknown): boolean {
  return (
    typeof resource === 'string' &&
    (/\.(sync(:2)?|waitForTaskToken)$/.test(resource) || resource.includes(':activity:'))
  );
}

/** The state as it runs in the test machine: transitions to placeholders, retriers as the first catchers. */
function rewrite(
  original: State,
  ql: string,
  mockResource: string | undefined,
  usedRetries: number,
): { state: State; transitions: Map<string, Transition> } {
  const state: State = structuredClone(original);
  const transitions = new Map<string, Transition>();
  const to = (t: Transition): string => {
    const placeholder = `${PLACEHOLDER}${transitions.size}`;
    transitions.set(placeholder, t);
    return placeholder;
  };
  state['QueryLanguage'] = ql;
  if (mockResource && (state['Type'] === 'Map' || state['Type'] === 'Parallel')) {
    for (const key of [
      'Iterator',
      'ItemProcessor',
      'ItemsPath',
      'ItemSelector',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      'MaxConcurrency',
      'MaxConcurrencyPath',
      'ToleratedFailureCount',
      'ToleratedFailureCountPath',
      'ToleratedFailurePercentage',
      'ToleratedFailurePercentagePath',
      'Label',
      'Items',
      'Branches',
    ]) {
      delete state[key];
    }
    if (original['Type'] === 'Map') delete state['Parameters'];
    state['Type'] = 'Task';
  }
  if (mockResource) {
    const resource = typeof original['Resource'] === 'string' ? original['Resource'] : '';
    const callback = resource.includes(':activity:') ? '.waitForTaskToken' : '';
    const suffix = /\.(sync(:2)?|waitForTaskToken)$/.exec(resource)?.[0] ?? callback;
    state['Resource'] = `${mockResource}${suffix}`;
  }
  if (typeof state['Next'] === 'string') state['Next'] = to({ kind: 'next', target: state['Next'] });
  if (Array.isArray(state['Choices'])) {
    state['Choices'] = (state['Choices'] as State[]).map((rule) =>
      typeof rule['Next'] === 'string' ? { ...rule, Next: to({ kind: 'next', target: rule['Next'] }) } : rule,
    );
  }
  if (typeof state['Default'] === 'string') state['Default'] = to({ kind: 'next', target: state['Default'] });
  const catchers = Array.isArray(state['Catch'])
    ? (state['Catch'] as State[]).map((c, index) =>
        typeof c['Next'] === 'string' ? { ...c, Next: to({ kind: 'catch', target: c['Next'], index }) } : c,
      )
    : [];
  const retries = Array.isArray(state['Retry'])
    ? (state['Retry'] as State[]).flatMap((r, index) => {
        const max = typeof r['MaxAttempts'] === 'number' ? r['MaxAttempts'] : 3;
        if (max <= usedRetries) return [];
        const next = to({ kind: 'retry', index });
        const errorOutput = ql === 'JSONata' ? { Output: '{% $states.errorOutput %}' } : { ResultPath: '$' };
        return [{ ErrorEquals: r['ErrorEquals'], Next: next, ...errorOutput }];
      })
    : [];
  delete state['Retry'];
  if (retries.length || catchers.length) state['Catch'] = [...retries, ...catchers];
  return { state, transitions };
}

function machineOf(states: Record<string, State>, startAt: string, engine: Engine): CompiledStateMachine {
  return engine.validate({ QueryLanguage: 'JSONPath', StartAt: startAt, States: states });
}

/** The machine that runs `state` (named `name`), after a Pass that assigns `variables` when there are any. */
function testMachine(
  engine: Engine,
  name: string,
  state: State,
  placeholders: Iterable<string>,
  variables: Record<string, JsonValue> | undefined,
): CompiledStateMachine {
  const states: Record<string, State> = { [name]: state };
  for (const p of placeholders) states[p] = { Type: 'Pass', End: true };
  if (!variables || Object.keys(variables).length === 0) return machineOf(states, name, engine);
  const assign = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, `{% ${JSON.stringify(v)} %}`]));
  states[VARIABLES_STATE] = { Type: 'Pass', QueryLanguage: 'JSONata', Assign: assign, Next: name };
  return machineOf(states, VARIABLES_STATE, engine);
}

function text(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The events of the state under test, from its StateEntered to the end. */
function eventsOf(history: readonly HistoryEvent[], name: string): HistoryEvent[] {
  const start = history.findIndex((e) => e.type.endsWith('StateEntered') && detailsOf(e)?.[1]?.['name'] === name);
  return start < 0 ? [] : history.slice(start);
}

function detail(event: HistoryEvent | undefined, key: string): unknown {
  return event ? detailsOf(event)?.[1]?.[key] : undefined;
}

export async function testState(
  host: TestStateHost,
  input: {
    definition?: unknown;
    roleArn?: unknown;
    input?: unknown;
    inspectionLevel?: unknown;
    revealSecrets?: unknown;
    variables?: unknown;
    stateName?: unknown;
    mock?: unknown;
    context?: unknown;
    stateConfiguration?: unknown;
  },
): Promise<TestStateOutput> {
  if (typeof input.definition !== 'string' || input.definition === '') throw required('definition');
  if (input.roleArn !== undefined && input.roleArn !== null) {
    if (typeof input.roleArn !== 'string' || !input.roleArn.startsWith('arn:')) {
      throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${String(input.roleArn)}'`);
    }
  }
  const level = enumValue('inspectionLevel', input.inspectionLevel, ['INFO', 'DEBUG', 'TRACE']) ?? 'INFO';
  const value = parseExecutionInput(typeof input.input === 'string' ? input.input : undefined);
  let variables: Record<string, JsonValue> | undefined;
  if (input.variables !== undefined && input.variables !== null) {
    const parsed = parseJson(input.variables, 'variables');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ValidationError('variables must be a JSON object of variable names to values');
    }
    variables = parsed as Record<string, JsonValue>;
  }
  const mock = mockOf(input.mock);
  if (input.context !== undefined && input.context !== null && !mock) {
    throw new ValidationError('context can only be given with a mock');
  }
  const { state, name, ql } = stateUnderTest(input.definition, input.stateName, host.engine);
  const type = state['Type'];
  if (mock && type !== 'Task' && type !== 'Map' && type !== 'Parallel') {
    throw new ValidationError('A mock can only be specified for Task, Map, or Parallel states');
  }
  if (!mock && (type === 'Map' || type === 'Parallel')) {
    throw new ValidationError(`TestState runs a ${String(type)} state only with a mock`);
  }
  if (!mock && type === 'Task' && waitsForSomeoneElse(state['Resource'])) {
    throw new ValidationError('TestState runs activities, .sync and .waitForTaskToken integrations only with a mock');
  }
  const count = Number(
    (input.stateConfiguration as { retrierRetryCount?: unknown } | undefined)?.retrierRetryCount ?? 0,
  );
  const used = Number.isInteger(count) && count > 0 ? count : 0;
  const mockResource = mock ? `${MOCK_RESOURCE_PATTERN.slice(0, -1)}${randomUUID()}` : undefined;
  const { state: running, transitions } = rewrite(state, ql, mockResource, used);
  const machine = testMachine(host.engine, name, running, transitions.keys(), variables);
  if (mockResource && mock) host.mocks.set(mockResource, mock);
  let result: ExecutionResult;
  try {
    result = await host.runUnrecorded(machine, value, 'virtual');
  } finally {
    if (mockResource) host.mocks.delete(mockResource);
  }
  const { output, transition } = outcome(result, name, transitions);
  if (level !== 'INFO') {
    output.inspectionData = await inspect(
      host,
      result,
      { name, state, ql, used },
      value,
      variables,
      output.status,
      transition,
    );
  }
  return output;
}

function outcome(
  result: ExecutionResult,
  name: string,
  transitions: Map<string, Transition>,
): { output: TestStateOutput; transition?: Transition } {
  const events = eventsOf(result.history, name);
  if (result.status !== 'SUCCEEDED') {
    const output: TestStateOutput = { status: 'FAILED' };
    if (result.error !== undefined) output.error = result.error;
    if (result.cause !== undefined) output.cause = result.cause;
    return { output };
  }
  const exited = events.findLast((e) => e.type.endsWith('StateExited') && detail(e, 'name') === name);
  const landing = events.findLast((e) => e.type.endsWith('StateEntered') && transitions.has(String(detail(e, 'name'))));
  const transition = landing ? transitions.get(String(detail(landing, 'name'))) : undefined;
  const failure = events.findLast((e) => typeof detail(e, 'error') === 'string');
  const errorOf = {
    ...(failure ? { error: String(detail(failure, 'error')) } : {}),
    ...(typeof detail(failure, 'cause') === 'string' ? { cause: String(detail(failure, 'cause')) } : {}),
  };
  if (transition?.kind === 'retry') {
    const caught = JSON.parse(String(detail(landing, 'input'))) as { Error?: string; Cause?: string };
    const output: TestStateOutput = { status: 'RETRIABLE' };
    if (caught.Error !== undefined) output.error = caught.Error;
    if (caught.Cause !== undefined) output.cause = caught.Cause;
    return { output, transition };
  }
  if (transition?.kind === 'catch') {
    const output: TestStateOutput = { status: 'CAUGHT_ERROR', nextState: transition.target, ...errorOf };
    const caughtOutput = text(detail(landing, 'input'));
    if (caughtOutput !== undefined) output.output = caughtOutput;
    return { output, transition };
  }
  const output: TestStateOutput = { status: 'SUCCEEDED' };
  const text_ = text(detail(exited, 'output')) ?? text(result.output);
  if (text_ !== undefined) output.output = text_;
  if (transition?.kind === 'next') output.nextState = transition.target;
  return transition ? { output, transition } : { output };
}

/** Runs one Pass state (JSONPath) on `input`, after the variables: how the engine evaluates that field. */
async function passValue(
  host: TestStateHost,
  pass: State,
  input: JsonValue,
  variables: Record<string, JsonValue> | undefined,
): Promise<string | undefined> {
  const machine = testMachine(
    host.engine,
    'Inspect',
    { ...pass, Type: 'Pass', QueryLanguage: 'JSONPath', End: true },
    [],
    variables,
  );
  const r = await host.runUnrecorded(machine, input, 'virtual');
  return r.status === 'SUCCEEDED' ? JSON.stringify(r.output ?? null) : undefined;
}

/** DEBUG and TRACE: the input and output processing, step by step. */
async function inspect(
  host: TestStateHost,
  result: ExecutionResult,
  tested: { name: string; state: State; ql: string; used: number },
  input: JsonValue,
  variables: Record<string, JsonValue> | undefined,
  status: TestStateOutput['status'],
  transition: Transition | undefined,
): Promise<Record<string, unknown>> {
  const { name, state, ql } = tested;
  const events = eventsOf(result.history, name);
  const data: Record<string, unknown> = { input: JSON.stringify(input) };
  const scheduled = events.find((e) => e.type.endsWith('Scheduled'));
  const called = detail(scheduled, 'parameters') ?? detail(scheduled, 'input');
  const answered = events.find((e) => /(Task|LambdaFunction|Activity)Succeeded$/.test(e.type));
  let resultText = text(detail(answered, 'output'));
  if (ql === 'JSONata') {
    if (called !== undefined) data['afterArguments'] = text(called);
  } else {
    const afterInputPath =
      'InputPath' in state
        ? await passValue(host, { InputPath: state['InputPath'] }, input, variables)
        : JSON.stringify(input);
    if (afterInputPath !== undefined) data['afterInputPath'] = afterInputPath;
    if (called !== undefined) data['afterParameters'] = text(called);
    else if (state['Type'] === 'Pass' || state['Type'] === 'Task') {
      data['afterParameters'] =
        'Parameters' in state
          ? await passValue(
              host,
              { InputPath: state['InputPath'] ?? '$', Parameters: state['Parameters'] },
              input,
              variables,
            )
          : afterInputPath;
      if (state['Type'] === 'Pass')
        resultText =
          'Result' in state ? JSON.stringify(state['Result']) : (data['afterParameters'] as string | undefined);
    }
    if (resultText !== undefined && status === 'SUCCEEDED') {
      const selected =
        'ResultSelector' in state
          ? await passValue(
              host,
              { Parameters: state['ResultSelector'] },
              JSON.parse(resultText) as JsonValue,
              variables,
            )
          : resultText;
      if (selected !== undefined) {
        data['afterResultSelector'] = selected;
        const placed = await passValue(
          host,
          {
            Result: JSON.parse(selected) as JsonValue,
            ...('ResultPath' in state ? { ResultPath: state['ResultPath'] } : {}),
          },
          input,
          variables,
        );
        if (placed !== undefined) data['afterResultPath'] = placed;
      }
    }
  }
  if (resultText !== undefined) data['result'] = resultText;
  const exited = events.findLast((e) => e.type.endsWith('StateExited') && detail(e, 'name') === name);
  const assigned = detail(exited, 'assignedVariables') as Record<string, string> | undefined;
  if (variables || assigned) {
    const all: Record<string, JsonValue> = { ...(variables ?? {}) };
    for (const [k, v] of Object.entries(assigned ?? {})) all[k] = JSON.parse(v) as JsonValue;
    data['variables'] = JSON.stringify(all);
  }
  const t = transition;
  if (t?.kind === 'retry') {
    const retrier = (state['Retry'] as State[])[t.index] as State;
    const interval = typeof retrier['IntervalSeconds'] === 'number' ? retrier['IntervalSeconds'] : 1;
    const rate = typeof retrier['BackoffRate'] === 'number' ? retrier['BackoffRate'] : 2;
    let seconds = interval * rate ** tested.used;
    if (typeof retrier['MaxDelaySeconds'] === 'number') seconds = Math.min(seconds, retrier['MaxDelaySeconds']);
    data['errorDetails'] = { retryIndex: t.index, retryBackoffIntervalSeconds: Math.round(seconds) };
  }
  if (t?.kind === 'catch') data['errorDetails'] = { catchIndex: t.index };
  return data;
}
