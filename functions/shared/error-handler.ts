import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jsonResponse } from './http';

/**
 * Turns an error that escaped the handler into a 500 JSON answer with no detail (the sender learns nothing about
 * our internals) and logs it: its name, message and stack, never the event that caused it.
 */
export interface HttpErrorHandlerOptions {
  readonly logger: Logger;
}

export function httpErrorHandler(
  options: HttpErrorHandlerOptions,
): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error> {
  const { logger } = options;
  const httpErrorHandlerOnError = async (request: Request<unknown, APIGatewayProxyStructuredResultV2, Error>) => {
    const error = request.error;
    if (error instanceof Error) logger.error('unhandled error', error);
    else logger.error('unhandled error', { thrown: String(error) });
    request.response = jsonResponse(500, { error: 'internal', message: 'internal error' });
  };
  return { onError: httpErrorHandlerOnError };
}
