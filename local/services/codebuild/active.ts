import type { ChildProcess } from 'node:child_process';
import type { BuildDocument, PhaseContext } from './shapes';
import type { ShellState } from './shell';

/** A build while it runs: what the phases, the runner and the service share. */
export interface ActiveBuild {
  doc: BuildDocument;
  readonly done: Promise<BuildDocument>;
  resolve: (doc: BuildDocument) => void;
  child: ChildProcess | null;
  stopRequested: boolean;
  timedOut: boolean;
  readonly workDir: string;
  readonly state: ShellState;
  /** The buildspec's exported variables, once it is read. */
  exportedNames: readonly string[];
}

/** Why a command or phase ended, as CodeBuild's contexts say it. */
export type Ending =
  | { kind: 'ok' }
  | { kind: 'failed'; context: PhaseContext }
  | { kind: 'stopped' }
  | { kind: 'timedOut' };

/** A time as CodeBuild's log lines write it: `2026/12/05 07:25:54.123`, UTC. */
export function isoLog(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** A variable of the build's environment (the project's and the StartBuild overrides). */
export function variableOf(build: ActiveBuild, name: string): string | undefined {
  return build.doc.environment.environmentVariables.find((v) => v.name === name)?.value;
}

/** The id of a build given as an id or an ARN. */
export function bareBuildId(id: string): string {
  return id.includes(':build/') ? id.slice(id.indexOf(':build/') + 7) : id;
}
