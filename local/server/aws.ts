import { randomUUID } from 'node:crypto';
import { EngineApiError } from '../engine';
import { CodeBuildError, type CodeBuildService } from '../services/codebuild';
import type { StatesService } from '../services/stepfunctions';
import type { BuildStore } from '../store/builds';
import { codeBuildOperations } from './aws-codebuild';
import { stepFunctionsOperations } from './aws-sfn';
import { HttpError, type RouteContext, readBody } from './http';

/**
 * The AWS APIs of the local server, in the AWS JSON protocols, so that the AWS SDK v3 clients and the AWS CLI
 * work against it unchanged with an endpoint override (`--endpoint-url http://127.0.0.1:8080`):
 *
 * - Step Functions (JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`);
 * - CodeBuild (JSON 1.1, `X-Amz-Target: CodeBuild_20161006.<Operation>`).
 *
 * Any SigV4 signature (or none) is accepted: the server listens on 127.0.0.1 and checks no credentials.
 * Errors answer AWS's shape, `{ "__type": "...#Code", "message": "..." }` with `x-amzn-ErrorType`, status 400 for
 * the caller's errors and 500 for ours. Timestamps are epoch seconds, as the protocols send them.
 */

const SFN_PREFIX = 'AWSStepFunctions.';
const CODEBUILD_PREFIX = 'CodeBuild_20161006.';
const MAX_REQUEST = 2 * 1024 * 1024;

export interface AwsApiDependencies {
  readonly states: StatesService;
  readonly codebuild: CodeBuildService;
  /** The build store: CodeBuild's listings and reports (BatchGetProjects, ListBuilds, ...) answer from it. */
  readonly builds?: BuildStore;
}

/** An answer of the AWS APIs, before it is written: the same for a socket and for an in-process caller. */
export interface AwsAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Answers one request: its `X-Amz-Target`, and its body (null when it was larger than the API takes). */
export type AwsApiAnswer = (target: string, body: Buffer | null) => Promise<AwsAnswer>;

function answer(status: number, body: unknown, contentType: string, extra: Record<string, string> = {}): AwsAnswer {
  const text = JSON.stringify(body);
  return {
    status,
    headers: {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-requestid': randomUUID(),
      ...extra,
    },
    body: text,
  };
}

function errorAnswer(
  contentType: string,
  namespace: string,
  code: string,
  message: string,
  status = 400,
  members: Record<string, unknown> = {},
): AwsAnswer {
  return answer(status, { __type: `${namespace}#${code}`, message, ...members }, contentType, {
    'x-amzn-errortype': code,
  });
}

/** The members an error's shape has besides its message (TooManyTags' `resourceName`). */
function membersOf(error: Error): Record<string, unknown> {
  const resourceName = (error as { resourceName?: unknown }).resourceName;
  return typeof resourceName === 'string' ? { resourceName } : {};
}

/** Whether a request is for one of the AWS APIs (by its target header). */
export function isAwsRequest(target: string | undefined): boolean {
  return typeof target === 'string' && (target.startsWith(SFN_PREFIX) || target.startsWith(CODEBUILD_PREFIX));
}

/** The largest request body the AWS APIs read. */
export const MAX_AWS_REQUEST_BYTES = MAX_REQUEST;

/**
 * The AWS APIs as a function of the target and the body. The HTTP route below and the runtime's own in-process
 * clients (in-process.ts) both answer through it, so that a call answers the same, byte for byte, either way.
 */
export function awsApiAnswer(deps: AwsApiDependencies): AwsApiAnswer {
  const sfn = stepFunctionsOperations(deps.states);
  const cb = codeBuildOperations(deps.codebuild, deps.builds);
  return async function answerAwsApi(target, body) {
    const isSfn = target.startsWith(SFN_PREFIX);
    const contentType = isSfn ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    const namespace = isSfn ? 'com.amazonaws.swf.service.v2.model' : 'com.amazonaws.codebuild';
    const operation = isSfn ? target.slice(SFN_PREFIX.length) : target.slice(CODEBUILD_PREFIX.length);
    const table = isSfn ? sfn : cb;
    const handler = isAwsRequest(target) && Object.hasOwn(table, operation) ? table[operation] : undefined;
    if (!handler) {
      return errorAnswer(
        contentType,
        namespace,
        'UnknownOperationException',
        `The local runtime does not serve ${target}`,
      );
    }
    let input: Record<string, unknown>;
    try {
      if (body === null) throw new HttpError(413, 'body_too_large', `the request is larger than ${MAX_REQUEST} bytes`);
      const parsed = body.length ? (JSON.parse(body.toString('utf8')) as unknown) : {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch (error) {
      const message = error instanceof HttpError ? error.message : 'the request body is not a JSON object';
      return errorAnswer(contentType, namespace, 'SerializationException', message);
    }
    try {
      return answer(200, await handler(input), contentType);
    } catch (error) {
      if (error instanceof EngineApiError || error instanceof CodeBuildError) {
        return errorAnswer(contentType, namespace, error.code, error.message, 400, membersOf(error));
      }
      return errorAnswer(contentType, namespace, 'InternalServerError', 'internal error of the local runtime', 500);
    }
  };
}

/** Serves one AWS API request (routed here when `X-Amz-Target` names an AWS operation). */
export function awsApi(deps: AwsApiDependencies | AwsApiAnswer): (ctx: RouteContext) => Promise<void> {
  const answerOf = typeof deps === 'function' ? deps : awsApiAnswer(deps);
  return async function serveAwsApi({ req, res }) {
    const target = String(req.headers['x-amz-target'] ?? '');
    const { body, truncated } = await readBody(req, MAX_REQUEST);
    const out = await answerOf(target, truncated ? null : body);
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  };
}
