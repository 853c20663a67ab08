#!/usr/bin/env node
import * as path from 'node:path';
import { createApp } from './create-app';

/** The CDK app (cdk.json: `npx tsx infra/bin/app.ts`). The CLI synthesizes it when the process ends. */
createApp({ projectRoot: path.resolve(__dirname, '../..') });
