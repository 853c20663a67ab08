import { describe, expect, it } from 'vitest';
import { Terminal } from '../../../local/demo/terminal';

function capture(isTTY: boolean): {
  output: { isTTY: boolean; columns: number; write(text: string): boolean };
  text(): string;
} {
  const chunks: string[] = [];
  return {
    output: { isTTY, columns: 60, write: (text: string) => chunks.push(text) > 0 },
    text: () => chunks.join(''),
  };
}

describe('Terminal', () => {
  it('writes plain lines, with no status line and no escape codes, when the output is not a TTY', () => {
    // Prepare
    const sink = capture(false);
    const terminal = new Terminal(sink.output);
    // Act
    terminal.status('build: BUILD');
    terminal.line(terminal.paint('ok', 'done'));
    terminal.close();
    // Assess
    expect(sink.text()).toBe('done\n');
  });

  it('on a TTY, clears the status line before a line and draws it again after', () => {
    // Prepare
    const sink = capture(true);
    const terminal = new Terminal(sink.output, { color: false, frameMs: 60_000 });
    // Act
    terminal.status('build: BUILD');
    terminal.line('build ok');
    terminal.close();
    // Assess
    const text = sink.text();
    expect(text.indexOf('build: BUILD')).toBeLessThan(text.indexOf('\r\u001b[2Kbuild ok\n'));
    const after = text.slice(text.indexOf('build ok\n') + 'build ok\n'.length);
    expect(after.startsWith('⠋ build: BUILD (0.')).toBe(true);
    expect(after.endsWith('s)\r\u001b[2K')).toBe(true);
  });

  it('cuts a status line to the width of the terminal', () => {
    // Prepare
    const sink = capture(true);
    const terminal = new Terminal(sink.output, { color: false, frameMs: 60_000 });
    // Act
    terminal.status('x'.repeat(200));
    terminal.close();
    // Assess
    const drawn = sink.text().split('\r\u001b[2K')[0] ?? '';
    expect([...drawn].length).toBe(59);
    expect(drawn.endsWith('…')).toBe(true);
  });

  it('paints in colour only on a TTY and only when NO_COLOR is not asked for', () => {
    // Prepare
    const plain = new Terminal(capture(false).output);
    const coloured = new Terminal(capture(true).output, { color: true });
    const refused = new Terminal(capture(true).output, { color: false });
    // Act & Assess
    expect(plain.paint('fail', 'x')).toBe('x');
    expect(coloured.paint('fail', 'x')).toBe('\u001b[31mx\u001b[39m');
    expect(refused.paint('fail', 'x')).toBe('x');
  });
});
