import type { SqliteParkingStore } from '../../adapters/local/parking';
import type { WorkflowStarter } from '../../core/intake/ports';
import { type DrainSummary, drainParkingStore, replayDelivery } from '../../core/intake/replay';

/**
 * Replaying parked deliveries (`stepline replay`, the console, the periodic retry, the start after a restart): one
 * by execution name, or all of them, with one drain at a time (a second ask joins the running one).
 */
export function parkedReplay(
  parking: SqliteParkingStore,
  starter: WorkflowStarter,
): (name?: string) => Promise<DrainSummary> {
  let replaying: Promise<DrainSummary> | null = null;
  return async (name?: string): Promise<DrainSummary> => {
    if (name) return replayOne(parking, starter, name);
    replaying ??= drainParkingStore(parking, starter).finally(() => {
      replaying = null;
    });
    return replaying;
  };
}

async function replayOne(parking: SqliteParkingStore, starter: WorkflowStarter, name: string): Promise<DrainSummary> {
  const parked = (await parking.list(100_000)).find((d) => d.name === name);
  if (!parked) return { started: 0, duplicate: 0, failed: 0, results: [] };
  const result = await replayDelivery(parked, starter);
  if (result.outcome === 'failed') await parking.recordFailure(parked.name, result.reason);
  else await parking.remove(parked.name);
  return {
    started: result.outcome === 'started' ? 1 : 0,
    duplicate: result.outcome === 'duplicate' ? 1 : 0,
    failed: result.outcome === 'failed' ? 1 : 0,
    results: [result],
  };
}
