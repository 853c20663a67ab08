import type { Provider } from '../config/schema';
import type { DeploymentRecord, Incident } from './contracts';

/**
 * Incidents and the deploys they are attributed to (ADR 0097). As Google's Four Keys reads them
 * (dora-team/fourkeys, queries/incidents.sql): an issue is an incident when it carries the label `incident` (any
 * case), it opens when the issue is created and is resolved when it is closed, and it names its cause in its text.
 * Stepline reads, in the title and body: `root cause: <commit>` (Four Keys' own form), a commit link
 * (`…/commit/<sha>`, `…/commits/<sha>`), an execution ARN, `deploy: <execution name>`, and `environment: <name>`.
 */

const HEX = '[0-9a-f]{7,40}';
const COMMIT_FORMS = [
  new RegExp(`root cause:\\s*(${HEX})\\b`, 'gi'),
  new RegExp(`/commits?/(${HEX})\\b`, 'gi'),
  new RegExp(`\\bcommit\\s+(${HEX})\\b`, 'gi'),
];
const EXECUTION_ARN = /\barn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^\s:]+:([0-9A-Za-z_-]{1,80})/g;
const DEPLOY_NAME = /\bdeploy:\s*([0-9A-Za-z_-]{1,80})/gi;
const ENVIRONMENT = /\benvironment:\s*([0-9A-Za-z_.-]{1,63})/i;

/** What an incident's text names: commits (lower case), execution names, and an environment. */
export function namedIn(text: string): { commits: string[]; executions: string[]; environment: string | null } {
  const commits = new Set<string>();
  for (const form of COMMIT_FORMS) for (const m of text.matchAll(form)) commits.add((m[1] as string).toLowerCase());
  const executions = new Set<string>();
  for (const m of text.matchAll(EXECUTION_ARN)) executions.add(m[1] as string);
  for (const m of text.matchAll(DEPLOY_NAME)) executions.add(m[1] as string);
  return { commits: [...commits], executions: [...executions], environment: ENVIRONMENT.exec(text)?.[1] ?? null };
}

interface IssueFields {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly labels: readonly string[];
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly updatedAt: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** GitHub's `issues` event (`issue.labels[].name`) or GitLab's Issue Hook (`object_attributes`, `labels[].title`). */
function issueFields(provider: Provider, payload: unknown): IssueFields | null {
  const body = record(payload);
  if (provider === 'github') {
    const issue = record(body['issue']);
    if (typeof issue['number'] !== 'number') return null;
    return {
      number: issue['number'],
      title: text(issue['title']),
      body: text(issue['body']),
      labels: (Array.isArray(issue['labels']) ? issue['labels'] : []).map((l) => text(record(l)['name'])),
      createdAt: text(issue['created_at']),
      closedAt: text(issue['closed_at']) || null,
      updatedAt: text(issue['updated_at']),
    };
  }
  if (provider === 'gitlab') {
    const issue = record(body['object_attributes']);
    if (typeof issue['iid'] !== 'number') return null;
    const labels = Array.isArray(body['labels'])
      ? body['labels']
      : Array.isArray(issue['labels'])
        ? issue['labels']
        : [];
    return {
      number: issue['iid'],
      title: text(issue['title']),
      body: text(issue['description']),
      labels: labels.map((l) => text(record(l)['title'])),
      createdAt: text(issue['created_at']),
      closedAt: text(issue['closed_at']) || null,
      updatedAt: text(issue['updated_at']),
    };
  }
  return null;
}

/** GitLab writes "2013-12-03 17:15:43 UTC" in hooks; everything else is ISO 8601 already. */
function isoOf(value: string): string | null {
  const time = Date.parse(value.replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC$/, '$1T$2Z'));
  return Number.isFinite(time) ? new Date(time).toISOString() : null;
}

/** Whether any of the labels is `incident` (any case, as Four Keys' `LOWER(label) = "incident"`). */
export const isIncidentLabel = (label: string): boolean => label.toLowerCase() === 'incident';

function incidentOf(provider: Provider, issue: IssueFields, repository: string): Incident | null {
  const openedAt = isoOf(issue.createdAt);
  if (!openedAt) return null;
  const named = namedIn(`${issue.title}\n${issue.body}`);
  return {
    id: `${provider}:${repository}#${issue.number}`,
    source: 'issue',
    provider,
    repository,
    environment: named.environment,
    title: issue.title,
    openedAt,
    resolvedAt: issue.closedAt ? isoOf(issue.closedAt) : null,
    commits: named.commits,
    executions: named.executions,
  };
}

/**
 * The incident an issue event describes, or null when the issue is not one (no `incident` label, or not an issue).
 * `repository` is the configured repository's name the delivery was routed to.
 */
export function incidentFromIssue(provider: Provider, payload: unknown, repository: string): Incident | null {
  const issue = issueFields(provider, payload);
  if (issue === null || !issue.labels.some(isIncidentLabel)) return null;
  return incidentOf(provider, issue, repository);
}

/**
 * The incident an issue that lost its `incident` label was, withdrawn at the issue's update time (ADR 0112): the
 * same id, so the write replaces what the store holds. Null when the payload has no issue number or no valid
 * creation or update time. The caller decides that the label was removed (the event says so, not the labels alone).
 */
export function withdrawnIncidentFromIssue(provider: Provider, payload: unknown, repository: string): Incident | null {
  const issue = issueFields(provider, payload);
  if (issue === null) return null;
  const incident = incidentOf(provider, issue, repository);
  const withdrawnAt = isoOf(issue.updatedAt);
  return incident && withdrawnAt ? { ...incident, withdrawnAt } : null;
}

const executionNameOf = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

function names(incident: Incident, record: DeploymentRecord): boolean {
  const byCommit = incident.commits.some(
    (named) => record.sha.startsWith(named) || (record.commits ?? []).some((commit) => commit.sha.startsWith(named)),
  );
  const name = executionNameOf(record.executionArn);
  return byCommit || incident.executions.some((named) => named === name || named === record.executionArn);
}

/**
 * The deploy each incident is attributed to: among the successful deploys before it opened (in its environment and
 * repository when it names them), the latest that carried a commit it names or ran in an execution it names; one
 * that names neither is attributed to the latest successful deploy of its environment before it opened. A withdrawn
 * incident (its label removed, ADR 0112) is attributed to none. Answers the incidents of each record, by record (an
 * incident attributed to none is left out).
 */
export function linkIncidents(
  records: readonly DeploymentRecord[],
  incidents: readonly Incident[],
): Map<DeploymentRecord, Incident[]> {
  const linked = new Map<DeploymentRecord, Incident[]>();
  for (const incident of incidents) {
    if (incident.withdrawnAt) continue;
    const opened = Date.parse(incident.openedAt);
    const named = incident.commits.length > 0 || incident.executions.length > 0;
    if (!named && !incident.environment) continue;
    let chosen: DeploymentRecord | null = null;
    for (const record of records) {
      if (record.result !== 'succeeded' || Date.parse(record.deployedAt) > opened) continue;
      if (incident.environment && record.environment !== incident.environment) continue;
      if (incident.repository && record.repository !== incident.repository) continue;
      if (named && !names(incident, record)) continue;
      if (!chosen || Date.parse(record.deployedAt) >= Date.parse(chosen.deployedAt)) chosen = record;
    }
    if (chosen) linked.set(chosen, [...(linked.get(chosen) ?? []), incident]);
  }
  return linked;
}
