import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ConsoleLinks, runLinkLocation } from '../../../core/status/links';
import { jsonResponse } from '../../shared/http';

/**
 * The platform's short link to a run: `GET /runs/{name}` (API Gateway HTTP API, payload v2) answers 302 to the
 * execution's page in the console. Statuses link here when the console link is longer than the host takes (GitLab:
 * 255 characters, docs/adr/0090). The name is all it reads; it calls no AWS API and reads no secret.
 */
export interface RunLinkDependencies {
  readonly stateMachineArn: string;
  readonly links: ConsoleLinks;
}

export type RunLinkHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function createRunLinkHandler(deps: RunLinkDependencies): RunLinkHandler {
  return async function runLink(event) {
    const location = runLinkLocation(event.pathParameters?.['name'] ?? '', deps.stateMachineArn, deps.links);
    if (!location) return jsonResponse(404, { error: 'not_found', message: 'no such run' });
    return { statusCode: 302, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
  };
}
