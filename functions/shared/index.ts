export { type HttpErrorHandlerOptions, httpErrorHandler } from './error-handler';
export { base64DecodedLength, jsonResponse, rawBody } from './http';
export { createLogger, createMetrics, type Observability } from './observability';
export { type ObserveFailuresOptions, observeFailures } from './observe-failures';
