import { builtinModules } from 'node:module';
import { posix } from 'node:path';

/**
 * The import graph of the repository's own code, from the import specifiers in its source. The `typescript` package
 * here is the native 7.x, with no JavaScript API to ask for the graph; this reads what the rules need, and no more:
 * every `import … from`, `export … from`, side-effect `import '…'`, `import('…')` (also as a type, `typeof
 * import('…')`) and `require('…')` whose specifier is a plain string, with whether it is type-only (TypeScript
 * erases it). Comments, strings, template literals and regular expressions are skipped, so a specifier inside a
 * string (an esbuild script, a message) is never taken for an import.
 */

export interface ImportEdge {
  /** The specifier as written. */
  readonly specifier: string;
  /** `import type`, `export type`, every named import marked `type`, or `typeof import('…')`: erased at run time. */
  readonly typeOnly: boolean;
}

/** What an import reaches: a file of the repository, a package, or a Node.js built-in. */
export type ImportTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'package'; readonly name: string }
  | { readonly kind: 'builtin'; readonly name: string }
  | { readonly kind: 'unresolved'; readonly specifier: string };

export interface ResolvedImport extends ImportEdge {
  readonly from: string;
  readonly target: ImportTarget;
}

/** The module id a rule matches: a repository path (`core/x.ts`), a package name, or `node:<name>`. */
export function targetId(target: ImportTarget): string {
  switch (target.kind) {
    case 'file':
      return target.path;
    case 'package':
    case 'builtin':
      return target.name;
    case 'unresolved':
      return `unresolved:${target.specifier}`;
  }
}

const KEYWORDS_BEFORE_REGEX = new Set(['return', 'typeof', 'case', 'in', 'of', 'delete', 'void', 'throw', 'new', 'do']);
const PUNCTUATION_BEFORE_REGEX = new Set([...'(,=:[!&|?{};+-*%<>~^']);

/**
 * The code with comments blanked and every string or template chunk replaced by `\u0000<n>\u0000`, its text kept in
 * `strings[n]`. Regular expression literals are blanked. Lengths are not kept: only the token order matters.
 */
export function maskSource(source: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let code = '';
  let i = 0;
  // Brace depth of each template literal's open `${`, innermost last.
  const templates: number[] = [];
  let depth = 0;
  const previousSignificant = (): string => {
    const trimmed = code.trimEnd();
    const word = /([A-Za-z_$][\w$]*)$/.exec(trimmed);
    return word ? (word[1] as string) : trimmed.slice(-1);
  };
  const readTemplateChunk = (): void => {
    // At the character after "`" or after the "}" closing a `${`: read up to "`" or "${".
    let text = '';
    while (i < source.length) {
      const c = source[i] as string;
      if (c === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        i++;
        strings.push(text);
        code += `\u0000${strings.length - 1}\u0000`;
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        strings.push(text);
        code += `\u0000${strings.length - 1}\u0000\${`;
        templates.push(depth);
        depth++;
        return;
      } else {
        text += c;
        i++;
      }
    }
  };
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 2;
      code += ' ';
    } else if (c === "'" || c === '"') {
      let text = '';
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          text += source.slice(i, i + 2);
          i += 2;
        } else {
          text += source[i];
          i++;
        }
      }
      i++;
      strings.push(text);
      code += `\u0000${strings.length - 1}\u0000`;
    } else if (c === '`') {
      i++;
      readTemplateChunk();
    } else if (c === '{') {
      depth++;
      code += c;
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        code += '}';
        readTemplateChunk();
      } else {
        code += c;
      }
    } else if (c === '/') {
      const before = previousSignificant();
      if (before === '' || PUNCTUATION_BEFORE_REGEX.has(before) || KEYWORDS_BEFORE_REGEX.has(before)) {
        // A regular expression literal: skip it, with its character classes and flags.
        i++;
        let inClass = false;
        while (i < source.length && source[i] !== '\n') {
          const r = source[i];
          if (r === '\\') i++;
          else if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
          i++;
        }
        i++;
        while (i < source.length && /[a-z]/.test(source[i] as string)) i++;
        code += ' /regex/ ';
      } else {
        code += c;
        i++;
      }
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

const STRING = '\\u0000(\\d+)\\u0000';
const STATIC_FORMS: readonly { readonly pattern: RegExp; readonly typeOnly: (match: RegExpExecArray) => boolean }[] = [
  {
    // import X from '…'; import { a, type b } from '…'; import * as X from '…'; import type … from '…'
    pattern: new RegExp(`(?<![\\w$.])import\\s+(type\\s+)?([\\w$*{}\\s,]*?)\\s*from\\s*${STRING}`, 'g'),
    typeOnly: (m) => Boolean(m[1]) || allNamesAreTypes(m[2] as string),
  },
  {
    // export * from '…'; export { a } from '…'; export type { a } from '…'
    pattern: new RegExp(
      `(?<![\\w$.])export\\s+(type\\s+)?(\\*(?:\\s+as\\s+[\\w$]+)?|\\{[^}]*\\})\\s*from\\s*${STRING}`,
      'g',
    ),
    typeOnly: (m) => Boolean(m[1]) || allNamesAreTypes(m[2] as string),
  },
  { pattern: new RegExp(`(?<![\\w$.])import\\s*${STRING}`, 'g'), typeOnly: () => false },
];
const CALL_FORMS: readonly RegExp[] = [
  new RegExp(`(?<![\\w$.])(?<typeOf>typeof\\s+)?import\\s*\\(\\s*${STRING}\\s*\\)`, 'g'),
  new RegExp(`(?<![\\w$.])require\\s*\\(\\s*${STRING}\\s*\\)`, 'g'),
];

/** `{ type A, type B }` (every name a type), as opposed to `X, { type A }` or `{ A }`. */
function allNamesAreTypes(clause: string): boolean {
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  if (!braces) return false;
  const names = (braces[1] as string)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((name) => name.startsWith('type '));
}

/** The imports of one source file, in the order they appear. */
export function importsOf(source: string): ImportEdge[] {
  const { code, strings } = maskSource(source);
  const found: { index: number; edge: ImportEdge }[] = [];
  for (const form of STATIC_FORMS) {
    for (const match of code.matchAll(form.pattern)) {
      const specifier = strings[Number(match[match.length - 1])] as string;
      found.push({ index: match.index, edge: { specifier, typeOnly: form.typeOnly(match) } });
    }
  }
  for (const pattern of CALL_FORMS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = strings[Number(match[match.length - 1])] as string;
      const before = code.slice(0, match.index).trimEnd().slice(-1);
      const typeOnly = Boolean(match.groups?.['typeOf']) || (match[0].startsWith('import') && /[:<|&]/.test(before));
      found.push({ index: match.index, edge: { specifier, typeOnly } });
    }
  }
  return found.sort((a, b) => a.index - b.index).map((f) => f.edge);
}

const BUILTINS = new Set(builtinModules);
const EXTENSIONS = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.cjs', '.mjs', '.json', '/index.ts', '/index.tsx'];

/** What `specifier`, imported from the repository file `from`, reaches, given the repository's files. */
export function resolveImport(from: string, specifier: string, files: ReadonlySet<string>): ImportTarget {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const base = posix.normalize(posix.join(posix.dirname(from), specifier));
    const candidates = EXTENSIONS.map((ext) => base + ext);
    // A `.js` specifier may name the `.ts` file (ESM-style imports of TypeScript).
    if (/\.[cm]?js$/.test(base)) candidates.push(base.replace(/\.([cm]?)js$/, '.$1ts'));
    const path = candidates.find((candidate) => files.has(candidate));
    return path ? { kind: 'file', path } : { kind: 'unresolved', specifier };
  }
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  const root = bare.split('/')[0] as string;
  if (specifier.startsWith('node:') || BUILTINS.has(bare) || BUILTINS.has(root)) {
    return { kind: 'builtin', name: `node:${root}` };
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
  return { kind: 'package', name };
}

/**
 * The resolved imports of every file, given each file's source (paths relative to the repository, with `/`) and
 * the files that exist besides (stylesheets, JSON), which an import may name too.
 */
export function importGraph(sources: ReadonlyMap<string, string>, others: Iterable<string> = []): ResolvedImport[] {
  const files = new Set([...sources.keys(), ...others]);
  const graph: ResolvedImport[] = [];
  for (const [from, source] of sources) {
    for (const edge of importsOf(source)) {
      graph.push({ from, ...edge, target: resolveImport(from, edge.specifier, files) });
    }
  }
  return graph;
}
