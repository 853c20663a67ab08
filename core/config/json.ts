import { ConfigError } from '../errors';

/**
 * Parses the JSON text of a configuration document, without judging its content. Throws a `ConfigError` that
 * names the source, the line and column where the text stops being JSON, JSON's own reason, and that line with a
 * caret under the column, when the text is not JSON.
 */
export function readConfigJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const raw = cause instanceof Error ? cause.message : String(cause);
    const { reason, offset } = jsonErrorOf(raw, text);
    const where = lineAndColumn(text, offset);
    const lineText = (text.split(/\r?\n/)[where.line - 1] ?? '').replace(/\t/g, ' ');
    const gutter = String(where.line);
    const excerpt =
      lineText.trim() === ''
        ? ''
        : `\n  ${gutter} | ${lineText.slice(0, 200)}\n  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.min(where.column - 1, 200))}^`;
    throw new ConfigError(
      `invalid Stepline configuration in ${source}: not JSON at line ${where.line}, column ${where.column}: ${reason}${excerpt}`,
      [],
      { cause },
    );
  }
}

/**
 * JSON.parse's reason without its position, and the character offset it names (V8 says `… in JSON at position N`,
 * newer versions add `(line L column C)`; "Unexpected end of JSON input" names none: the end of the text).
 */
function jsonErrorOf(message: string, text: string): { reason: string; offset: number } {
  const position = /\s+(?:in JSON\s+)?at position (\d+)(?:\s+\(line \d+ column \d+\))?/.exec(message);
  const offset = position ? Number(position[1]) : text.length;
  const reason = (position ? message.replace(position[0], '') : message).replace(
    /^Unexpected end of JSON input$/,
    'the text ends before the document does',
  );
  return { reason: reason.charAt(0).toLowerCase() + reason.slice(1), offset: Math.min(offset, text.length) };
}

/** The 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
