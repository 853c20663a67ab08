import { SteplineError } from '../../../core/errors';

/** Errors of the local CodeBuild. `code` is the CodeBuild API error code an HTTP layer answers with. */
export class CodeBuildError extends SteplineError {
  public readonly code: string;

  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CodeBuildError';
    this.code = code;
  }
}

/** The request names a project, build or token that does not exist (`ResourceNotFoundException`). */
export class BuildResourceNotFoundError extends CodeBuildError {
  public constructor(message: string, options?: ErrorOptions) {
    super('ResourceNotFoundException', message, options);
    this.name = 'BuildResourceNotFoundError';
  }
}

/** The request is not valid (`InvalidInputException`). */
export class BuildInputError extends CodeBuildError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidInputException', message, options);
    this.name = 'BuildInputError';
  }
}

/** A buildspec that cannot be read: the build fails in DOWNLOAD_SOURCE with a `YAML_FILE_ERROR` context. */
export class BuildspecError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BuildspecError';
  }
}
