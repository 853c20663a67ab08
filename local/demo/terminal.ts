/**
 * Where the demo writes: lines that stay, and (on a terminal) one status line at the bottom that is redrawn in
 * place with a spinner and the time spent so far. When the output is not a TTY (a pipe, a file, CI), there is no
 * status line, no colour and no control character: plain lines only.
 */

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export type Tone = 'ok' | 'fail' | 'warn' | 'dim' | 'bold' | 'accent';

const CODES: Readonly<Record<Tone, [number, number]>> = {
  ok: [32, 39],
  fail: [31, 39],
  warn: [33, 39],
  dim: [2, 22],
  bold: [1, 22],
  accent: [36, 39],
};

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface TerminalOptions {
  /** Draw the status line and use colour. Default: whether `output` is a TTY. */
  readonly tty?: boolean;
  /** Use colour (only on a TTY). Default: unless `NO_COLOR` is set. */
  readonly color?: boolean;
  /** Milliseconds between two redraws of the status line. */
  readonly frameMs?: number;
}

export class Terminal {
  public readonly tty: boolean;
  private readonly color: boolean;
  private statusText: string | null = null;
  private statusSince = 0;
  private frame = 0;
  private drawn = false;
  private timer: NodeJS.Timeout | null = null;

  public constructor(
    private readonly output: Output,
    private readonly options: TerminalOptions = {},
  ) {
    this.tty = options.tty ?? output.isTTY === true;
    this.color = this.tty && (options.color ?? !process.env['NO_COLOR']);
  }

  /** `text` in `tone` where colour is on, else as it is. */
  public paint(tone: Tone, text: string): string {
    if (!this.color || text === '') return text;
    const [open, close] = CODES[tone];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** A line that stays. */
  public line(text = ''): void {
    this.clearStatus();
    this.output.write(`${text}\n`);
    this.drawStatus();
  }

  /** The status line (a TTY only): what is running now. `null` removes it. */
  public status(text: string | null): void {
    if (!this.tty) return;
    if (text !== this.statusText) this.statusSince = Date.now();
    this.statusText = text;
    if (text && !this.timer) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % SPINNER.length;
        this.clearStatus();
        this.drawStatus();
      }, this.options.frameMs ?? 100);
      this.timer.unref();
    }
    if (!text && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    this.clearStatus();
    this.drawStatus();
  }

  public close(): void {
    this.status(null);
  }

  private clearStatus(): void {
    if (!this.drawn) return;
    this.output.write('\r\u001b[2K');
    this.drawn = false;
  }

  private drawStatus(): void {
    if (!this.tty || !this.statusText) return;
    const seconds = ((Date.now() - this.statusSince) / 1000).toFixed(1);
    const width = Math.max(20, (this.output.columns || 100) - 1);
    const text = `${SPINNER[this.frame]} ${this.statusText} (${seconds}s)`;
    const cut = [...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text;
    this.output.write(this.paint('dim', cut));
    this.drawn = true;
  }
}
