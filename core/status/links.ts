/**
 * Where a status links to: the execution's page in the AWS console, or in the local console that `npm start`
 * serves. One helper so that the status functions, the approval page and the CLI print the same links.
 */
export type ConsoleTarget =
  | { readonly kind: 'aws'; readonly region: string }
  | { readonly kind: 'local'; readonly baseUrl: string };

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export class ConsoleLinks {
  public readonly target: ConsoleTarget;

  public constructor(target: ConsoleTarget) {
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
}
