import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * Who is deciding. The approval page is public, so the approver's identity has to come from something the
 * requester cannot make up (ADR 0034):
 * - `jwt`: the claim of the API Gateway HTTP API JWT authorizer (Cognito or any OIDC provider federated with the
 *   Git host), default claim `preferred_username`;
 * - `header`: a header set by an authenticating proxy in front of the route (oauth2-proxy's `X-Forwarded-User`);
 * - `form`: the `user` field of the form, trusted as typed: only for the local runtime on 127.0.0.1.
 */
export type IdentityMode =
  | { readonly kind: 'jwt'; readonly claim: string }
  | { readonly kind: 'header'; readonly header: string }
  | { readonly kind: 'form' };

export function identityModeFromEnv(env: Readonly<Record<string, string | undefined>>): IdentityMode {
  const kind = env.STEPLINE_APPROVER_IDENTITY ?? 'jwt';
  switch (kind) {
    case 'jwt':
      return { kind: 'jwt', claim: env.STEPLINE_APPROVER_CLAIM || 'preferred_username' };
    case 'header':
      return { kind: 'header', header: (env.STEPLINE_APPROVER_HEADER || 'x-forwarded-user').toLowerCase() };
    case 'form':
      return { kind: 'form' };
    default:
      throw new TypeError(`STEPLINE_APPROVER_IDENTITY must be jwt, header or form, got "${kind}"`);
  }
}

type WithAuthorizer = APIGatewayProxyEventV2 & {
  readonly requestContext: { readonly authorizer?: { readonly jwt?: { readonly claims?: Record<string, unknown> } } };
};

export function approverOf(
  event: APIGatewayProxyEventV2,
  mode: IdentityMode,
  form: URLSearchParams | null,
): string | null {
  let value: unknown;
  switch (mode.kind) {
    case 'jwt':
      value = (event as WithAuthorizer).requestContext?.authorizer?.jwt?.claims?.[mode.claim];
      break;
    case 'header':
      value = event.headers?.[mode.header];
      break;
    case 'form':
      value = form?.get('user');
      break;
  }
  return typeof value === 'string' && value.trim() ? value.trim().slice(0, 100) : null;
}
