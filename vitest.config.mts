import { defineConfig } from 'vitest/config';

/**
 * Files that run in process only: no runtime, no server they leave behind, no module state another file depends on.
 * They share their worker's module cache (`isolate: false`), so aws-cdk-lib, the AWS SDK and the engine are imported
 * once, not once per file: most of a fresh fork's cost per file (ADR 0116, docs/perf/test-suite.md).
 */
const inProcess = [
  'test/unit/**/*.test.ts',
  'test/infra/**/*.test.ts',
  'test/architecture/**/*.test.ts',
  'test/statemachines/**/*.test.ts',
  'test/dashboards/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'in-process', include: inProcess, isolate: false } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: inProcess } },
    ],
  },
});
