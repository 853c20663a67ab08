import { describe, expect, it } from 'vitest';
import { readConfigJson } from '../../../core/config/json';
import { ConfigError } from '../../../core/errors';

function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('reading the JSON of a configuration', () => {
  it.each([
    [
      'a property name without quotes',
      '{\n  "version": 1,\n  repositories: []\n}',
      3,
      3,
      /^expected double-quoted property name$/,
    ],
    [
      'a missing comma',
      '{\n  "version": 1\n  "repositories": []\n}',
      3,
      3,
      /^expected ',' or '}' after property value$/,
    ],
    ['a document cut short', '{ "version": 1,', 1, 16, /^expected double-quoted property name$/],
    ['an empty file', '', 1, 1, /^the text ends before the document does$/],
    ['text after the document', '{}\n}', 2, 1, /^unexpected non-whitespace character after JSON$/],
  ])('names the line and column of %s', (_name, text, line, column, reason) => {
    // Act
    const error = thrown(() => readConfigJson(text, 'stepline.config.json'));

    // Assess
    const [first] = error.message.split('\n');
    expect(first).toMatch(
      new RegExp(
        `^invalid Stepline configuration in stepline\\.config\\.json: not JSON at line ${line}, column ${column}: `,
      ),
    );
    expect(first?.replace(/^.*?column \d+: /, '')).toMatch(reason);
    expect(error.message).not.toMatch(/position \d+/);
  });

  it('shows the line with a caret under the column', () => {
    // Act
    const error = thrown(() => readConfigJson('{\n  "version": 1,\n  repositories: []\n}', 'x.json'));

    // Assess
    expect(error.message.split('\n').slice(1)).toEqual(['  3 |   repositories: []', '    |   ^']);
  });

  it('answers the document when the text is JSON', () => {
    // Act
    const value = readConfigJson('{"version": 1}', 'x.json');

    // Assess
    expect(value).toEqual({ version: 1 });
  });
});
