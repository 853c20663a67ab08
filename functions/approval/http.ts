import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import { decideApproval, viewApproval } from '../../core/approval/service';
import type { ConsoleLinks } from '../../core/status/links';
import { createLogger } from '../shared/observability';
import { approverOf, type IdentityMode } from './identity';
import { approvalPage, decisionPage, methodNotAllowed, type PageOptions, problemPage } from './pages';

/**
 * The approval pages: `GET /approvals/{id}` shows what is to be deployed with Approve and Reject;
 * `POST /approvals/{id}` (form: `decision=approve|reject`, `reason`) decides once. Expired, used, forged and
 * unknown ids get a 4xx page that says which. API Gateway HTTP API, payload v2.
 */
export interface ApprovalHttpDependencies {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly keys: () => Promise<readonly string[]>;
  readonly identity: IdentityMode;
  readonly links: ConsoleLinks | null;
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
  const options: PageOptions = { links: deps.links, askName: deps.identity.kind === 'form' };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async function approvalHttpHandler(event) {
      const method = event.requestContext?.http?.method ?? 'GET';
      const signedId = signedIdOf(event);
      const keys = await deps.keys();
      const core = { store: deps.store, keys, now };
      if (method === 'GET' || method === 'HEAD') {
        const view = await viewApproval(signedId, approverOf(event, deps.identity, null), core);
        logger.info('approval page', {
          outcome: view.kind,
          approvalId: 'record' in view ? view.record?.id : undefined,
        });
        if (view.kind === 'open') return approvalPage(view, options);
        return problemPage(view, options)!;
      }
      if (method !== 'POST') return methodNotAllowed();
      const contentType = event.headers?.['content-type'] ?? '';
      const form = formOf(event);
      if (!form || (contentType && !contentType.startsWith('application/x-www-form-urlencoded'))) {
        return problemPage({ kind: 'invalid', message: 'the decision must be a form of at most 8 KiB' }, options)!;
      }
      const result = await decideApproval(
        {
          signedId,
          action: form.get('decision') ?? undefined,
          reason: form.get('reason') ?? undefined,
          actor: approverOf(event, deps.identity, form),
        },
        { ...core, callbacks: deps.callbacks },
      );
      const approvalId = 'record' in result ? result.record?.id : undefined;
      if (result.kind === 'approved' || result.kind === 'rejected') {
        logger.info('approval decided', { outcome: result.kind, approvalId, by: result.record.decidedBy });
        return decisionPage(result, options);
      }
      logger.warn('approval decision refused', { outcome: result.kind, approvalId });
      return problemPage(result, options)!;
    });
}
