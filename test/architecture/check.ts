import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { importGraph, type ResolvedImport, targetId } from './imports';
import {
  CYCLE_SCOPES,
  KNOWN_EXCEPTIONS,
  type KnownException,
  LAYERS,
  type LayerRule,
  NOT_SCANNED,
  RULES,
} from './rules';

/** One import that breaks a rule: the rule, the importing file, what it imports. */
export interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly target: string;
  readonly detail: string;
}

const CODE = /\.(ts|tsx|mts|cts|js|cjs|mjs)$/;

/** Every file of the layers under `root` (paths relative to it, with `/`), and the source of each code file. */
export function readLayers(root: string): { files: Set<string>; sources: Map<string, string> } {
  const skipped = picomatch([...NOT_SCANNED]);
  const files = new Set<string>();
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.name === 'node_modules' || skipped(path) || skipped(`${path}/`)) continue;
      if (entry.isDirectory()) walk(path);
      else {
        files.add(path);
        if (CODE.test(entry.name) && !entry.name.endsWith('.d.ts'))
          sources.set(path, readFileSync(join(root, path), 'utf8'));
      }
    }
  };
  for (const layer of LAYERS) walk(layer);
  return { files, sources };
}

/** The import graph of the layers under `root`. */
export function repositoryGraph(root: string): ResolvedImport[] {
  const { files, sources } = readLayers(root);
  return importGraph(sources, files);
}

function ruleViolations(rule: LayerRule, graph: readonly ResolvedImport[]): Violation[] {
  const applies = picomatch(
    [...rule.from].filter((p) => !p.startsWith('!')),
    {
      ignore: rule.from.filter((p) => p.startsWith('!')).map((p) => p.slice(1)),
    },
  );
  const allowed = rule.allow ? picomatch([...rule.allow]) : null;
  const forbidden = rule.forbid ? picomatch([...rule.forbid]) : null;
  const violations: Violation[] = [];
  for (const edge of graph) {
    if (!applies(edge.from)) continue;
    const target = targetId(edge.target);
    const kind = edge.typeOnly ? 'a type-only import of' : 'an import of';
    if (forbidden?.(target)) {
      violations.push({ rule: rule.id, from: edge.from, target, detail: `${kind} ${target}, which the rule forbids` });
    } else if (allowed && !allowed(target)) {
      violations.push({
        rule: rule.id,
        from: edge.from,
        target,
        detail: `${kind} ${target}, which the rule does not allow`,
      });
    }
  }
  return violations;
}

/** The folder a path belongs to at a scope's depth (`local/runtime` for `local/runtime/index.ts` at depth 2). */
function folderOf(path: string, depth: number): string | null {
  const parts = path.split('/');
  return parts.length > depth ? parts.slice(0, depth).join('/') : null;
}

/**
 * Cycles between folders: for each scope, the strongly connected components of the folder graph (Tarjan's
 * algorithm) with more than one folder, leaving out the edges that are known exceptions. Each cycle is reported
 * once per edge inside it, as "A imports B" with a file of A that does.
 */
export function cycleViolations(
  graph: readonly ResolvedImport[],
  known: readonly KnownException[] = KNOWN_EXCEPTIONS,
): Violation[] {
  const violations: Violation[] = [];
  for (const scope of CYCLE_SCOPES) {
    const edges = new Map<string, Map<string, string>>();
    for (const edge of graph) {
      if (edge.target.kind !== 'file') continue;
      if (!edge.from.startsWith(scope.under) || !edge.target.path.startsWith(scope.under)) continue;
      const a = folderOf(edge.from, scope.depth);
      const b = folderOf(edge.target.path, scope.depth);
      if (!a || !b || a === b) continue;
      // A known upward edge is left out, so that the cycle it closes is not reported through its other edges.
      if (isKnown({ rule: 'no-cycles', from: a, target: b, detail: '' }, known)) continue;
      if (!edges.has(a)) edges.set(a, new Map());
      const out = edges.get(a) as Map<string, string>;
      if (!out.has(b)) out.set(b, edge.from);
    }
    for (const found of stronglyConnected(edges)) {
      if (found.length < 2) continue;
      const component = [...found].sort();
      const members = new Set(component);
      for (const a of component) {
        for (const [b, file] of edges.get(a) ?? []) {
          if (!members.has(b)) continue;
          violations.push({
            rule: 'no-cycles',
            from: a,
            target: b,
            detail: `${a} imports ${b} (${file}), and ${b} reaches ${a} back: ${component.join(' ↔ ')}`,
          });
        }
      }
    }
  }
  return violations;
}

function stronglyConnected(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((out) => [...out.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return components;
}

/** Whether a violation is one of the known exceptions (rule and importing file exact, the target a glob). */
export function isKnown(violation: Violation, known: readonly KnownException[] = KNOWN_EXCEPTIONS): boolean {
  return known.some(
    (exception) =>
      exception.rule === violation.rule &&
      exception.from === violation.from &&
      picomatch.isMatch(violation.target, exception.target),
  );
}

/**
 * Every violation of the rules in a graph: the layer rules, an import that resolves to no file (the resolver
 * must see every edge), and cycles between folders.
 */
export function checkGraph(
  graph: readonly ResolvedImport[],
  rules: readonly LayerRule[] = RULES,
  known: readonly KnownException[] = KNOWN_EXCEPTIONS,
): Violation[] {
  const unresolved: Violation[] = graph
    .filter((edge) => edge.target.kind === 'unresolved')
    .map((edge) => ({
      rule: 'resolvable',
      from: edge.from,
      target: edge.specifier,
      detail: `imports ${edge.specifier}, which is no file of the repository`,
    }));
  return [...unresolved, ...rules.flatMap((rule) => ruleViolations(rule, graph)), ...cycleViolations(graph, known)];
}

/** A violation as one line of a test failure. */
export function describe(violation: Violation): string {
  return `[${violation.rule}] ${violation.from}: ${violation.detail}`;
}
