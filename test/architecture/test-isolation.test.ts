import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The in-process test files share their worker's module cache (ADR 0116): what one file changes on a shared module
 * stays for the next. aws-sdk-client-mock's `mockClient(Client)` stubs the client class's prototype `send`, so a
 * file that does not restore it leaves every later file's real client answering `undefined` (a hand-off test against
 * moto failed so, after the approval tests, in one order of files and not in another).
 */

const ROOT = resolve(__dirname, '..', '..');
/** The folders of the in-process project (vitest.config.mts). */
const IN_PROCESS = ['test/unit', 'test/infra', 'test/architecture', 'test/statemachines', 'test/dashboards'];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The names a file binds to `mockClient(...)`, and whether each is restored. */
function unrestoredMocks(text: string): string[] {
  const names = [...text.matchAll(/\b(?:const|let)\s+(\w+)\s*=\s*mockClient\(/g)].map((m) => m[1] as string);
  return names.filter((name) => !new RegExp(`\\b${name}\\.restore\\(\\)`).test(text));
}

describe('test files that share a module cache', () => {
  it('restore every client mock they make, so that later files get the real clients', () => {
    // Act
    const offenders = IN_PROCESS.flatMap((folder) => testFiles(join(ROOT, folder)))
      .map((file) => ({ file: relative(ROOT, file), text: readFileSync(file, 'utf8') }))
      .filter(({ text }) => /^import [^;]* from 'aws-sdk-client-mock';$/m.test(text))
      .flatMap(({ file, text }) => {
        const calls = text.match(/\bmockClient\(/g)?.length ?? 0;
        const named = text.match(/\b(?:const|let)\s+\w+\s*=\s*mockClient\(/g)?.length ?? 0;
        const unnamed = calls > named;
        return [
          ...unrestoredMocks(text).map((name) => `${file}: ${name} = mockClient(...) is never restored`),
          ...(unnamed ? [`${file}: a mockClient(...) not bound to a name cannot be restored`] : []),
        ];
      });

    // Assess
    expect(offenders).toEqual([]);
  });

  it('finds a mock that is not restored', () => {
    expect(unrestoredMocks('const sfn = mockClient(SFNClient);\nsfn.reset();')).toEqual(['sfn']);
    expect(unrestoredMocks('const sfn = mockClient(SFNClient);\nafterAll(() => sfn.restore());')).toEqual([]);
  });
});
