/**
 * JUnit XML test reports (the `reports` section of a buildspec, `file-format: JUNITXML`): each file's test cases,
 * with their status and time, summed per report group as CodeBuild's report summary does
 * (`total`, `statusCounts` SUCCEEDED / FAILED / ERROR / SKIPPED, duration).
 */

export type TestCaseStatus = 'SUCCEEDED' | 'FAILED' | 'ERROR' | 'SKIPPED';

export interface TestCase {
  readonly name: string;
  readonly suite: string;
  readonly status: TestCaseStatus;
  /** Seconds. */
  readonly durationSeconds: number;
  /** The failure's message (first 1,000 characters). */
  readonly message: string | null;
}

export interface TestReport {
  /** The report group's name, as the buildspec names it. */
  readonly group: string;
  /** `arn:aws:codebuild:<region>:<account>:report/<project>-<group>:<build uuid>`. */
  readonly arn: string;
  readonly files: readonly string[];
  readonly total: number;
  readonly statusCounts: Readonly<Record<TestCaseStatus, number>>;
  readonly durationSeconds: number;
  readonly cases: readonly TestCase[];
  /** Files that could not be read as JUnit XML, with the reason. */
  readonly problems: readonly string[];
}

function decode(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replaceAll('&amp;', '&');
}

function attribute(tag: string, name: string): string | null {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  if (!match) return null;
  return decode(match[2] ?? match[3] ?? '');
}

/** The test cases of one JUnit XML document (testsuites/testsuite/testcase, any nesting). */
export function parseJUnit(xml: string): TestCase[] {
  if (!/<testsuites?[\s>]/.test(xml) && !/<testcase[\s>/]/.test(xml)) {
    throw new Error('not JUnit XML: no <testsuite> or <testcase> element');
  }
  const cases: TestCase[] = [];
  const suites: { name: string; end: number }[] = [];
  const suiteTag = /<testsuite\b[^>]*>/g;
  for (let m = suiteTag.exec(xml); m; m = suiteTag.exec(xml)) {
    const end = xml.indexOf('</testsuite>', m.index);
    suites.push({ name: attribute(m[0], 'name') ?? '', end: end < 0 ? xml.length : end });
  }
  const caseTag = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = caseTag.exec(xml); m; m = caseTag.exec(xml)) {
    const tag = `<testcase${m[1]}>`;
    const body = m[3] ?? '';
    const suite = suites.filter((s) => s.end > m!.index).at(0)?.name ?? '';
    const failure = /<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const skipped = /<skipped\b/.test(body);
    const status: TestCaseStatus = failure
      ? failure[1] === 'error'
        ? 'ERROR'
        : 'FAILED'
      : skipped
        ? 'SKIPPED'
        : 'SUCCEEDED';
    const message = failure
      ? (attribute(`<x${failure[2]}>`, 'message') ?? decode((failure[4] ?? '').trim())).slice(0, 1000) || null
      : null;
    const time = Number(attribute(tag, 'time') ?? '0');
    cases.push({
      name: attribute(tag, 'name') ?? '',
      suite: attribute(tag, 'classname') ?? suite,
      status,
      durationSeconds: Number.isFinite(time) ? time : 0,
      message,
    });
  }
  return cases;
}

/** Sums a report group's test cases. */
export function summarize(
  group: string,
  arn: string,
  files: readonly string[],
  cases: readonly TestCase[],
  problems: readonly string[],
): TestReport {
  const statusCounts: Record<TestCaseStatus, number> = { SUCCEEDED: 0, FAILED: 0, ERROR: 0, SKIPPED: 0 };
  let duration = 0;
  for (const c of cases) {
    statusCounts[c.status] += 1;
    duration += c.durationSeconds;
  }
  return {
    group,
    arn,
    files,
    total: cases.length,
    statusCounts,
    durationSeconds: Math.round(duration * 1000) / 1000,
    cases,
    problems,
  };
}
