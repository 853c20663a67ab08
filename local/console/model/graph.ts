/**
 * The workflow as a graph: the states of an Amazon States Language definition and the transitions between them,
 * with Parallel branches and Map item processors nested inside their state. Pure data, shared by the server and
 * the browser; `layout.ts` places it, `status.ts` colours it.
 */

/** A state, or the synthetic Start and End markers of the top level. */
export interface GraphNode {
  /** Unique in the graph: the state's name (Step Functions requires unique names), or `#start` / `#end`. */
  readonly id: string;
  readonly name: string;
  /** The ASL `Type` (`Task`, `Choice`, `Map`, ...), or `Start` / `End` for the markers. */
  readonly type: string;
  /** The Task's resource, shortened (`lambda:invoke`, `codebuild:startBuild.sync`), when there is one. */
  readonly resource?: string;
  readonly comment?: string;
  /** A Map's item processor (one scope) or a Parallel's branches (one scope each). */
  readonly scopes?: readonly GraphScope[];
}

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** A Choice rule's condition, a Catch's errors, `Default`. */
  readonly label?: string;
}

/** One level of states: the top level, one Parallel branch, or one Map item processor. */
export interface GraphScope {
  readonly id: string;
  /** The first node (`StartAt`, or `#start` at the top level). */
  readonly start: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

interface StatesBlock {
  readonly StartAt?: unknown;
  readonly States?: unknown;
}

export const START_ID = '#start';
export const END_ID = '#end';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → `lambda:invoke.waitForTaskToken`; Lambda ARNs → `lambda:NAME`. */
export function shortResource(resource: unknown): string | undefined {
  const arn = text(resource);
  if (!arn) return undefined;
  const service = /^arn:[^:]+:states:::(.+)$/.exec(arn);
  if (service?.[1]) return service[1];
  const fn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(arn);
  if (fn?.[1]) return `lambda:${fn[1]}`;
  const activity = /^arn:[^:]+:states:[^:]*:[^:]*:activity:(.+)$/.exec(arn);
  if (activity?.[1]) return `activity:${activity[1]}`;
  return arn;
}

/** A condition as a short label: JSONata `{% ... %}` without its braces, JSONPath rules as `Variable op value`. */
export function ruleLabel(rule: Record<string, unknown>, index: number): string {
  const condition = text(rule['Condition']);
  if (condition) return condition.replace(/^\{%\s*/, '').replace(/\s*%\}$/, '');
  const variable = text(rule['Variable']);
  const op = Object.keys(rule).find((k) => k !== 'Variable' && k !== 'Next' && k !== 'Comment' && k !== 'Assign');
  if (variable && op) return `${variable} ${op} ${JSON.stringify(rule[op])}`;
  if (op === 'And' || op === 'Or' || op === 'Not') return `${op}(…)`;
  return text(rule['Comment']) ?? `Rule #${index + 1}`;
}

function catchLabel(errors: unknown): string {
  if (!Array.isArray(errors) || errors.length === 0) return 'Catch';
  return errors.filter((e): e is string => typeof e === 'string').join(', ');
}

function scopeOf(block: StatesBlock, id: string, top: boolean): GraphScope {
  const states =
    block.States && typeof block.States === 'object' ? (block.States as Record<string, Record<string, unknown>>) : {};
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const startAt = text(block.StartAt) ?? Object.keys(states)[0] ?? '';
  if (top) {
    nodes.push({ id: START_ID, name: 'Start', type: 'Start' });
    if (states[startAt]) edges.push({ from: START_ID, to: startAt, kind: 'next' });
  }
  let ends = false;
  for (const [name, state] of Object.entries(states)) {
    const type = text(state['Type']) ?? 'Unknown';
    const node: { -readonly [K in keyof GraphNode]: GraphNode[K] } = { id: name, name, type };
    const resource = shortResource(state['Resource']);
    if (resource) node.resource = resource;
    const comment = text(state['Comment']);
    if (comment) node.comment = comment;
    if (type === 'Map') {
      const processor = (state['ItemProcessor'] ?? state['Iterator']) as StatesBlock | undefined;
      if (processor) node.scopes = [scopeOf(processor, `${name}/items`, false)];
    }
    if (type === 'Parallel' && Array.isArray(state['Branches'])) {
      node.scopes = (state['Branches'] as StatesBlock[]).map((b, i) => scopeOf(b, `${name}/branch-${i + 1}`, false));
    }
    nodes.push(node);
    const add = (to: unknown, kind: EdgeKind, label?: string): void => {
      const target = text(to);
      if (!target || !states[target]) return;
      // Two Catches (or two rules) to the same state are one arrow, with both labels.
      const same = edges.findIndex((e) => e.from === name && e.to === target && e.kind === kind);
      const existing = edges[same];
      if (existing) {
        const joined = [existing.label, label].filter((l): l is string => !!l).join(', ');
        edges[same] = joined ? { ...existing, label: joined } : existing;
        return;
      }
      edges.push(label === undefined ? { from: name, to: target, kind } : { from: name, to: target, kind, label });
    };
    if (type === 'Choice') {
      const rules = Array.isArray(state['Choices']) ? (state['Choices'] as Record<string, unknown>[]) : [];
      rules.forEach((rule, i) => {
        add(rule['Next'], 'choice', ruleLabel(rule, i));
      });
      add(state['Default'], 'default', 'Default');
    } else {
      add(state['Next'], 'next');
    }
    if (Array.isArray(state['Catch'])) {
      for (const c of state['Catch'] as Record<string, unknown>[])
        add(c['Next'], 'catch', catchLabel(c['ErrorEquals']));
    }
    const terminal = state['End'] === true || type === 'Succeed' || type === 'Fail';
    if (top && terminal) {
      edges.push({ from: name, to: END_ID, kind: 'next' });
      ends = true;
    }
  }
  if (top && (ends || nodes.length === 1)) nodes.push({ id: END_ID, name: 'End', type: 'End' });
  return { id, start: top ? START_ID : startAt, nodes, edges };
}

/** The graph of a definition (a parsed ASL document or its JSON text). */
export function graphOf(definition: unknown): GraphScope {
  const doc = typeof definition === 'string' ? (JSON.parse(definition) as unknown) : definition;
  if (!doc || typeof doc !== 'object') return { id: 'root', start: START_ID, nodes: [], edges: [] };
  return scopeOf(doc as StatesBlock, 'root', true);
}

/** Every node of a graph, nested ones included, each with the name of the Map or Parallel state it sits in. */
export function allNodes(
  scope: GraphScope,
  parent: string | null = null,
): { node: GraphNode; parent: string | null }[] {
  const out: { node: GraphNode; parent: string | null }[] = [];
  for (const node of scope.nodes) {
    out.push({ node, parent });
    for (const inner of node.scopes ?? []) out.push(...allNodes(inner, node.id));
  }
  return out;
}

/**
 * The graph without its error paths, for a compact drawing: Catch transitions are left out unless `keep` says the
 * run took one, and so are the states only a Catch leads to (failure reports, rollbacks, Fail states), at every
 * level. `keep(from, to)` answers for a Catch from `from` to `to`.
 */
export function withoutCatches(scope: GraphScope, keep: (from: string, to: string) => boolean): GraphScope {
  const edges = scope.edges.filter((e) => e.kind !== 'catch' || keep(e.from, e.to));
  const reached = new Set<string>([scope.start]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of edges) {
      if (reached.has(e.from) && !reached.has(e.to)) {
        reached.add(e.to);
        grew = true;
      }
    }
  }
  const nodes = scope.nodes
    .filter((n) => reached.has(n.id))
    .map((n) => (n.scopes ? { ...n, scopes: n.scopes.map((s) => withoutCatches(s, keep)) } : n));
  return { ...scope, nodes, edges: edges.filter((e) => reached.has(e.from) && reached.has(e.to)) };
}

/** How many Catch transitions a graph has, nested ones included. */
export function catchCount(scope: GraphScope): number {
  return (
    scope.edges.filter((e) => e.kind === 'catch').length +
    scope.nodes.reduce((sum, n) => sum + (n.scopes ?? []).reduce((s, inner) => s + catchCount(inner), 0), 0)
  );
}
