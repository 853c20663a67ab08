import type { DeployEvent, RollbackEvent, RolloutEvent, StepEvent } from './contracts';
import { DeployEventInvalid } from './errors';
import { isRecord } from './types';

/**
 * Shape checks of the three events, so that a workflow definition that passes the wrong path fails with a
 * message naming the field instead of a TypeError deep inside. The environment is the one a route resolved
 * (already validated by the configuration schema); only what the functions read is checked.
 */

function at(value: unknown, path: string): unknown {
  let node = value;
  for (const step of path.split('.')) node = isRecord(node) ? node[step] : undefined;
  return node;
}

function requireFields(
  value: unknown,
  fields: readonly [string, 'string' | 'number' | 'object' | 'array'][],
  what: string,
): void {
  const missing: string[] = [];
  for (const [path, type] of fields) {
    const found = at(value, path);
    const ok =
      type === 'array'
        ? Array.isArray(found)
        : type === 'object'
          ? isRecord(found)
          : typeof found === type && (type !== 'string' || found !== '');
    if (!ok) missing.push(`${path} (${type})`);
  }
  if (missing.length > 0) throw new DeployEventInvalid(`The ${what} event lacks ${missing.join(', ')}`);
}

const ENVIRONMENT_FIELDS: readonly [string, 'string' | 'number' | 'object' | 'array'][] = [
  ['executionName', 'string'],
  ['environment.name', 'string'],
  ['environment.cluster', 'object'],
  ['environment.namespace', 'string'],
  ['environment.rollout.timeoutSeconds', 'number'],
  ['environment.rollout.pollSeconds', 'number'],
];

export function parseDeployEvent(value: unknown): DeployEvent {
  requireFields(
    value,
    [
      ...ENVIRONMENT_FIELDS,
      ['environment.manifests', 'string'],
      ['environment.allowedNamespaces', 'array'],
      ['environment.clusterScopedKinds', 'array'],
      ['request.commit.sha', 'string'],
      ['request.repository.fullName', 'string'],
      ['image.repository', 'string'],
      ['image.digest', 'string'],
      ['manifestsLocation', 'string'],
    ],
    'deploy',
  );
  return value as DeployEvent;
}

export function parseRolloutEvent(value: unknown): RolloutEvent {
  requireFields(value, [...ENVIRONMENT_FIELDS, ['watch', 'array'], ['deadline', 'string']], 'rollout');
  const event = value as RolloutEvent;
  if (Number.isNaN(Date.parse(event.deadline)))
    throw new DeployEventInvalid(`The rollout event's deadline "${event.deadline}" is not an ISO-8601 instant`);
  if (event.revision !== null && event.revision !== undefined && !Number.isInteger(event.revision)) {
    throw new DeployEventInvalid("The rollout event's revision must be a whole number or null");
  }
  return { ...event, revision: event.revision ?? null };
}

export function parseRollbackEvent(value: unknown): RollbackEvent {
  requireFields(value, ENVIRONMENT_FIELDS, 'rollback');
  const event = value as RollbackEvent;
  return { ...event, failedRevision: Number.isInteger(event.failedRevision) ? event.failedRevision : null };
}

/** The deploy function's `step` action (ADR 0067): the revision the deploy recorded and the step to set. */
export function parseStepEvent(value: unknown): StepEvent {
  requireFields(
    value,
    [...ENVIRONMENT_FIELDS, ['revision', 'number'], ['index', 'number'], ['environment.strategy', 'object']],
    'step',
  );
  const event = value as StepEvent;
  if (!Number.isInteger(event.index) || event.index < 0) {
    throw new DeployEventInvalid("The step event's index must be a whole number, 0 or more");
  }
  return event;
}

/** Whether a deploy function event asks for a step rather than a deploy. */
export function isStepEvent(value: unknown): boolean {
  return isRecord(value) && value['action'] === 'step';
}
