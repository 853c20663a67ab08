import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';

/**
 * The commands the runtime and the demo print for a person to copy, written so that they work as printed:
 * - `stepline …` as this shell can call it: `stepline` where it is on the PATH (after `npm link`, or an install),
 *   `npx stepline` inside this checkout (npm runs a project's own `bin`), else `node <checkout>/local/bin/stepline.cjs`;
 * - the AWS CLI against the local endpoint, with the region and credentials it needs before it sends anything
 *   ("You must specify a region", "Unable to locate credentials"): the runtime accepts any signature from a
 *   loopback client, so the credentials are placeholders, given on the command line so that nothing of the
 *   person's own AWS configuration is used or changed (ADR 0075).
 */

/** The checkout this file belongs to. */
export const CHECKOUT = resolve(__dirname, '../..');
const SHIM = join(CHECKOUT, 'local/bin/stepline.cjs');

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** How a person calls `stepline` from `cwd` (where `npm run` was typed: INIT_CWD), with `env`'s PATH. */
export function steplineCommand(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = env['INIT_CWD'] ?? process.cwd(),
): string {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    // npm's own `node_modules/.bin` folders are on the PATH of `npm run` scripts only, not of the person's shell.
    if (!dir || dir.includes(`node_modules${'/'}.bin`)) continue;
    const candidate = join(dir, 'stepline');
    if (existsSync(candidate) && sameFile(candidate, SHIM)) return 'stepline';
  }
  const inside = relative(CHECKOUT, resolve(cwd));
  if (inside === '' || (!inside.startsWith('..') && !inside.startsWith('/'))) return 'npx stepline';
  return `node ${SHIM}`;
}

/** The region and placeholder credentials the AWS CLI needs for the local endpoint (any are accepted there). */
export const LOCAL_AWS_ENV = 'AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local';

/** `aws --endpoint-url <url>` with what it needs to reach the local runtime, ready for a service and an operation. */
export function awsCommand(url: string): string {
  return `${LOCAL_AWS_ENV} aws --endpoint-url ${url}`;
}
