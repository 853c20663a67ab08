/**
 * What the in-process test files cost, as `npm test` runs them (one module cache per worker, ADR 0116), beside the
 * baseline they had before: the same files, each in a fresh module cache (`--isolate`). Also counts the files of
 * each project, so a file that lands in the wrong one shows.
 *
 *   npm run bench:test-suite            (about 4 minutes on 2 cores; run it on an idle machine)
 *   npm run bench:test-suite -- --all   (also the whole suite's wall time, about 12 more minutes)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VITEST = ['node_modules/vitest/vitest.mjs', 'run'];

interface Measured {
  readonly seconds: number;
  readonly files: number;
  readonly passed: number;
  readonly failed: number;
}

function vitest(args: readonly string[]): Measured {
  // The report goes to a file: tests print to standard output (the functions' EMF lines, for one).
  const folder = mkdtempSync(join(tmpdir(), 'stepline-bench-tests-'));
  const file = join(folder, 'report.json');
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, [...VITEST, '--reporter=json', `--outputFile.json=${file}`, ...args], {
    stdio: 'ignore',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const text = readFileSync(file, 'utf8');
  rmSync(folder, { recursive: true, force: true });
  const report = JSON.parse(text) as {
    numPassedTests: number;
    numFailedTests: number;
    testResults: unknown[];
  };
  return { seconds, files: report.testResults.length, passed: report.numPassedTests, failed: report.numFailedTests };
}

function listed(project: string): number {
  const result = spawnSync(process.execPath, [VITEST[0] as string, 'list', '--filesOnly', '--project', project], {
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter((line) => line.endsWith('.test.ts')).length;
}

function row(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(52)} ${value.padStart(12)}  ${note}`);
}

function main(): void {
  row('files: in-process project', String(listed('in-process')));
  row('files: integration project', String(listed('integration')));

  const shared = vitest(['--project', 'in-process']);
  const isolated = vitest(['--project', 'in-process', '--isolate']);
  const tests = `${shared.passed} passed, ${shared.failed} failed`;
  row(`in-process files (${shared.files}), one module cache per worker`, `${shared.seconds.toFixed(1)} s`, tests);
  row(
    'baseline: the same files, a fresh module cache each',
    `${isolated.seconds.toFixed(1)} s`,
    `${isolated.passed} passed, ${isolated.failed} failed`,
  );
  row('saved', `${(isolated.seconds - shared.seconds).toFixed(1)} s`);

  if (process.argv.includes('--all')) {
    const all = vitest([]);
    row('whole suite (npm test)', `${all.seconds.toFixed(1)} s`, `${all.passed} passed, ${all.failed} failed`);
  }
  if (shared.failed > 0 || shared.passed !== isolated.passed) process.exitCode = 1;
}

main();
