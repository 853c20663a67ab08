import type { TestFailure } from './checks';

/**
 * Test failures at file and line from a JUnit XML report (the format CodeBuild's test reports and most test
 * runners write): each `<testcase>` with a `<failure>` or `<error>`. The place is the test case's `file` and
 * `line` attributes (pytest, vitest, jest-junit), else the first `path:line` of the failure's text that is not a
 * dependency's; a failure with no place is left out (a check run's annotation needs one). Pure: no XML library,
 * only the few elements JUnit reports use.
 */

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) => ENTITIES[name] ?? '')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(Number.parseInt(code, 16)));
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of tag.matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    out[match[1]!] = decode(match[3] ?? match[4] ?? '');
  }
  return out;
}

/** The first `path:line` of a text that is the repository's own (no node_modules, no absolute system path). */
function placeIn(text: string): { path: string; line: number } | null {
  for (const match of text.matchAll(/((?:[\w@.-]+\/)*[\w@.-]+\.[A-Za-z]{1,5}):(\d+)/g)) {
    const path = match[1]!.replace(/^\.\//, '');
    if (path.includes('node_modules/') || path.startsWith('internal/')) continue;
    return { path, line: Number(match[2]) };
  }
  return null;
}

/** The failures of a JUnit XML report, at most `limit` (default 1,000). */
export function junitFailures(xml: string, limit = 1000): TestFailure[] {
  const failures: TestFailure[] = [];
  for (const testcase of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (failures.length >= limit) break;
    const body = testcase[2] ?? '';
    const failure = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    if (!failure) continue;
    const test = attributes(testcase[1]!);
    const what = attributes(failure[2]!);
    const text = decode(failure[3] ?? '');
    const message = (what.message || text.trim().split('\n')[0] || 'failed').trim();
    const line = Number(test.line);
    const place =
      test.file && Number.isInteger(line) && line > 0 ? { path: test.file.replace(/^\.\//, ''), line } : placeIn(text);
    if (!place) continue;
    const title = [test.classname, test.name].filter(Boolean).join('.');
    failures.push({ ...place, message, ...(title ? { title } : {}) });
  }
  return failures;
}
