import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLayers } from './check';
import { lineCount, measureFunctions, SIZED_LAYERS, type SizeFinding, sizeFindings } from './sizes';

const ROOT = resolve(__dirname, '..', '..');

const describeFinding = (f: SizeFinding): string => `${f.file} ${f.where}: ${f.problem} (${f.lines} lines)`;

/** A function of `body` lines in all, its first and last included. */
const functionOf = (name: string, lines: number, above = ''): string =>
  `${above}export function ${name}(): number {\n${'  void 0;\n'.repeat(lines - 3)}  return 1;\n}\n`;

describe('the size rule (files ≤ 600 lines, functions ≤ 120, else the file says why)', () => {
  it('holds in core/, functions/, adapters/ and local/', () => {
    // Prepare
    const { sources } = readLayers(ROOT);
    const sized = [...sources].filter(([file]) => SIZED_LAYERS.some((layer) => file.startsWith(`${layer}/`)));

    // Act
    const findings = sized.flatMap(([file, source]) => sizeFindings(file, source));

    // Assess
    expect(sized.length).toBeGreaterThan(300);
    expect(findings.map(describeFinding)).toEqual([]);
  });

  it('measures every function form from the syntax tree, nested ones inside their outer one', () => {
    // Prepare
    const source = [
      'export class Desk {', //                        1
      '  constructor(private readonly x: number) {}', // 2
      '  get total(): number {', //                    3
      '    return this.x;', //                         4
      '  }', //                                        5
      '  decide = async (id: string) => {', //         6
      '    const inner = function named() {', //       7
      "      return '}'; // a brace in a string", //   8
      '    };', //                                     9
      '    return inner() + id;', //                   10
      '  };', //                                       11
      '}', //                                          12
      'const handlers = { open(a: Array<number>) { return a.length; } };', // 13
      'export default handlers;', //                   14
    ].join('\n');

    // Act
    const found = measureFunctions('local/planted.ts', source).map((f) => `${f.name}@${f.line}:${f.lines}`);

    // Assess
    expect(found).toEqual(['constructor@2:1', 'get total@3:3', 'decide@6:6', 'named@7:3', 'open@13:1']);
  });

  it('fails on a planted 121-line function and a 601-line file, and passes once each says why', () => {
    // Prepare
    const long = functionOf('tooLong', 121);
    const padding = (n: number) => '// filler\n'.repeat(n);
    const bigFile = long + padding(601 - lineCount(long));
    const stated =
      '// size-exception(file): the generated table of every AWS error code, kept as one file\n' +
      functionOf(
        'tooLong',
        121,
        '/** size-exception(function): one switch over the ASL state types, read top to bottom */\n',
      ) +
      padding(600 - lineCount(long));

    // Act
    const planted = sizeFindings('local/planted.ts', bigFile).map(describeFinding);
    const explained = sizeFindings('local/planted.ts', stated).map(describeFinding);
    const justUnder = sizeFindings('local/planted.ts', functionOf('fits', 120)).map(describeFinding);

    // Assess
    expect(planted).toEqual([
      'local/planted.ts file: file over 600 lines (601 lines)',
      'local/planted.ts tooLong@1: function over 120 lines (121 lines)',
    ]);
    expect(explained).toEqual([]);
    expect(justUnder).toEqual([]);
  });

  it('reports a stated reason that is no longer needed, and takes no reason of a word or two', () => {
    // Prepare
    const stale =
      '// size-exception(file): the generated table of every AWS error code, kept as one file\n' +
      functionOf('short', 10, '// size-exception(function): it was long once, before the split\n');
    const terse = functionOf('tooLong', 130, '// size-exception(function): long\n');

    // Act
    const found = [...sizeFindings('local/a.ts', stale), ...sizeFindings('local/b.ts', terse)].map(describeFinding);

    // Assess
    expect(found).toEqual([
      'local/a.ts file: exception no longer needed (12 lines)',
      'local/a.ts short@3: exception no longer needed (10 lines)',
      'local/b.ts tooLong@2: function over 120 lines (130 lines)',
    ]);
  });
});
