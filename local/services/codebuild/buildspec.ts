import { parse as parseYaml } from 'yaml';
import { BuildspecError } from './errors';

/**
 * Buildspec version 0.2, as the local build runner reads it: `env` (variables, exported-variables, shell),
 * `phases` (install, pre_build, build, post_build, each with `commands`, `finally` and `on-failure`), `reports`
 * (JUnit XML) and `artifacts` (files, base-directory, discard-paths, exclude-paths). What cannot run here
 * (`parameter-store`, `secrets-manager`, `runtime-versions`, `run-as`) is noted, not failed on: the build log says
 * that the machine's own tools and environment are used instead.
 */

export const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type PhaseName = (typeof PHASES)[number];

/** CodeBuild's name of a buildspec phase. */
export const PHASE_TYPE: Readonly<Record<PhaseName, string>> = {
  install: 'INSTALL',
  pre_build: 'PRE_BUILD',
  build: 'BUILD',
  post_build: 'POST_BUILD',
};

export interface PhaseSpec {
  readonly commands: readonly string[];
  readonly finally: readonly string[];
  /** Unset: CodeBuild's default transitions (see runner.ts). */
  readonly onFailure: 'ABORT' | 'CONTINUE' | undefined;
}

export interface ReportGroupSpec {
  readonly name: string;
  readonly files: readonly string[];
  readonly baseDirectory: string;
  readonly discardPaths: boolean;
  readonly fileFormat: string;
}

export interface ArtifactsSpec {
  readonly files: readonly string[];
  readonly baseDirectory: string;
  readonly discardPaths: boolean;
  readonly excludePaths: readonly string[];
  readonly name: string | null;
}

export interface Buildspec {
  readonly version: string;
  readonly shell: string;
  readonly variables: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
  readonly phases: Readonly<Partial<Record<PhaseName, PhaseSpec>>>;
  readonly reports: readonly ReportGroupSpec[];
  readonly artifacts: ArtifactsSpec | null;
  /** Lines for the build log: what this buildspec asks for that the local runner does not do. */
  readonly notes: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function yes(value: unknown): boolean {
  return value === true || value === 'yes' || value === 'true';
}

function list(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BuildspecError(`${where} must be a list`);
  return value.map((item, i) => {
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new BuildspecError(`${where}[${i}] must be a string`);
  });
}

/** Reads a buildspec (YAML or JSON text). Throws BuildspecError naming the field at fault. */
export function parseBuildspec(text: string, source = 'buildspec'): Buildspec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new BuildspecError(`${source}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw new BuildspecError(`${source}: a buildspec is a YAML mapping with version and phases`);
  const version = scalar(doc['version']);
  if (version !== '0.2' && version !== '0.1') {
    throw new BuildspecError(`${source}: version must be 0.2, got ${JSON.stringify(doc['version'] ?? null)}`);
  }
  const notes: string[] = [];
  if (version === '0.1') notes.push('buildspec version 0.1: run as 0.2 (variables persist across commands)');
  const env = doc['env'] === undefined ? {} : doc['env'];
  if (!isRecord(env)) throw new BuildspecError(`${source}: env must be a mapping`);
  const variablesRaw = env['variables'] ?? {};
  if (!isRecord(variablesRaw)) throw new BuildspecError(`${source}: env.variables must be a mapping`);
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(variablesRaw)) variables[name] = scalar(value);
  for (const unsupported of ['parameter-store', 'secrets-manager']) {
    if (env[unsupported] !== undefined) {
      notes.push(
        `env.${unsupported} is not available locally: set those variables in the runtime's environment instead`,
      );
    }
  }
  if (doc['run-as'] !== undefined || env['run-as'] !== undefined) {
    notes.push('run-as is ignored locally: commands run as the runtime user');
  }
  const shell = scalar(env['shell'] ?? 'bash') || 'bash';
  const phasesRaw = doc['phases'];
  if (!isRecord(phasesRaw)) throw new BuildspecError(`${source}: phases is required and must be a mapping`);
  const phases: Partial<Record<PhaseName, PhaseSpec>> = {};
  for (const [key, value] of Object.entries(phasesRaw)) {
    if (!(PHASES as readonly string[]).includes(key)) {
      throw new BuildspecError(`${source}: phases.${key} is not a phase (install, pre_build, build, post_build)`);
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) throw new BuildspecError(`${source}: phases.${key} must be a mapping`);
    const onFailureRaw = value['on-failure'];
    let onFailure: PhaseSpec['onFailure'];
    if (onFailureRaw !== undefined) {
      const word = scalar(onFailureRaw).toUpperCase();
      if (word !== 'ABORT' && word !== 'CONTINUE') {
        throw new BuildspecError(`${source}: phases.${key}.on-failure must be ABORT or CONTINUE, got ${word}`);
      }
      onFailure = word;
    }
    if (value['runtime-versions'] !== undefined) {
      notes.push(`phases.${key}.runtime-versions is ignored locally: the machine's installed tools are used`);
    }
    phases[key as PhaseName] = {
      commands: list(value['commands'], `${source}: phases.${key}.commands`),
      finally: list(value['finally'], `${source}: phases.${key}.finally`),
      onFailure,
    };
  }
  const reports: ReportGroupSpec[] = [];
  const reportsRaw = doc['reports'];
  if (reportsRaw !== undefined && reportsRaw !== null) {
    if (!isRecord(reportsRaw)) throw new BuildspecError(`${source}: reports must be a mapping of report groups`);
    for (const [name, value] of Object.entries(reportsRaw)) {
      if (!isRecord(value)) throw new BuildspecError(`${source}: reports.${name} must be a mapping`);
      reports.push({
        name,
        files: list(value['files'], `${source}: reports.${name}.files`),
        baseDirectory: scalar(value['base-directory'] ?? '.') || '.',
        discardPaths: yes(value['discard-paths']),
        fileFormat: (scalar(value['file-format'] ?? 'JUNITXML') || 'JUNITXML').toUpperCase(),
      });
    }
  }
  let artifacts: ArtifactsSpec | null = null;
  const artifactsRaw = doc['artifacts'];
  if (artifactsRaw !== undefined && artifactsRaw !== null) {
    if (!isRecord(artifactsRaw)) throw new BuildspecError(`${source}: artifacts must be a mapping`);
    artifacts = {
      files: list(artifactsRaw['files'], `${source}: artifacts.files`),
      baseDirectory: scalar(artifactsRaw['base-directory'] ?? '.') || '.',
      discardPaths: yes(artifactsRaw['discard-paths']),
      excludePaths: list(artifactsRaw['exclude-paths'], `${source}: artifacts.exclude-paths`),
      name: artifactsRaw['name'] === undefined ? null : scalar(artifactsRaw['name']),
    };
  }
  return {
    version,
    shell,
    variables,
    exportedVariables: list(env['exported-variables'], `${source}: env.exported-variables`),
    phases,
    reports,
    artifacts,
    notes,
  };
}

/**
 * Whether a `buildspecOverride` is the buildspec itself (inline YAML) or a path in the source: CodeBuild takes
 * either. Inline text has a line break or a `version:` key; anything else is a path.
 */
export function isInlineBuildspec(value: string): boolean {
  return value.includes('\n') || /^\s*\{/.test(value) || /^\s*version\s*:/.test(value);
}
