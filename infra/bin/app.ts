#!/usr/bin/env node
import * as path from 'node:path';
import { SteplineError } from '../../core/errors';
import { createApp } from './create-app';

/**
 * The CDK app (cdk.json: `npx tsx infra/bin/app.ts`). The CLI synthesizes it when the process ends. A configuration
 * or a definition the app refuses (a `SteplineError`: it names the field and what to change) is printed alone, without
 * a stack trace, and the app exits 1.
 */
try {
  createApp({ projectRoot: path.resolve(__dirname, '../..') });
} catch (error) {
  if (!(error instanceof SteplineError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
