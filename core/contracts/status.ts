import type { Route } from '../intake/types';

/**
 * Commit status contexts that a run reports to the Git host, one per step, and an overall one: `stepline`,
 * `stepline/build`, `stepline/test/<suite>`, `stepline/deploy/<environment>` (the prefix is configurable, so two
 * installations can report on one repository). Status reporting posts them; the webhook names them for runs that a
 * path filter skips. This module is the one place the names are made.
 */
export const STATUS_CONTEXT_PREFIX = 'stepline';

/** The steps that have a context of their own (an approval gate reports on its environment's deploy context). */
export type ContextStep = 'pipeline' | 'build' | 'test' | 'approval' | 'deploy';

/** The context of one step. */
export function contextName(
  prefix: string,
  step: ContextStep,
  names: { readonly suite?: string; readonly environment?: string } = {},
): string {
  switch (step) {
    case 'pipeline':
      return prefix;
    case 'build':
      return `${prefix}/build`;
    case 'test':
      return `${prefix}/test/${names.suite ?? 'unnamed'}`;
    case 'approval':
    case 'deploy':
      return `${prefix}/deploy/${names.environment ?? 'unnamed'}`;
  }
}

/** Every context a route declares, in the order the steps run. */
export function statusContexts(
  route: Pick<Route, 'tests' | 'environments'>,
  prefix: string = STATUS_CONTEXT_PREFIX,
): string[] {
  return [
    contextName(prefix, 'pipeline'),
    contextName(prefix, 'build'),
    ...route.tests.map((suite) => contextName(prefix, 'test', { suite: suite.name })),
    ...route.environments.map((environment) => contextName(prefix, 'deploy', { environment: environment.name })),
  ];
}
