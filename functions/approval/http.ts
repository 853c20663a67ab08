import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import type { ConsoleLinks } from '../../core/status/links';
import { createLogger } from '../shared/observability';
import { cookieNames } from './cookies';
import { CALLBACK_PATH, decide, type Flow, showPage, signedIn } from './flow';
import type { IdentityMode } from './identity';
import { methodNotAllowed, problemPage } from './pages';

/**
 * The approval pages (API Gateway HTTP API, payload v2), without an authorizer: the function establishes who is
 * deciding itself (docs/adr/0037).
 * - `GET /approvals/{id}`: the request, after a sign-in with the repository's Git host (see flow.ts);
 * - `GET /approvals/oauth/callback`: where the host sends the person back;
 * - `POST /approvals/{id}` (form: `decision=approve|reject`, `reason`, `csrf`): decides once.
 * Expired, used, forged and unknown links get a 4xx page that says which.
 */
export interface ApprovalHttpDependencies {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly keys: () => Promise<readonly string[]>;
  readonly identity: IdentityMode;
  readonly links: ConsoleLinks | null;
  /** Public base URL of the pages (`STEPLINE_APPROVAL_URL`): the sign-in's redirect URI; https makes cookies Secure. */
  readonly baseUrl: string;
  readonly now?: () => number;
  readonly logger?: Logger;
}

export type ApprovalHttpHandler = middy.MiddyfiedHandler<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context
>;

const MAX_FORM_BYTES = 8 * 1024;

function signedIdOf(event: APIGatewayProxyEventV2): string {
  const fromPath = event.pathParameters?.id;
  if (fromPath) return fromPath;
  const match = /\/approvals\/([^/?#]+)\/?$/.exec(event.rawPath ?? '');
  return match ? decodeURIComponent(match[1]!) : '';
}

function formOf(event: APIGatewayProxyEventV2): URLSearchParams | null {
  if (!event.body) return new URLSearchParams();
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > MAX_FORM_BYTES) return null;
  return new URLSearchParams(text);
}

export function createApprovalHttpHandler(deps: ApprovalHttpDependencies): ApprovalHttpHandler {
  const logger = deps.logger ?? createLogger('stepline-approval-http');
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const baseUrl = deps.baseUrl.replace(/\/+$/, '');
  const secure = baseUrl.startsWith('https://');
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async function approvalHttpHandler(event) {
      const method = event.requestContext?.http?.method ?? 'GET';
      const flow: Flow = {
        store: deps.store,
        callbacks: deps.callbacks,
        keys: await deps.keys(),
        identity: deps.identity,
        options: { links: deps.links },
        baseUrl,
        secure,
        cookies: cookieNames(secure),
        now,
        logger,
      };
      if ((event.rawPath ?? '').replace(/\/+$/, '').endsWith(CALLBACK_PATH)) {
        return method === 'GET' ? signedIn(event, flow) : methodNotAllowed('GET');
      }
      const signedId = signedIdOf(event);
      if (method === 'GET' || method === 'HEAD') return showPage(event, signedId, flow);
      if (method !== 'POST') return methodNotAllowed();
      const contentType = event.headers?.['content-type'] ?? '';
      const form = formOf(event);
      if (!form || (contentType && !contentType.startsWith('application/x-www-form-urlencoded'))) {
        return problemPage({ kind: 'invalid', message: 'the decision must be a form of at most 8 KiB' }, flow.options)!;
      }
      return decide(event, signedId, form, flow);
    });
}
