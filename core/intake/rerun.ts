import { createHash } from 'node:crypto';
import { type Admitted, decodeBody } from './delivery';
import { MalformedPayloadError } from './errors';
import { child, integer, optionalChild, optionalString, sha, string } from './payload';
import { ignore, proceed, reject, type Verdict } from './verdict';

/**
 * GitHub's "Re-run" on a Stepline check run (docs/adr/0091): a `check_run` delivery with action `rerequested`, on
 * a check run whose `external_id` is the execution ARN of the run that made it. What it asks for is a new run of
 * that execution's input: the same commit, the same route, a new execution name. This module decides that much
 * (pure); the webhook function starts it through the `RerunStarter` port (ports.ts), which reads the execution's
 * input (`DescribeExecution`) and starts the new one (`StartExecution`).
 *
 * `check_suite` `rerequested` ("Re-run all checks") names no check run; it is answered as not handled.
 */

export interface RerunRequest {
  readonly deliveryId: string;
  readonly repository: string;
  readonly sha: string;
  /** The check run's name: the context that was asked to run again. */
  readonly checkName: string;
  /** The execution whose input runs again. */
  readonly executionArn: string;
  /** Who pressed "Re-run". */
  readonly sender: string;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/;

/** Whether a verified delivery is a GitHub check run event. */
export function isCheckRunEvent(delivery: Admitted): boolean {
  return delivery.provider === 'github' && delivery.event === 'check_run';
}

/** A verified `check_run` delivery as a re-run to start; ignored unless it is "Re-run" on a Stepline check run. */
export function interpretRerun(delivery: Admitted): Verdict<RerunRequest> {
  if (!isCheckRunEvent(delivery)) return ignore('event_not_handled', `${delivery.event} is not a check run event`);
  const body = decodeBody(delivery.body, delivery.mediaType);
  if (!body.continue) return body;
  try {
    const payload = body.value;
    const action = optionalString(payload, 'action', 'action');
    if (action !== 'rerequested')
      return ignore('event_not_handled', `check_run ${action ?? '(no action)'} starts nothing`);
    const run = child(payload, 'check_run', 'check_run');
    const externalId = optionalString(run, 'external_id', 'check_run.external_id') ?? '';
    if (!EXECUTION_ARN.test(externalId)) {
      return ignore(
        'event_not_handled',
        'the check run is not one of a Stepline run (its external_id is no execution)',
      );
    }
    integer(run, 'id', 'check_run.id');
    const sender = optionalChild(payload, 'sender', 'sender');
    return proceed({
      deliveryId: delivery.deliveryId,
      repository: string(child(payload, 'repository', 'repository'), 'full_name', 'repository.full_name'),
      sha: sha(run, 'head_sha', 'check_run.head_sha'),
      checkName: string(run, 'name', 'check_run.name'),
      executionArn: externalId,
      sender: (sender && optionalString(sender, 'login', 'sender.login')) ?? 'unknown',
    });
  } catch (error) {
    if (error instanceof MalformedPayloadError) return reject(400, 'malformed_body', error.message);
    throw error;
  }
}

/**
 * The name of a re-run's execution: the original's name (without an earlier re-run's suffix) and `-r` with 8 hex
 * digits of the delivery id's SHA-256, cut to Step Functions' 80 characters so the suffix stays. A redelivery of
 * one "Re-run" gets the same name, so it starts nothing twice; each press of the button is a delivery of its own.
 */
export function rerunExecutionName(executionArn: string, deliveryId: string): string {
  const original = executionArn.split(':').at(-1) ?? 'run';
  const base = original.replace(/-r[0-9a-f]{8}$/, '');
  const suffix = `-r${createHash('sha256').update(deliveryId).digest('hex').slice(0, 8)}`;
  return `${base.slice(0, 80 - suffix.length)}${suffix}`;
}
