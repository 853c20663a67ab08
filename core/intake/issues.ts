import type { Provider, SteplineConfig } from '../config/schema';
import type { Incident } from '../insight/contracts';
import { incidentFromIssue, isIncidentLabel, withdrawnIncidentFromIssue } from '../insight/incidents';
import { type Admitted, decodeBody } from './delivery';
import { MalformedPayloadError } from './errors';
import { child, type Json, optionalChild } from './payload';
import { ignore, proceed, reject, type Verdict } from './verdict';

/**
 * Issue events as incidents (ADR 0099): a Git host issue labelled `incident` (any case) is an incident, opened when
 * the issue was created and resolved when it was closed (ADR 0097, as Google's Four Keys reads them). The events,
 * delivered through the signed webhook route and verified like any other:
 * - GitHub `issues`, actions `opened`, `edited`, `labeled`, `unlabeled`, `closed`, `reopened`: the issue as it is
 *   after the action, its labels in `issue.labels[].name`, the repository in `repository.full_name`;
 * - GitLab `Issue Hook` (and `Confidential Issue Hook`): `object_attributes` (iid, title, description, created_at,
 *   closed_at), the issue's labels in the top-level `labels[].title`, the project in `project.path_with_namespace`;
 * - Bitbucket `issue:created` and `issue:updated` are answered `ignored`: Bitbucket Cloud's issue entity has a kind,
 *   a priority, a component, a milestone and a version, but no labels (Bitbucket's "Event payloads" page, Issue
 *   entity), so no issue there can be labelled `incident`.
 * An issue without the label is not an incident: the answer says so, and nothing is written. An event that removes
 * the label withdraws the incident (ADR 0112): GitHub's `unlabeled` whose `label.name` is `incident` (the label
 * removed; GitHub's webhook documentation, `issues` unlabeled: `label`, "The label that was removed from the issue"),
 * a GitLab Issue Hook whose `changes.labels.previous[].title` has it and `changes.labels.current[].title` does not
 * (GitLab's "Webhook events" page, Issue events: `changes` lists the changed attributes, labels with both lists).
 * The withdrawal is a write of the same incident with `withdrawnAt` (the issue's update time), not a delete: the
 * store keeps it and the four keys leave it out; labelling the issue again writes it without, and it counts again.
 */

const ISSUE_EVENTS: Readonly<Record<Provider, readonly string[]>> = {
  github: ['issues'],
  gitlab: ['Issue Hook', 'Confidential Issue Hook'],
  bitbucket: ['issue:created', 'issue:updated'],
};

/** GitHub's actions that can open, change, resolve or reopen an incident; the others (assigned, pinned…) start nothing. */
const GITHUB_ACTIONS = new Set(['opened', 'edited', 'labeled', 'unlabeled', 'closed', 'reopened']);

export const INCIDENT_LABEL = 'incident';

/** Whether a verified delivery is an issue event: the incident path takes it. */
export function isIssueEvent(delivery: Admitted): boolean {
  return ISSUE_EVENTS[delivery.provider].includes(delivery.event);
}

interface IssueFacts {
  readonly number: number | null;
  readonly labels: readonly string[];
  readonly repository: string;
  /** The event removed the `incident` label. */
  readonly unlabelled: boolean;
}

const names = (labels: unknown, key: 'name' | 'title'): string[] =>
  (Array.isArray(labels) ? labels : []).flatMap((label) => {
    const value = (label as Json | null)?.[key];
    return typeof value === 'string' ? [value] : [];
  });

function facts(provider: 'github' | 'gitlab', payload: Json): IssueFacts {
  if (provider === 'github') {
    const issue = child(payload, 'issue', 'issue');
    const repository = child(payload, 'repository', 'repository');
    const removed = payload['action'] === 'unlabeled' ? names([payload['label']], 'name') : [];
    return {
      number: typeof issue['number'] === 'number' ? issue['number'] : null,
      labels: names(issue['labels'], 'name'),
      repository: String(repository['full_name'] ?? ''),
      unlabelled: removed.some(isIncidentLabel),
    };
  }
  const issue = child(payload, 'object_attributes', 'object_attributes');
  const project = optionalChild(payload, 'project', 'project');
  const changed = (optionalChild(payload, 'changes', 'changes')?.['labels'] ?? null) as Json | null;
  const before = names(changed?.['previous'], 'title');
  const after = names(changed?.['current'], 'title');
  return {
    number: typeof issue['iid'] === 'number' ? issue['iid'] : null,
    labels: names(Array.isArray(payload['labels']) ? payload['labels'] : issue['labels'], 'title'),
    repository: String(project?.['path_with_namespace'] ?? ''),
    unlabelled: before.some(isIncidentLabel) && !after.some(isIncidentLabel),
  };
}

/** The configured repository a host's full name names (case-insensitive, as the router matches), or null. */
function configured(config: SteplineConfig, provider: Provider, fullName: string): string | null {
  const wanted = fullName.toLowerCase();
  return config.repositories.find((r) => r.provider === provider && r.name.toLowerCase() === wanted)?.name ?? null;
}

/**
 * A verified issue delivery as the incident to write: `ignored` when the issue is not an incident (no `incident`
 * label), the action changes nothing an incident has, the repository is not configured, or the host has no labels;
 * 400 when the payload lacks the issue's number or creation time.
 */
export function interpretIssue(delivery: Admitted, config: SteplineConfig): Verdict<Incident> {
  try {
    return interpret(delivery, config);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return reject(400, 'malformed_body', error.message);
    throw error;
  }
}

function interpret(delivery: Admitted, config: SteplineConfig): Verdict<Incident> {
  const provider = delivery.provider;
  if (provider === 'bitbucket') {
    return ignore('not_an_incident', 'Bitbucket issues have no labels: an incident is read from GitHub or GitLab');
  }
  const body = decodeBody(delivery.body, delivery.mediaType);
  if (!body.continue) return body;
  const payload = body.value;
  if (provider === 'github' && !GITHUB_ACTIONS.has(String(payload['action']))) {
    return ignore('event_not_handled', `issue action "${String(payload['action'])}" changes no incident`);
  }
  const issue = facts(provider, payload);
  if (issue.number === null) return reject(400, 'malformed_body', 'the issue has no number');
  const repository = configured(config, provider, issue.repository);
  if (repository === null) {
    return ignore(
      'repository_not_configured',
      `repository ${issue.repository || '(none)'} (${provider}) is not configured`,
    );
  }
  // The removal first: the event names the label it removed, whatever list of labels the issue comes with.
  if (issue.unlabelled) {
    const withdrawn = withdrawnIncidentFromIssue(provider, payload, repository);
    if (withdrawn === null) {
      return reject(400, 'malformed_body', `issue #${issue.number} has no valid creation or update time`);
    }
    return proceed(withdrawn);
  }
  if (!issue.labels.some(isIncidentLabel)) {
    return ignore('not_an_incident', `issue #${issue.number} is not labelled ${INCIDENT_LABEL}`);
  }
  const incident = incidentFromIssue(provider, payload, repository);
  if (incident === null) return reject(400, 'malformed_body', `issue #${issue.number} has no valid creation time`);
  return proceed(incident);
}
