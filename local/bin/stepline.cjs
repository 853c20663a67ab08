#!/usr/bin/env node
// The `stepline` command (package.json `bin`): runs local/cli.ts through tsx, as `npm start` does.
require('tsx/cjs');
const { main } = require('../cli.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`stepline: ${error?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
