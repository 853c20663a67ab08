import type { CoordinationRequest } from './contracts';
import { CoordinationRequestInvalid } from './errors';

function field(event: Record<string, unknown>, name: string, kind: 'string' | 'number' | 'boolean'): void {
  if (typeof event[name] !== kind) {
    throw new CoordinationRequestInvalid(`coordination request: "${name}" must be a ${kind}`);
  }
}

/** Checks that a workflow event is a coordination request, naming the field that is wrong. */
export function parseCoordinationRequest(event: unknown): CoordinationRequest {
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new CoordinationRequestInvalid('coordination request: the event must be an object');
  }
  const e = event as Record<string, unknown>;
  field(e, 'executionArn', 'string');
  switch (e['action']) {
    case 'register':
      field(e, 'concurrencyKey', 'string');
      field(e, 'repositoryKey', 'string');
      break;
    case 'enter':
      field(e, 'sequence', 'number');
      field(e, 'concurrencyKey', 'string');
      field(e, 'environmentKey', 'string');
      field(e, 'first', 'boolean');
      field(e, 'leaseSeconds', 'number');
      break;
    case 'leave':
      field(e, 'sequence', 'number');
      field(e, 'environmentKey', 'string');
      field(e, 'deployed', 'boolean');
      break;
    default:
      throw new CoordinationRequestInvalid(
        `coordination request: "action" must be register, enter or leave, got ${JSON.stringify(e['action'])}`,
      );
  }
  return e as unknown as CoordinationRequest;
}
