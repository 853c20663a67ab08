#!/usr/bin/env node
// The `stepline` command (package.json `bin`; `npx stepline …` in a clone after `npm ci`): local/cli.ts through
// tsx, as `npm start` runs it. `import('tsx')` registers tsx's ESM and CommonJS hooks, as `node --import tsx` does;
// `require('tsx/cjs')` alone left the CLI's own `import()`s to Node's ESM loader, which refuses the directory import
// of local/runtime (ERR_UNSUPPORTED_DIR_IMPORT).
import('tsx').then(
  () => require('../cli.ts').runFromShell(process.argv.slice(2)),
  (error) => {
    process.stderr.write(`stepline: cannot load tsx (run \`npm ci\` in the Stepline checkout): ${error?.message}\n`);
    process.exitCode = 1;
  },
);
