import type { RawDelivery } from '../../../core/intake/delivery';
import { Intake } from '../../../core/intake/intake';
import type { WebhookSecrets } from '../../../core/intake/ports';
import type { PipelineRequest } from '../../../core/intake/types';
import type { Verdict } from '../../../core/intake/verdict';
import { CONFIG, SECRETS } from './support';

/** Runs a delivery through the provider steps of the intake (admit → verify → interpret), without routing. */
export function interpret(
  raw: RawDelivery,
  secrets: WebhookSecrets | null = SECRETS,
  intake: Intake = new Intake(CONFIG),
): Verdict<readonly PipelineRequest[]> {
  const admitted = intake.admit(raw);
  if (!admitted.continue) return admitted;
  const verified = intake.verify(admitted.value, secrets);
  if (!verified.continue) return verified;
  return intake.interpret(verified.value);
}

/** The single request a delivery normalizes to; fails the test with the stop when there is none. */
export function requestOf(verdict: Verdict<readonly PipelineRequest[]>): PipelineRequest {
  if (!verdict.continue) throw new Error(`expected a request, got ${JSON.stringify(verdict)}`);
  if (verdict.value.length !== 1) throw new Error(`expected one request, got ${verdict.value.length}`);
  return verdict.value[0]!;
}
