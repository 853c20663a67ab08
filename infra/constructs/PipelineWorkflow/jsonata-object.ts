import { DefinitionError } from '../../errors';

/**
 * The fields of a Task's `Arguments` written as one JSONata object, `"{% {'ProjectName': ..., 'Other': ...} %}"`:
 * the form that leaves a field out when its value is nothing (an Arguments *object* whose field evaluates to
 * nothing fails the state, ADR 0064). The role derivation reads the Task's target from it, as text: the top-level
 * `'key': value` pairs of the object constructor, with quotes, brackets and comments skipped. Anything else is not
 * read, and the caller refuses the Task.
 */

/** The top-level fields of a JSONata object constructor, each as the text of its value; null when not one. */
export function jsonataObjectFields(expression: string): Map<string, string> | null {
  const body = /^\{%([\s\S]*)%\}$/.exec(expression.trim())?.[1]?.trim();
  if (!body?.startsWith('{') || !body.endsWith('}')) return null;
  const inner = withoutComments(body.slice(1, -1));
  const parts = inner === null ? null : topLevelParts(inner);
  if (parts === null) return null;
  const fields = new Map<string, string>();
  for (const part of parts) {
    const field = /^\s*(['"])((?:(?!\1)[^\\]|\\.)*)\1\s*:([\s\S]*)$/.exec(part);
    if (!field) return null;
    fields.set(field[2] as string, (field[3] as string).trim());
  }
  return fields;
}

/** Splits `text` at its commas of depth 0; null when its quotes or brackets do not balance. */
function topLevelParts(text: string): string[] | null {
  const parts: string[] = [];
  const closing: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(text, i);
      if (i < 0) return null;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') closing.push(c === '(' ? ')' : c === '[' ? ']' : '}');
    else if (c === ')' || c === ']' || c === '}') {
      if (closing.pop() !== c) return null;
    } else if (c === ',' && closing.length === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  if (closing.length > 0) return null;
  const last = text.slice(start);
  if (last.trim() !== '' || parts.length > 0) parts.push(last);
  return parts.filter((part) => part.trim() !== '');
}

/** `text` with its `/* ... *\/` comments (outside quotes) blanked; null when a quote or comment does not end. */
function withoutComments(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(text, i);
      if (end < 0) return null;
      out += text.slice(i, end);
      i = end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return null;
      out += ' ';
      i = end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index after the quoted string that starts at `start`; -1 when it does not end. */
function skipQuoted(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  return -1;
}

/** A field's value when it is one quoted name: `'stepline-build'`; undefined otherwise. */
export function quotedName(value: string): string | undefined {
  return /^'([^'\\]+)'$/.exec(value.trim())?.[1];
}

/** Refuses an `Arguments` expression whose fields cannot be read. */
export function unreadableArguments(where: string): DefinitionError {
  return new DefinitionError(
    `${where}: its Arguments are a JSONata expression whose fields cannot be read; write them as one object ` +
      `constructor, "{% {'Key': value, ...} %}", naming the target with a \${Placeholder}`,
  );
}
