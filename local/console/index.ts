/**
 * Stepline's local web console (issue 8): executions, their workflow graph coloured by status, their event
 * history, builds and logs, statuses, deployments, approvals; stop, redrive, approve, reject; live.
 *
 * - `createConsoleRoutes(source, options)`: a Node `(req, res) => boolean` handler for `GET /`,
 *   `GET /executions/<arn>`, `GET /ui/*` and the JSON API under `/api/console` (routes.ts).
 * - `ConsoleDataSource` (source.ts): what the runtime implements for it.
 * - `engineConsoleSource(engine, options)`: that interface over a local `Engine`.
 */

export { type ConsoleBundle, consoleBundle } from './bundle';
export { type ConsoleExtras, type EngineConsoleSourceOptions, engineConsoleSource, eventToJson } from './engine-source';
export { ConsoleActionError, ConsoleBundleError, type ConsoleErrorCode } from './errors';
export { deploymentsOf, type ObjectLink, pipelineContextOf } from './model/pipeline';
export {
  CONSOLE_ROUTES,
  type ConsoleHandler,
  type ConsoleRouteOptions,
  createConsoleRoutes,
  mountConsole,
  type PrependingRouter,
} from './routes';
export { kubernetesPath, type RuntimeConsoleSourceOptions, runtimeConsoleSource } from './runtime-source';
export type * from './source';
export { EXECUTION_STATUSES } from './source';
