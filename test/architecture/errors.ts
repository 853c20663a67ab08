import { maskSource } from './imports';

/**
 * The error classes of the layers, read from their source: the one error hierarchy of `core/errors.ts`, as
 * Powertools keeps its own (`packages/idempotency/src/errors.ts`): every error class descends from `SteplineError`,
 * and each one sets its `name` and passes `ErrorOptions` (the cause) on to its base.
 */

/** One `class X extends Y { … }` of a layer. */
export interface ClassDeclaration {
  readonly file: string;
  readonly name: string;
  readonly base: string;
  readonly abstract: boolean;
  /** The class body, comments blanked and strings masked. */
  readonly body: string;
}

/** What a class of the hierarchy must do, and where it does not. */
export interface ErrorClassFinding {
  readonly file: string;
  readonly name: string;
  readonly problem: 'bypasses SteplineError' | 'sets no name' | 'passes no ErrorOptions';
}

/** JavaScript's own error classes: a class that reaches one of them without SteplineError bypasses the hierarchy. */
const BUILTIN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError']);
const ROOT = 'SteplineError';

const CLASS = /\b(abstract\s+)?class\s+([A-Za-z_$][\w$]*)\s*(?:<[^{]*?>)?\s+extends\s+([A-Za-z_$][\w$.]*)[^{]*\{/g;

/** Every class of `source` that extends another, with its body. */
export function classesOf(file: string, source: string): ClassDeclaration[] {
  const { code } = maskSource(source);
  const found: ClassDeclaration[] = [];
  for (const match of code.matchAll(CLASS)) {
    const open = match.index + match[0].length - 1;
    let depth = 0;
    let end = open;
    for (; end < code.length; end += 1) {
      if (code[end] === '{') depth += 1;
      else if (code[end] === '}') {
        depth -= 1;
        if (depth === 0) break;
      }
    }
    found.push({
      file,
      name: match[2] as string,
      base: match[3] as string,
      abstract: Boolean(match[1]),
      body: code.slice(open, end + 1),
    });
  }
  return found;
}

/**
 * The classes of `sources` that are errors (their chain of bases reaches one of JavaScript's error classes), each
 * with what it does wrong. Bases are resolved by name across the layers: two error classes of one name are held to
 * the same rules, so a name that resolves to either is good enough here.
 */
export function errorClassFindings(sources: ReadonlyMap<string, string>): {
  errors: ClassDeclaration[];
  findings: ErrorClassFinding[];
} {
  const classes = [...sources].flatMap(([file, source]) => classesOf(file, source));
  const byName = new Map<string, ClassDeclaration[]>();
  for (const declaration of classes)
    byName.set(declaration.name, [...(byName.get(declaration.name) ?? []), declaration]);

  /** The chain of base names above `declaration`, up to a class the layers do not declare. */
  const chain = (declaration: ClassDeclaration): string[] => {
    const names: string[] = [];
    let base: string | undefined = declaration.base;
    while (base && !names.includes(base)) {
      names.push(base);
      if (base === ROOT) break;
      base = byName.get(base)?.[0]?.base;
    }
    return names;
  };

  const errors = classes.filter((declaration) => {
    const bases = chain(declaration);
    return declaration.name === ROOT || bases.includes(ROOT) || BUILTIN_ERRORS.has(bases.at(-1) ?? '');
  });
  const findings: ErrorClassFinding[] = [];
  for (const declaration of errors) {
    if (declaration.name === ROOT) continue;
    const where = { file: declaration.file, name: declaration.name };
    if (!chain(declaration).includes(ROOT)) findings.push({ ...where, problem: 'bypasses SteplineError' });
    if (!declaration.abstract && !/\bthis\.name\s*=/.test(declaration.body)) {
      findings.push({ ...where, problem: 'sets no name' });
    }
    if (!/\bErrorOptions\b/.test(declaration.body)) findings.push({ ...where, problem: 'passes no ErrorOptions' });
  }
  return { errors, findings };
}
