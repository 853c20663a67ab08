import type { Dirent } from 'node:fs';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import picomatch from 'picomatch';
import type { Buildspec } from './buildspec';
import { parseJUnit, summarize, type TestCase, type TestReport } from './reports';
import type { BuildDocument } from './shapes';

/**
 * UPLOAD_ARTIFACTS: the buildspec's `reports` (JUnit XML, summed per group into `reports.json` of the build's
 * artifacts folder) and `artifacts` (copied under that folder, kept after the work folder is pruned).
 *
 * The files are the build's own writing, read by the runtime: only regular files inside the source folder are
 * taken, never through a link and never from a base directory that leaves the source (`..`, or a link to elsewhere),
 * so that a build cannot make the runtime read or copy the runtime's own files.
 */

/**
 * `path` resolved through links, when it is the source folder or inside it; a path that does not exist, as it is
 * when it would be inside (it has no files); else null.
 */
async function insideSource(srcDir: string, path: string): Promise<string | null> {
  const within = (root: string, target: string): boolean => target === root || target.startsWith(`${root}${sep}`);
  const root = await realpath(srcDir);
  const target = await realpath(path).catch(() => null);
  if (target !== null) return within(root, target) ? target : null;
  return within(resolve(srcDir), path) ? path : null;
}

/** Every file below `root` (relative paths, `/`-separated), without `.git`. */
async function walk(root: string, limit = 50_000): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (out.length >= limit) return;
      if (entry.name === '.git') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) out.push(relative(root, full).split('\\').join('/'));
    }
  };
  await visit(root);
  return out;
}

/** Reads the report groups and copies the artifacts; `log` takes one line each. Throws when no artifact matches. */
export async function uploadArtifacts(
  doc: BuildDocument,
  buildspec: Buildspec,
  srcDir: string,
  artifactsDir: string,
  where: { readonly region: string; readonly accountId: string },
  log: (text: string) => void,
): Promise<void> {
  const reports: TestReport[] = [];
  for (const group of buildspec.reports) {
    const base = await insideSource(srcDir, resolve(srcDir, group.baseDirectory));
    if (base === null) {
      log(`Report group ${group.name}: base-directory ${group.baseDirectory} is not a folder of the source; skipped`);
      continue;
    }
    const match = picomatch(group.files.length ? [...group.files] : ['**/*'], { dot: true });
    const files = (await walk(base)).filter((f) => match(f));
    const cases: TestCase[] = [];
    const problems: string[] = [];
    for (const file of files) {
      try {
        cases.push(...parseJUnit(await readFile(join(base, file), 'utf8')));
      } catch (error) {
        problems.push(`${file}: ${(error as Error).message}`);
      }
    }
    const arn = `arn:aws:codebuild:${where.region}:${where.accountId}:report/${doc.projectName}-${group.name}:${doc.logs.streamName}`;
    const report = summarize(group.name, arn, files, cases, problems);
    reports.push(report);
    doc.reportArns.push(arn);
    log(
      `Report group ${group.name}: ${files.length} file(s), ${report.total} test case(s): ${report.statusCounts.SUCCEEDED} passed, ${
        report.statusCounts.FAILED + report.statusCounts.ERROR
      } failed, ${report.statusCounts.SKIPPED} skipped`,
    );
    for (const problem of problems) log(`Report group ${group.name}: ${problem}`);
  }
  if (reports.length > 0) await writeFile(join(artifactsDir, 'reports.json'), JSON.stringify(reports, null, 2));
  const spec = buildspec.artifacts;
  if (!spec || spec.files.length === 0) return;
  const base = await insideSource(srcDir, resolve(srcDir, spec.baseDirectory));
  if (base === null)
    throw new Error(`the artifacts' base-directory ${spec.baseDirectory} is not a folder of the source`);
  const include = picomatch([...spec.files], { dot: true });
  const exclude = spec.excludePaths.length ? picomatch([...spec.excludePaths], { dot: true }) : () => false;
  const files = (await walk(base)).filter((f) => include(f) && !exclude(f));
  if (files.length === 0) {
    throw new Error(`no matching artifact paths found for ${spec.files.join(', ')} in ${spec.baseDirectory}`);
  }
  const target = join(artifactsDir, 'artifacts');
  for (const file of files) {
    const destination = join(target, spec.discardPaths ? basename(file) : file);
    await mkdir(dirname(destination), { recursive: true });
    await copyFile(join(base, file), destination);
  }
  doc.artifacts = { location: pathToFileURL(target).href };
  log(`Uploaded ${files.length} artifact file(s) to ${doc.artifacts.location}`);
}

/** The test reports a build kept (its artifacts folder's `reports.json`), or none. */
export function readReports(artifactsRoot: string, doc: BuildDocument): TestReport[] {
  const file = join(artifactsRoot, doc.projectName, String(doc.buildNumber), 'reports.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TestReport[];
  } catch {
    return [];
  }
}
