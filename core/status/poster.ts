import type { DeliveryOutcome, StepState } from './contracts';
import type { StatusDeliveryError } from './errors';
import type { HostRequest, HostResponse, HostStatus } from './hosts';
import type { StatusUpdate } from './plan';

/** What reporter.ts and check-runs.ts share: how a request is sent, and how a status reaches the host. */

export type Send = (request: HostRequest) => Promise<HostResponse | StatusDeliveryError>;

/**
 * How a status reaches the host: as a commit status (every host; GitHub with a token), or as a check run (GitHub,
 * as a GitHub App: check-runs.ts). `read` lists what the commit has, for the contexts' open or finished states.
 */
export interface Poster {
  hostState(state: StepState): string;
  post(update: StatusUpdate): Promise<DeliveryOutcome>;
  read(): Promise<HostStatus[] | string>;
}

export function ok(response: HostResponse): boolean {
  return response.status >= 200 && response.status < 300;
}
