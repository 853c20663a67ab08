import { parse } from '@babel/parser';

/**
 * The size rule of the team's brief and issue 13: no file under `core/`, `functions/`, `adapters/` or `local/` over
 * 600 lines, and no function over 120, except where the file says why. Read from the syntax tree (the `typescript`
 * package here is the native 7.x, with no JavaScript API, so Babel's TypeScript parser builds it): every function
 * form counts (declarations, expressions, arrows, methods, accessors, constructors), from its first line to its last,
 * nested functions included in their outer one, as ESLint's `max-lines-per-function` counts them.
 *
 * The reason is a comment in the file:
 * - `size-exception(file): <why>` anywhere in the file lets the file be longer than 600 lines;
 * - `size-exception(function): <why>` in the comment right above a function (or above the statement, property or
 *   class member that holds it) lets that function be longer than 120 lines.
 * A reason is at least a few words. An exception whose file or function is within the limit again is reported, so
 * that the exceptions go away as the code shrinks.
 */

export const MAX_FILE_LINES = 600;
export const MAX_FUNCTION_LINES = 120;

/** The folders the rule holds in. */
export const SIZED_LAYERS = ['core', 'functions', 'adapters', 'local'] as const;

const FILE_EXCEPTION = /size-exception\(file\):\s*(\S.{14,})/;
const FUNCTION_EXCEPTION = /size-exception\(function\):\s*(\S.{14,})/;

export interface SizeFinding {
  readonly file: string;
  /** `file`, or the function's name and first line (`startRuntime@47`). */
  readonly where: string;
  readonly lines: number;
  readonly problem: 'file over 600 lines' | 'function over 120 lines' | 'exception no longer needed';
}

export interface MeasuredFunction {
  readonly name: string;
  readonly line: number;
  readonly lines: number;
  /** The stated reason, where one is given. */
  readonly exception: string | null;
}

/** The lines of `source`, as `wc -l` counts them for a file that ends with a newline. */
export function lineCount(source: string): number {
  if (source === '') return 0;
  const lines = source.split('\n').length;
  return source.endsWith('\n') ? lines - 1 : lines;
}

interface Node {
  readonly type: string;
  readonly loc?: { readonly start: { readonly line: number }; readonly end: { readonly line: number } };
  readonly leadingComments?: readonly { readonly value: string }[] | null;
  readonly [key: string]: unknown;
}

const FUNCTIONS = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ObjectMethod',
  'ClassMethod',
  'ClassPrivateMethod',
]);

/** Nodes whose comment above also speaks for the function they hold. */
const HOLDERS = new Set([
  'VariableDeclaration',
  'VariableDeclarator',
  'ExportNamedDeclaration',
  'ExportDefaultDeclaration',
  'ObjectProperty',
  'ClassProperty',
  'ClassPrivateProperty',
  'ExpressionStatement',
  'AssignmentExpression',
]);

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

function keyName(key: unknown): string | null {
  if (!isNode(key)) return null;
  if (key.type === 'Identifier' || key.type === 'PrivateName') {
    const id = key.type === 'PrivateName' ? (key['id'] as Node) : key;
    return String(id['name']);
  }
  if (key.type === 'StringLiteral' || key.type === 'NumericLiteral') return String(key['value']);
  return null;
}

function functionName(node: Node, parents: readonly Node[]): string {
  const own = keyName(node['id']) ?? keyName(node['key']);
  if (own) return node['kind'] === 'get' || node['kind'] === 'set' ? `${String(node['kind'])} ${own}` : own;
  const parent = parents[parents.length - 1];
  if (parent?.type === 'VariableDeclarator') return keyName(parent['id']) ?? '<anonymous>';
  if (parent?.type === 'ObjectProperty' || parent?.type === 'ClassProperty')
    return keyName(parent['key']) ?? '<anonymous>';
  if (parent?.type === 'AssignmentExpression' && isNode(parent['left']) && parent['left'].type === 'MemberExpression')
    return keyName((parent['left'] as Node)['property']) ?? '<anonymous>';
  return '<anonymous>';
}

function exceptionOf(node: Node, parents: readonly Node[]): string | null {
  const chain = [node];
  for (let i = parents.length - 1; i >= 0 && HOLDERS.has((parents[i] as Node).type); i -= 1)
    chain.push(parents[i] as Node);
  for (const holder of chain) {
    for (const comment of holder.leadingComments ?? []) {
      const match = FUNCTION_EXCEPTION.exec(comment.value);
      if (match) return (match[1] as string).trim();
    }
  }
  return null;
}

/** Parses `source` (TypeScript, TSX or JavaScript, by the file's extension) and measures every function in it. */
export function measureFunctions(file: string, source: string): MeasuredFunction[] {
  const plugins: ('typescript' | 'jsx')[] = file.endsWith('.tsx')
    ? ['typescript', 'jsx']
    : /\.[cm]?ts$/.test(file)
      ? ['typescript']
      : ['jsx'];
  const ast = parse(source, {
    sourceType: 'unambiguous',
    sourceFilename: file,
    plugins,
    errorRecovery: false,
    allowReturnOutsideFunction: true,
  }) as unknown as Node;
  const found: MeasuredFunction[] = [];
  const visit = (node: Node, parents: Node[]): void => {
    if (FUNCTIONS.has(node.type) && node.loc && node['body']) {
      const line = node.loc.start.line;
      found.push({
        name: functionName(node, parents),
        line,
        lines: node.loc.end.line - line + 1,
        exception: exceptionOf(node, parents),
      });
    }
    parents.push(node);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'loc' || key.endsWith('Comments') || key === 'extra') continue;
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child, parents);
      } else if (isNode(value)) visit(value, parents);
    }
    parents.pop();
  };
  visit(ast, []);
  return found;
}

/** What in one file breaks the rule, or states a reason it no longer needs. */
export function sizeFindings(file: string, source: string): SizeFinding[] {
  const findings: SizeFinding[] = [];
  const lines = lineCount(source);
  const fileException = FILE_EXCEPTION.exec(source);
  if (lines > MAX_FILE_LINES && !fileException) {
    findings.push({ file, where: 'file', lines, problem: 'file over 600 lines' });
  }
  if (lines <= MAX_FILE_LINES && fileException) {
    findings.push({ file, where: 'file', lines, problem: 'exception no longer needed' });
  }
  for (const fn of measureFunctions(file, source)) {
    const where = `${fn.name}@${fn.line}`;
    if (fn.lines > MAX_FUNCTION_LINES && !fn.exception) {
      findings.push({ file, where, lines: fn.lines, problem: 'function over 120 lines' });
    }
    if (fn.lines <= MAX_FUNCTION_LINES && fn.exception) {
      findings.push({ file, where, lines: fn.lines, problem: 'exception no longer needed' });
    }
  }
  return findings;
}

/** The files and functions over the limits, with or without a stated reason (what the log in docs/perf lists). */
export function oversized(
  file: string,
  source: string,
): { file: string; where: string; lines: number; reason: string | null }[] {
  const out: { file: string; where: string; lines: number; reason: string | null }[] = [];
  const lines = lineCount(source);
  if (lines > MAX_FILE_LINES) {
    out.push({ file, where: 'file', lines, reason: FILE_EXCEPTION.exec(source)?.[1]?.trim() ?? null });
  }
  for (const fn of measureFunctions(file, source)) {
    if (fn.lines > MAX_FUNCTION_LINES)
      out.push({ file, where: `${fn.name}@${fn.line}`, lines: fn.lines, reason: fn.exception });
  }
  return out;
}
