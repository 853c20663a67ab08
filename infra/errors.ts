import { SteplineError } from '../core/errors';

/** The CDK app cannot be built as configured: a file it refers to is missing or a definition cannot be deployed. */
export class InfraError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** A Lambda entry point (`functions/<name>/index.ts`) or a workflow definition file does not exist. */
export class MissingFileError extends InfraError {
  /** The path as the project names it, relative to the project root (`functions/deploy/index.ts`). */
  public readonly relativePath: string;

  public constructor(relativePath: string, absolutePath: string, options?: ErrorOptions) {
    super(`${relativePath} not found: ${absolutePath}`, options);
    this.name = 'MissingFileError';
    this.relativePath = relativePath;
  }
}

/** A workflow definition that cannot be deployed as it is: bad JSON, a placeholder nobody fills, a Task whose permissions cannot be derived. */
export class DefinitionError extends InfraError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DefinitionError';
  }
}

/** Files the AWS app is built from do not exist: Lambda entry points (`functions/<name>/index.ts`), the workflow definition. */
export class MissingFilesError extends InfraError {
  /** Each missing file as the project names it (`functions/deploy/index.ts`), with the construct that needs it. */
  public readonly missing: readonly { readonly file: string; readonly neededBy: string }[];

  public constructor(
    missing: readonly { readonly file: string; readonly neededBy: string }[],
    root: string,
    options?: ErrorOptions,
  ) {
    const list = missing.map((m) => `${m.file} (${m.neededBy})`).join(', ');
    super(
      `Stepline's AWS app cannot be synthesized: ${list} ${missing.length === 1 ? 'does' : 'do'} not exist under ` +
        `${root}. Every function's entry point and the workflow definition are part of the app.`,
      options,
    );
    this.name = 'MissingFilesError';
    this.missing = missing;
  }
}
