import type { Route } from '../intake/types';

/**
 * Commit status contexts that a run reports to the Git host, one per step, and an overall one. The webhook
 * returns them for runs that a path filter skips, so that status reporting can mark each one
 * "skipped: no changes under ..." and required checks never wait for a run that will not come.
 */
export const STATUS_CONTEXT_PREFIX = 'stepline';

export function statusContexts(route: Pick<Route, 'tests' | 'environments'>): string[] {
  return [
    STATUS_CONTEXT_PREFIX,
    `${STATUS_CONTEXT_PREFIX}/build`,
    ...route.tests.map((suite) => `${STATUS_CONTEXT_PREFIX}/test/${suite.name}`),
    ...route.environments.map((environment) => `${STATUS_CONTEXT_PREFIX}/deploy/${environment.name}`),
  ];
}
