import type { Prebuilt } from './types';

/**
 * The image a pipeline execution built, read back from its history (ADR 0106), for a re-run from the failed
 * environment that deploys the same image by digest instead of building again (`ExecutionInput.prebuilt`).
 *
 * The workflow keeps what it built in variables (`image`, `manifestsLocation`, `build`, `tests`), and Step Functions
 * writes each state's assignments into its `StateExited` event as `stateExitedEventDetails.assignedVariables`, a map
 * of names to JSON texts (GetExecutionHistory's HistoryEvent; the local engine records the same). The last
 * assignment of each wins, as in the execution itself. Pure: the caller reads the history.
 */

/** One history event as GetExecutionHistory gives it; only state exits are read. */
export interface HistoryEventLike {
  readonly type: string;
  readonly stateExitedEventDetails?: unknown;
  readonly [details: string]: unknown;
}

const WANTED = ['image', 'manifestsLocation', 'build', 'tests'] as const;

function parse(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * What `executionArn` built: its image (repository and digest), manifests, build and test results; null when it
 * built no image (it failed before, or its history no longer says) or a test suite of it did not pass.
 * `builtBy` names the execution that built the image, when `executionArn` itself promoted one built before.
 */
export function prebuiltOf(
  executionArn: string,
  events: readonly HistoryEventLike[],
  builtBy?: string,
): Prebuilt | null {
  const seen: Partial<Record<(typeof WANTED)[number], unknown>> = {};
  for (const event of events) {
    if (!event.type.endsWith('StateExited')) continue;
    const details = event.stateExitedEventDetails;
    const assigned = isObject(details) ? details['assignedVariables'] : undefined;
    if (!isObject(assigned)) continue;
    for (const name of WANTED) if (Object.hasOwn(assigned, name)) seen[name] = parse(assigned[name]);
  }
  const image = seen.image;
  if (!isObject(image) || typeof image['digest'] !== 'string' || typeof image['repository'] !== 'string') return null;
  const tests = (Array.isArray(seen.tests) ? seen.tests : []).filter(isObject).map((t) => ({
    suite: String(t['suite']),
    state: String(t['state']),
    logUrl: text(t['logUrl']),
  }));
  if (tests.some((t) => t.state !== 'success')) return null;
  const build = isObject(seen.build) ? { id: text(seen.build['id']), logUrl: text(seen.build['logUrl']) } : null;
  return {
    image: { repository: image['repository'], digest: image['digest'] },
    manifestsLocation: text(seen.manifestsLocation),
    build,
    tests,
    from: builtBy ?? executionArn,
  };
}

/**
 * The environment GitHub's "Re-run" on a check run asks to start from (ADR 0106): the one of a deploy check run
 * (`<prefix>/deploy/<environment>`) when its run failed in that environment (the execution's cause names it); else
 * null, and the whole run starts again.
 */
export function environmentToRerun(
  checkName: string,
  status: string | undefined,
  cause: string | null | undefined,
): string | null {
  if (status !== 'FAILED' || !cause) return null;
  const named = /\/deploy\/([^/]+)$/.exec(checkName)?.[1];
  if (!named) return null;
  try {
    const parsed: unknown = JSON.parse(cause);
    return isObject(parsed) && parsed['environment'] === named ? named : null;
  } catch {
    return null;
  }
}
