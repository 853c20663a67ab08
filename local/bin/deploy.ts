import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HANDOFF_HEADERS, HANDOFF_PATH, type HandoffPayload } from '../../core/contracts/handoff';
import type { CliIo, Flags } from './io';

/**
 * `stepline deploy` (docs/adr/0100): hands Stepline an image another CI built. It signs the hand-off with the
 * source's secret (HMAC-SHA256 of the exact body) and sends it to `POST /webhooks/generic`; the run starts at the
 * promotion, with no build. For a Jenkins or CircleCI step, or anywhere `curl` and `openssl` would do (README,
 * "Deploy what another CI built").
 *
 *   stepline deploy --image REPO@sha256:… --commit SHA --ref REF [--repository R] [--environments a,b] [--tests]
 *                   [--manifests LOCATION] [--build-url URL] [--source NAME] [--secret-file F] [--delivery ID]
 *                   [--url URL] [--json]
 *
 * The secret: `--secret-file` (the secret alone, or the runtime's JSON file of sources), else
 * `$STEPLINE_HANDOFF_SECRET`, else the local runtime's `<state folder>/handoff-secrets.json`. The delivery id:
 * `--delivery`, else the CI's own (Jenkins `BUILD_TAG`, CircleCI `CIRCLE_WORKFLOW_JOB_ID`, GitHub Actions
 * `GITHUB_RUN_ID`-`GITHUB_RUN_ATTEMPT`, GitLab `CI_JOB_ID`) with the commit, else a hash of the body: a retried step
 * sends the same id, and Stepline starts nothing new (200 duplicate).
 *
 * Exit codes: 0 started (or already started), 1 refused (the reason printed), 2 a usage error, 3 unreachable.
 */

const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** The secret, from a file that holds it alone or the runtime's `{ "<source>": "<secret>" }`. */
function secretFromFile(path: string, source: string | undefined, io: CliIo): { secret: string; source?: string } {
  if (!existsSync(path)) throw io.usage(`no secret file at ${path}: give --secret-file or STEPLINE_HANDOFF_SECRET`);
  const text = readFileSync(path, 'utf8').trim();
  if (!text.startsWith('{')) return { secret: text };
  const sources = JSON.parse(text) as Record<string, string | { current?: string }>;
  const names = Object.keys(sources);
  const name = source ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) throw io.usage(`${path} has several sources (${names.join(', ')}): name one with --source`);
  const entry = sources[name];
  const secret = typeof entry === 'string' ? entry : entry?.current;
  if (!secret) throw io.usage(`${path} has no secret for source "${name}"`);
  return { secret, source: name };
}

/** The id a retry of the same CI step sends again. */
function deliveryId(flags: Flags, body: string, commit: string): string {
  const given = str(flags['delivery']);
  if (given) return given;
  const env = process.env;
  const ci =
    env['BUILD_TAG'] ??
    env['CIRCLE_WORKFLOW_JOB_ID'] ??
    (env['GITHUB_RUN_ID'] ? `${env['GITHUB_RUN_ID']}-${env['GITHUB_RUN_ATTEMPT'] ?? '1'}` : undefined) ??
    env['CI_JOB_ID'];
  if (ci) return `${ci}-${commit.slice(0, 12)}`.replace(/[^\x21-\x7e]/g, '-').slice(0, 200);
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

function payloadOf(flags: Flags, io: CliIo): HandoffPayload {
  const image = str(flags['image']);
  const commit = str(flags['commit']) ?? str(flags['sha']);
  const ref = str(flags['ref']);
  const repository = str(flags['repository']) ?? process.env['STEPLINE_REPOSITORY'];
  const missing = [
    image ? null : '--image REPO@sha256:…',
    commit ? null : '--commit SHA',
    ref ? null : '--ref REF',
    repository ? null : '--repository OWNER/NAME',
  ].filter(Boolean);
  if (missing.length > 0) throw io.usage(`deploy needs ${missing.join(', ')}`);
  const environments = str(flags['environments'])
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return {
    repository: repository!,
    commit: commit!,
    ref: ref!,
    image: image!,
    ...(str(flags['manifests']) ? { manifests: str(flags['manifests'])! } : {}),
    ...(environments?.length ? { environments } : {}),
    ...(flags['tests'] === true ? { tests: true } : {}),
    ...(str(flags['build-url']) ? { buildUrl: str(flags['build-url'])! } : {}),
  };
}

export async function deployCommand(args: readonly string[], flags: Flags, io: CliIo): Promise<number> {
  if (args.length > 0) throw io.usage(`deploy takes options only, not "${args[0]}"`);
  const payload = payloadOf(flags, io);
  const body = JSON.stringify(payload);
  const envSecret = process.env['STEPLINE_HANDOFF_SECRET'];
  const file = str(flags['secret-file']);
  const stateFile = join(resolve(process.env['STEPLINE_STATE_DIR'] ?? '.stepline'), 'handoff-secrets.json');
  const fromFile =
    file || !envSecret ? secretFromFile(file ?? stateFile, str(flags['source']), io) : { secret: envSecret };
  const source = str(flags['source']) ?? fromFile.source ?? process.env['STEPLINE_HANDOFF_SOURCE'];
  if (!source) throw io.usage('deploy needs --source NAME (the source configured under handoffs.sources)');
  const signature = `sha256=${createHmac('sha256', fromFile.secret).update(body).digest('hex')}`;
  const delivery = deliveryId(flags, body, payload.commit);
  const url = `${io.baseUrl()}${HANDOFF_PATH}`;

  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [HANDOFF_HEADERS.source]: source,
        [HANDOFF_HEADERS.delivery]: delivery,
        [HANDOFF_HEADERS.signature]: signature,
      },
      body,
    });
  } catch (error) {
    process.stderr.write(`stepline: cannot reach ${url}: ${(error as Error).message}\n`);
    return 3;
  }
  const text = await response.text();
  let answer: Record<string, unknown> = {};
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = { message: text.slice(0, 200) };
  }
  if (flags['json']) io.out(JSON.stringify({ httpStatus: response.status, delivery, ...answer }));
  if (response.status >= 400) {
    if (!flags['json']) {
      process.stderr.write(
        `stepline: hand-off refused (${response.status} ${String(answer['error'] ?? '')}): ${String(answer['message'] ?? '')}\n`,
      );
    }
    return response.status >= 500 ? 3 : 1;
  }
  if (!flags['json']) {
    const status = String(answer['status']);
    io.out(
      `${status === 'duplicate' ? 'already started' : status}: ${String(answer['name'] ?? '')} (delivery ${delivery})`,
    );
    io.out(`  image    ${payload.image} (no build${payload.tests ? '; the suites run' : ''})`);
  }
  return 0;
}
