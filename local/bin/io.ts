/** What the command modules of local/bin need of the CLI (local/cli.ts builds it): HTTP, output, usage errors. */

export type Flags = Record<string, string | boolean | undefined>;

export interface CliIo {
  /** A JSON request to the running runtime; answers the body (a refusal with a message throws). */
  api(path: string, init?: { method?: string; body?: unknown }): Promise<Record<string, unknown>>;
  /** One line on standard output. */
  out(line?: string): void;
  /** A usage error (exit code 2) with this message. */
  usage(message: string): Error;
  /** An execution's ARN from its name or ARN. */
  executionArnOf(ref: string | undefined): Promise<string>;
  /** The runtime's URL. */
  baseUrl(): string;
}
