import type { ParkedDelivery } from '../contracts/parking';
import { ParkingError } from './errors';
import type { ParkingStore, WorkflowStarter } from './ports';

/**
 * Replay of parked deliveries: each is started again under the same execution name, so a delivery whose first
 * StartExecution did succeed after all (a late success) comes back as a duplicate, never as a second run. A
 * delivery that still cannot be started stays parked.
 *
 * The queue is a port: the replay function on AWS reads SQS records and hands each to `replayDelivery`; the local
 * runtime drains its store (a `ParkingStore`) with `drainParkingStore`.
 */

export type ReplayResult =
  | { readonly name: string; readonly outcome: 'started' | 'duplicate'; readonly executionArn: string }
  | { readonly name: string; readonly outcome: 'failed'; readonly reason: string };

/** Reads a parked delivery from its stored JSON; throws `ParkingError` naming what is wrong. */
export function parseParkedDelivery(text: string): ParkedDelivery {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParkingError('a parked delivery is not JSON');
  }
  const parked = value as Partial<ParkedDelivery> | null;
  if (typeof parked !== 'object' || parked === null) throw new ParkingError('a parked delivery is not a JSON object');
  if (parked.version !== 1)
    throw new ParkingError(`a parked delivery has version ${String(parked.version)}, expected 1`);
  if (typeof parked.name !== 'string' || parked.name.length === 0)
    throw new ParkingError('a parked delivery has no name');
  const input = parked.input as Partial<ParkedDelivery['input']> | undefined;
  if (
    typeof input !== 'object' ||
    input === null ||
    typeof input.request !== 'object' ||
    typeof input.route !== 'object'
  ) {
    throw new ParkingError(`parked delivery ${parked.name} has no execution input`);
  }
  return parked as ParkedDelivery;
}

export async function replayDelivery(parked: ParkedDelivery, workflow: WorkflowStarter): Promise<ReplayResult> {
  try {
    const result = await workflow.start({ name: parked.name, input: parked.input });
    return { name: parked.name, outcome: result.outcome, executionArn: result.executionArn };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name: parked.name, outcome: 'failed', reason: reason.slice(0, 1000) };
  }
}

export interface DrainSummary {
  readonly started: number;
  readonly duplicate: number;
  readonly failed: number;
  readonly results: readonly ReplayResult[];
}

/**
 * Drains a parking store in process (the local runtime, `stepline replay`): replays up to `limit` deliveries,
 * oldest first, removes those that started (or had started), and records the failures of the others.
 */
export async function drainParkingStore(
  store: ParkingStore,
  workflow: WorkflowStarter,
  options: { readonly limit?: number } = {},
): Promise<DrainSummary> {
  const parked = await store.list(options.limit ?? 100);
  const results: ReplayResult[] = [];
  for (const delivery of parked) {
    const result = await replayDelivery(delivery, workflow);
    if (result.outcome === 'failed') await store.recordFailure(delivery.name, result.reason);
    else await store.remove(delivery.name);
    results.push(result);
  }
  return {
    started: results.filter((r) => r.outcome === 'started').length,
    duplicate: results.filter((r) => r.outcome === 'duplicate').length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    results,
  };
}
