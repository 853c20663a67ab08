import type { DeliveryOutcome, StatusSubject, StepState } from './contracts';
import type { HostRequest, HostResponse } from './hosts';
import type { StatusUpdate } from './plan';
import { truncate } from './text';

/**
 * GitHub's Checks API, for a platform that runs as a GitHub App (docs/adr/0091): one check run per context, named
 * as the context, found again by its name and the run's execution ARN (`external_id`) and updated in place, with
 * its description as the title, a Markdown summary, and test failures as annotations at file and line. Plain data;
 * reporter.ts sends it. Token-based setups keep commit statuses (hosts.ts).
 *
 * - `POST /repos/{owner}/{repo}/check-runs` {name, head_sha, external_id, details_url, status, conclusion,
 *   started_at, completed_at, output {title, summary, text, annotations}};
 * - `PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}`: the same but `head_sha`; annotations are appended;
 * - `GET /repos/{owner}/{repo}/commits/{ref}/check-runs?filter=latest`: the latest check run of each name.
 * GitHub takes at most 50 annotations per request ("To create more than 50 annotations, you have to make multiple
 * requests to the Update a check run endpoint"); a summary or text of at most 65,535 characters.
 */

/** One test failure at a place in the code: a JUnit `<failure>` with the file and line of its test case. */
export interface TestFailure {
  /** The path of the file, relative to the repository root. */
  readonly path: string;
  readonly line: number;
  readonly message: string;
  /** The test's name (`classname.name`). */
  readonly title?: string;
}

export const MAX_ANNOTATIONS_PER_REQUEST = 50;
const MAX_OUTPUT = 65_535;

/** A check run found on the commit. */
export interface CheckRun {
  readonly id: number;
  readonly name: string;
  readonly externalId: string;
  readonly completed: boolean;
}

function repoPath(fullName: string): string {
  const slash = fullName.indexOf('/');
  return `${encodeURIComponent(fullName.slice(0, slash))}/${encodeURIComponent(fullName.slice(slash + 1))}`;
}

/** GitHub's `status` and `conclusion` for Stepline's state. */
export function checkState(state: StepState): { status: 'queued' | 'in_progress' | 'completed'; conclusion?: string } {
  switch (state) {
    case 'pending':
      return { status: 'queued' };
    case 'running':
      return { status: 'in_progress' };
    case 'success':
      return { status: 'completed', conclusion: 'success' };
    case 'skipped':
      // A required check that a path filter skipped must not block the merge: `skipped` counts as passed.
      return { status: 'completed', conclusion: 'skipped' };
    case 'failure':
      return { status: 'completed', conclusion: 'failure' };
    case 'cancelled':
      return { status: 'completed', conclusion: 'cancelled' };
  }
}

/** The Markdown summary of a check run: what happened, the commit and ref, and where to look. */
export function checkSummary(subject: StatusSubject, update: StatusUpdate, failures: readonly TestFailure[]): string {
  const lines = [`**${update.description.replace(/\s+/g, ' ').trim()}**`, ''];
  lines.push(`| | |`, `| --- | --- |`);
  lines.push(`| commit | \`${subject.sha.slice(0, 12)}\` |`);
  if (subject.ref) lines.push(`| ref | \`${subject.ref.replace(/`/g, "'")}\` |`);
  if (subject.pullRequest !== null) lines.push(`| pull request | #${subject.pullRequest} |`);
  if (update.targetUrl) lines.push(`| details | [${linkLabel(update.targetUrl)}](${update.targetUrl}) |`);
  if (failures.length) {
    lines.push('', `### ${failures.length === 1 ? '1 test failed' : `${failures.length} tests failed`}`, '');
    for (const f of failures.slice(0, 20)) {
      lines.push(`- \`${f.path}:${f.line}\` ${f.title ? `**${f.title}**: ` : ''}${truncate(f.message, 300)}`);
    }
    if (failures.length > 20) lines.push(`- … and ${failures.length - 20} more, annotated on the files`);
  }
  const text = lines.join('\n');
  return text.length > MAX_OUTPUT ? `${text.slice(0, MAX_OUTPUT - 1)}…` : text;
}

function linkLabel(url: string): string {
  if (/console\.aws\.amazon\.com\/states/.test(url) || /\/executions\//.test(url) || /\/runs\//.test(url)) {
    return 'the run';
  }
  if (/cloudwatch|\/builds\//.test(url)) return 'the log';
  return 'details';
}

/** The annotations of test failures, in batches of at most 50. */
export function annotationBatches(failures: readonly TestFailure[]): Record<string, unknown>[][] {
  const annotations = failures.map((f) => ({
    path: f.path,
    start_line: Math.max(1, Math.trunc(f.line)),
    end_line: Math.max(1, Math.trunc(f.line)),
    annotation_level: 'failure',
    message: truncate(f.message, 64_000) || 'failed',
    ...(f.title ? { title: truncate(f.title, 255) } : {}),
  }));
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST) {
    batches.push(annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  }
  return batches;
}

/** The body of a check run's create or update, with the first batch of annotations. */
function checkBody(
  subject: StatusSubject,
  update: StatusUpdate,
  executionArn: string | null,
  failures: readonly TestFailure[],
  now: string,
): Record<string, unknown> {
  const { status, conclusion } = checkState(update.state);
  const first = annotationBatches(failures)[0];
  const body: Record<string, unknown> = {
    name: update.context,
    status,
    ...(conclusion ? { conclusion, completed_at: now } : {}),
    ...(status === 'in_progress' ? { started_at: now } : {}),
    external_id: executionArn ?? '',
    output: {
      title: truncate(update.description, 255) || update.context,
      summary: checkSummary(subject, update, failures),
      ...(first ? { annotations: first } : {}),
    },
  };
  if (update.targetUrl && /^https?:\/\//.test(update.targetUrl)) body.details_url = update.targetUrl;
  return body;
}

export function createCheckRunRequest(
  subject: StatusSubject,
  update: StatusUpdate,
  executionArn: string | null,
  failures: readonly TestFailure[],
  now: string,
): HostRequest {
  return {
    method: 'POST',
    path: `/repos/${repoPath(subject.repository)}/check-runs`,
    body: { ...checkBody(subject, update, executionArn, failures, now), head_sha: subject.sha },
  };
}

export function updateCheckRunRequest(
  subject: StatusSubject,
  id: number,
  update: StatusUpdate,
  executionArn: string | null,
  failures: readonly TestFailure[],
  now: string,
): HostRequest {
  return {
    method: 'PATCH',
    path: `/repos/${repoPath(subject.repository)}/check-runs/${id}`,
    body: checkBody(subject, update, executionArn, failures, now),
  };
}

/** The annotations after the first 50: one more update per batch, each with the same title and summary. */
export function moreAnnotationsRequests(
  subject: StatusSubject,
  id: number,
  update: StatusUpdate,
  failures: readonly TestFailure[],
): HostRequest[] {
  return annotationBatches(failures)
    .slice(1)
    .map((annotations) => ({
      method: 'PATCH' as const,
      path: `/repos/${repoPath(subject.repository)}/check-runs/${id}`,
      body: {
        output: {
          title: truncate(update.description, 255) || update.context,
          summary: checkSummary(subject, update, failures),
          annotations,
        },
      },
    }));
}

/** `GET …/commits/{sha}/check-runs?filter=latest`: the latest check run of each name on the commit. */
export function listCheckRunsRequest(subject: StatusSubject): HostRequest {
  return {
    method: 'GET',
    path: `/repos/${repoPath(subject.repository)}/commits/${subject.sha}/check-runs`,
    query: { filter: 'latest', per_page: '100' },
  };
}

export function parseCheckRuns(body: unknown): CheckRun[] {
  const list = (body as { check_runs?: unknown } | null)?.check_runs;
  if (!Array.isArray(list)) return [];
  return list
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && typeof r.id === 'number')
    .map((r) => ({
      id: r.id as number,
      name: String(r.name ?? ''),
      externalId: String(r.external_id ?? ''),
      completed: r.status === 'completed',
    }));
}

/** This run's check run of a context, among the commit's: same name, same execution (or none yet named). */
export function findCheckRun(runs: readonly CheckRun[], context: string, executionArn: string | null): CheckRun | null {
  return runs.find((r) => r.name === context && r.externalId === (executionArn ?? '')) ?? null;
}

/** A failed outcome's few words. */
export function checkRefusal(context: string, state: string, response: HostResponse): DeliveryOutcome {
  const message = (response.body as { message?: unknown } | null)?.message;
  return {
    context,
    state,
    outcome: 'failed',
    httpStatus: response.status,
    error:
      typeof message === 'string' ? `HTTP ${response.status}: ${truncate(message, 200)}` : `HTTP ${response.status}`,
  };
}
