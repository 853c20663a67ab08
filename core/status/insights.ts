import type { TestFailure } from './checks';
import type { StatusSubject } from './contracts';
import { bitbucketKey, type HostRequest } from './hosts';
import type { StatusUpdate } from './plan';
import { truncate } from './text';

/**
 * Bitbucket Cloud's Code Insights for a test suite (docs/adr/0092): when a suite's status ends, a TEST report on the
 * commit, shown in the pull request's Reports with its result, and its failures as annotations on the diff.
 *
 * - `PUT /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}` {title, details, report_type
 *   TEST, result PASSED|FAILED, reporter, link, data}: creates or replaces the report;
 * - `POST …/reports/{reportId}/annotations`: at most 100 annotations a request, each {external_id, annotation_type
 *   BUG, summary (450 characters), details, path, line, severity, result FAILED}.
 * Plain data: reporter.ts sends it after the suite's commit status.
 */

export const MAX_INSIGHT_ANNOTATIONS_PER_REQUEST = 100;

function repoPath(fullName: string): string {
  const slash = fullName.indexOf('/');
  return `${encodeURIComponent(fullName.slice(0, slash))}/${encodeURIComponent(fullName.slice(slash + 1))}`;
}

/** The suite a context names (`<prefix>/test/<suite>`), or null. */
export function suiteOf(context: string, prefix: string): string | null {
  return context.startsWith(`${prefix}/test/`) ? context.slice(prefix.length + 6) || null : null;
}

/** The report and annotation requests of a suite's final status; none for any other update. */
export function insightRequests(subject: StatusSubject, update: StatusUpdate, prefix: string): HostRequest[] {
  const suite = suiteOf(update.context, prefix);
  if (!suite || (update.state !== 'success' && update.state !== 'failure')) return [];
  const reportId = bitbucketKey(update.context);
  const base = `/repositories/${repoPath(subject.repository)}/commit/${subject.sha}/reports/${encodeURIComponent(reportId)}`;
  const failures: readonly TestFailure[] = update.failures ?? [];
  const report: Record<string, unknown> = {
    title: `Tests: ${suite}`,
    details: truncate(update.description, 2000) || `suite ${suite}`,
    report_type: 'TEST',
    result: update.state === 'success' ? 'PASSED' : 'FAILED',
    reporter: 'Stepline',
    ...(failures.length ? { data: [{ title: 'Failed tests', type: 'NUMBER', value: failures.length }] } : {}),
  };
  if (update.targetUrl && /^https?:\/\//.test(update.targetUrl)) report.link = update.targetUrl;
  const requests: HostRequest[] = [{ method: 'PUT', path: base, body: report }];
  for (let i = 0; i < failures.length; i += MAX_INSIGHT_ANNOTATIONS_PER_REQUEST) {
    requests.push({
      method: 'POST',
      path: `${base}/annotations`,
      body: failures.slice(i, i + MAX_INSIGHT_ANNOTATIONS_PER_REQUEST).map((f, j) => ({
        external_id: `${reportId}-${i + j + 1}`,
        annotation_type: 'BUG',
        summary: truncate(f.title ? `${f.title}: ${f.message}` : f.message, 450) || 'failed',
        details: truncate(f.message, 2000) || 'failed',
        path: f.path,
        line: Math.max(1, Math.trunc(f.line)),
        severity: 'HIGH',
        result: 'FAILED',
      })),
    });
  }
  return requests;
}
