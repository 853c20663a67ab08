/**
 * Where a status links to: the execution's page in the AWS console, or in the local console that `npm start`
 * serves. One helper so that the status functions, the approval page and the CLI print the same links.
 */
export type ConsoleTarget =
  | { readonly kind: 'aws'; readonly region: string }
  | { readonly kind: 'local'; readonly baseUrl: string };

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** The path of the platform's short link to a run, below its base URL: `<base>/runs/<execution name>`. */
export const RUN_LINK_PATH = '/runs';

/** An execution's name: the last part of its ARN (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`). */
export function executionNameOf(executionArn: string): string | null {
  const parts = executionArn.split(':');
  if (parts.length !== 8 || parts[0] !== 'arn' || parts[5] !== 'execution' || !parts[7]) return null;
  return parts[7];
}

/** The ARN of a state machine's execution of that name (the redirect route's inverse of `executionNameOf`). */
export function executionArnOf(stateMachineArn: string, name: string): string | null {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[0] !== 'arn' || parts[5] !== 'stateMachine' || !parts[6]) return null;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) return null;
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

export interface ConsoleLinkOptions {
  /**
   * The base URL of the platform's redirect route (`GET <base>/runs/{name}` answers 302 to the execution's page),
   * for hosts whose limit a console link can pass: GitLab takes a `target_url` of at most 255 characters, and an
   * AWS console link reaches 259 with an 80-character execution name. Null: no short links.
   */
  readonly runLinkBaseUrl?: string | null;
}

export class ConsoleLinks {
  public readonly target: ConsoleTarget;
  public readonly runLinkBaseUrl: string | null;

  public constructor(target: ConsoleTarget, options: ConsoleLinkOptions = {}) {
    this.runLinkBaseUrl = options.runLinkBaseUrl ? options.runLinkBaseUrl.replace(/\/+$/, '') : null;
    if (target.kind === 'aws' && !REGION.test(target.region)) {
      throw new TypeError(`console links: "${target.region}" is not an AWS region such as eu-west-1`);
    }
    if (target.kind === 'local') {
      let url: URL;
      try {
        url = new URL(target.baseUrl);
      } catch {
        throw new TypeError(`console links: "${target.baseUrl}" is not an absolute URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TypeError(`console links: "${target.baseUrl}" is not an http(s) URL`);
      }
    }
    this.target = target.kind === 'local' ? { kind: 'local', baseUrl: target.baseUrl.replace(/\/+$/, '') } : target;
  }

  /** The AWS console's page of one execution (the v2 execution details view). */
  public static aws(region: string, executionArn: string): string {
    return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
  }

  /** The local console's page of one execution. The ARN stays as it is: the local console routes on it whole. */
  public static local(baseUrl: string, executionArn: string): string {
    return `${baseUrl.replace(/\/+$/, '')}/executions/${executionArn}`;
  }

  /** The page of an execution in whichever console this instance points to. */
  public execution(executionArn: string): string {
    return this.target.kind === 'aws'
      ? ConsoleLinks.aws(this.target.region, executionArn)
      : ConsoleLinks.local(this.target.baseUrl, executionArn);
  }

  /** The run's short link through the platform's redirect route, or null when there is no route or no name. */
  public runLink(executionArn: string): string | null {
    const name = executionNameOf(executionArn);
    if (!this.runLinkBaseUrl || !name) return null;
    return `${this.runLinkBaseUrl}${RUN_LINK_PATH}/${encodeURIComponent(name)}`;
  }
}

/**
 * Where the platform's redirect route sends `GET <base>/runs/{name}`: the page of that execution of the pipeline,
 * or null when the name is not an execution name (the route answers 404 then).
 */
export function runLinkLocation(name: string, stateMachineArn: string, links: ConsoleLinks): string | null {
  const executionArn = executionArnOf(stateMachineArn, name);
  return executionArn ? links.execution(executionArn) : null;
}
