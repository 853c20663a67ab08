import type {
  ChoiceRule,
  ChoiceState,
  CompiledScope,
  FailState,
  MapState,
  ParallelState,
  StateCommon,
  TaskState,
  WaitState,
} from './compiled';
import type { Diagnostics, Language } from './io/types';
import { isObject } from './json';
import { type ParsedResource, parseResource } from './resources';
import type { QueryLanguage } from './types';

/**
 * What each state type adds to the fields all states share, checked as CreateStateMachine checks them. The
 * fields that depend on the query language are compiled by the state's `Language`.
 */

/** What the state compilers need from the compiler around them. */
export interface ScopeCompiler extends Diagnostics {
  readonly resources: ParsedResource[];
  scope(def: unknown, pointer: string, ql: QueryLanguage, extraTopFields: readonly string[]): CompiledScope | undefined;
}

type Def = Record<string, unknown>;

export function compileTask(c: ScopeCompiler, lang: Language, def: Def, common: StateCommon): TaskState | undefined {
  const p = common.pointer;
  const resourceArn = def['Resource'];
  if (typeof resourceArn !== 'string') {
    c.schema(p, 'These fields are required: [Resource]');
    return undefined;
  }
  const resource = parseResource(resourceArn);
  if (!resource) {
    c.schema(
      `${p}/Resource`,
      `The resource provided ${resourceArn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`,
    );
    return undefined;
  }
  c.resources.push(resource);
  const timeout = lang.number(def, 'TimeoutSeconds', p, { min: 1, integer: true, max: 99999999 }, c);
  const heartbeat = lang.number(def, 'HeartbeatSeconds', p, { min: 1, integer: true, max: 99999999 }, c);
  if (timeout?.kind === 'literal' && heartbeat?.kind === 'literal' && heartbeat.value >= timeout.value) {
    c.schema(`${p}/HeartbeatSeconds`, "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'");
  }
  return { ...common, type: 'Task', resource, timeout, heartbeat, credentials: def['Credentials'] };
}

export function compileChoice(
  c: ScopeCompiler,
  lang: Language,
  def: Def,
  common: StateCommon,
): ChoiceState | undefined {
  const p = common.pointer;
  const list = def['Choices'];
  if (!Array.isArray(list) || list.length === 0) {
    c.schema(`${p}/Choices`, "'Choices' must be a non-empty array");
    return undefined;
  }
  const choices: ChoiceRule[] = [];
  list.forEach((rule, i) => {
    const rp = `${p}/Choices/${i}`;
    if (!isObject(rule)) {
      c.schema(rp, 'a choice rule must be an object');
      return;
    }
    if (typeof rule['Next'] !== 'string') {
      c.schema(`${rp}/Next`, 'These fields are required: [Next]');
      return;
    }
    const compiled = lang.choiceRule(rule, rp, c);
    if (compiled) choices.push({ ...compiled, next: rule['Next'] });
  });
  const dflt = def['Default'];
  if (dflt !== undefined && typeof dflt !== 'string') c.schema(`${p}/Default`, "'Default' must be a state name");
  return { ...common, type: 'Choice', choices, default: typeof dflt === 'string' ? dflt : undefined };
}

export function compileWait(c: ScopeCompiler, lang: Language, def: Def, common: StateCommon): WaitState | undefined {
  const p = common.pointer;
  const present = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((k) => k in def);
  if (present.length !== 1) {
    c.schema(
      p,
      `A Wait state must have exactly one of Seconds, Timestamp, SecondsPath, TimestampPath (found ${present.length})`,
    );
    return undefined;
  }
  const timestamp = 'Timestamp' in def || 'TimestampPath' in def ? lang.timestamp(def, p, c) : undefined;
  const seconds =
    'Seconds' in def || 'SecondsPath' in def
      ? lang.number(def, 'Seconds', p, { min: 0, integer: true, max: 99999999 }, c)
      : undefined;
  return { ...common, type: 'Wait', seconds, timestamp };
}

export function compileFail(c: ScopeCompiler, lang: Language, def: Def, common: StateCommon): FailState {
  const field = (name: 'Error' | 'Cause'): FailState['error'] => {
    if (name in def && `${name}Path` in def) {
      c.schema(common.pointer, `'${name}' and '${name}Path' cannot both be set`);
      return undefined;
    }
    return lang.failField(def, name, common.pointer, c);
  };
  return { ...common, type: 'Fail', error: field('Error'), cause: field('Cause') };
}

export function compileParallel(c: ScopeCompiler, def: Def, common: StateCommon): ParallelState | undefined {
  const p = common.pointer;
  const list = def['Branches'];
  if (!Array.isArray(list) || list.length === 0) {
    c.schema(`${p}/Branches`, "'Branches' must be a non-empty array");
    return undefined;
  }
  const branches: CompiledScope[] = [];
  list.forEach((b, i) => {
    const scope = c.scope(b, `${p}/Branches/${i}`, common.ql, ['QueryLanguage']);
    if (scope) branches.push(scope);
  });
  return { ...common, type: 'Parallel', branches };
}

const DISTRIBUTED_ONLY = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'Label',
];

/** The ItemProcessor (or its legacy name, Iterator) and whether it runs in DISTRIBUTED mode. */
function processorOf(
  c: ScopeCompiler,
  def: Def,
  common: StateCommon,
): { scope: CompiledScope | undefined; distributed: boolean } {
  const p = common.pointer;
  const processorField = 'ItemProcessor' in def ? 'ItemProcessor' : 'Iterator';
  if ('ItemProcessor' in def && 'Iterator' in def) c.schema(p, "'ItemProcessor' and 'Iterator' cannot both be set");
  const procDef = def[processorField];
  if (!isObject(procDef)) {
    c.schema(p, 'These fields are required: [ItemProcessor]');
    return { scope: undefined, distributed: false };
  }
  const config = procDef['ProcessorConfig'];
  let distributed = false;
  if (config !== undefined) {
    const cp = `${p}/${processorField}/ProcessorConfig`;
    if (!isObject(config)) c.schema(cp, "'ProcessorConfig' must be an object");
    else {
      const mode = config['Mode'];
      if (mode !== undefined && mode !== 'INLINE' && mode !== 'DISTRIBUTED')
        c.schema(`${cp}/Mode`, "'Mode' must be INLINE or DISTRIBUTED");
      distributed = mode === 'DISTRIBUTED';
      const et = config['ExecutionType'];
      if (distributed && et !== 'STANDARD' && et !== 'EXPRESS')
        c.schema(`${cp}/ExecutionType`, "A distributed Map needs 'ExecutionType' STANDARD or EXPRESS");
    }
  }
  const scope = c.scope(procDef, `${p}/${processorField}`, common.ql, ['ProcessorConfig', 'QueryLanguage']);
  return { scope, distributed };
}

export function compileMap(c: ScopeCompiler, lang: Language, def: Def, common: StateCommon): MapState | undefined {
  const p = common.pointer;
  const { scope: processor, distributed } = processorOf(c, def, common);
  if (!distributed) {
    for (const f of DISTRIBUTED_ONLY) {
      if (f in def) c.schema(`${p}/${f}`, `'${f}' is only supported by a Map in DISTRIBUTED mode`);
    }
  }
  if ('ItemReader' in def)
    c.schema(
      `${p}/ItemReader`,
      'ItemReader (reading items from S3) is not supported by the local engine; pass the items inline',
    );
  if ('ResultWriter' in def)
    c.schema(`${p}/ResultWriter`, 'ResultWriter (writing results to S3) is not supported by the local engine');
  if ('ItemSelector' in def && 'Parameters' in def) c.schema(p, "'ItemSelector' and 'Parameters' cannot both be set");
  let batcher: MapState['batcher'];
  const b = def['ItemBatcher'];
  if (b !== undefined) {
    const bp = `${p}/ItemBatcher`;
    if (!isObject(b)) c.schema(bp, "'ItemBatcher' must be an object");
    else {
      const maxItems = lang.number(b, 'MaxItemsPerBatch', bp, { min: 1, integer: true }, c);
      const maxBytes = lang.number(b, 'MaxInputBytesPerBatch', bp, { min: 1, integer: true, max: 262144 }, c);
      if (!maxItems && !maxBytes) c.schema(bp, "'ItemBatcher' needs MaxItemsPerBatch or MaxInputBytesPerBatch");
      batcher = { maxItems, maxBytes };
    }
  }
  const label = def['Label'];
  if (label !== undefined && (typeof label !== 'string' || label.length > 40))
    c.schema(`${p}/Label`, "'Label' must be a string of at most 40 characters");
  if (!processor) return undefined;
  return {
    ...common,
    type: 'Map',
    processor,
    distributed,
    maxConcurrency: lang.number(def, 'MaxConcurrency', p, { min: 0, integer: true }, c),
    toleratedFailureCount: lang.number(def, 'ToleratedFailureCount', p, { min: 0, integer: true }, c),
    toleratedFailurePercentage: lang.number(
      def,
      'ToleratedFailurePercentage',
      p,
      { min: 0, integer: false, max: 100 },
      c,
    ),
    batcher,
    label: typeof label === 'string' ? label : undefined,
  };
}
