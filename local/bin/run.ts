import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, type SteplineConfig } from '../../core/config';
import {
  configuredRepository,
  defaultKnownRepository,
  manualDeliveryId,
  manualRequest,
  type PlannedRun,
  planRun,
  resolveRef,
} from '../runtime/runs';
import { steplineCommand } from './hints';
import type { Flags, CliIo as RunIo } from './io';

/**
 * `stepline run` and `stepline rerun` (ADR 0076):
 *
 *   stepline run <repository> <branch|tag|sha> [--environments a,b] [--sha SHA] [--route-as REF] [--as LOGIN]
 *                [--clone-url URL] [--json]                     starts a run on the local runtime
 *   stepline run <repository> <ref> --sha SHA --aws [--config FILE] [--clone-url URL] [--stack-name NAME]
 *                                                               prints the `aws stepfunctions start-execution` command
 *   stepline rerun <execution> [--from-failed] [--as LOGIN] [--json]
 */

function list(value: string | boolean | undefined): string[] | undefined {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
    : undefined;
}

const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

function said(io: RunIo, flags: Flags, body: Record<string, unknown>): number {
  const name = String(body['name']);
  const arn = String(body['executionArn']);
  if (flags['json']) {
    io.out(JSON.stringify({ status: body['status'], executionArn: arn, name }));
    return 0;
  }
  io.out(`${body['status'] === 'duplicate' ? 'already started' : 'started'}: ${name}`);
  const prebuilt = (body['input'] as { prebuilt?: { image?: { digest?: string }; from?: string } } | undefined)
    ?.prebuilt;
  if (prebuilt?.image?.digest) {
    // A re-run from the failed environment deploys the image an earlier run built (ADR 0106).
    io.out(
      `  image    ${prebuilt.image.digest}, built by ${String(prebuilt.from).split(':').pop()} (no build, no tests)`,
    );
  }
  io.out(`  console  ${io.baseUrl()}/executions/${encodeURIComponent(arn)}`);
  io.out(`  follow   ${steplineCommand()} executions show ${name}${flags['url'] ? ` --url ${io.baseUrl()}` : ''}`);
  return 0;
}

export async function runCommand(args: readonly string[], flags: Flags, io: RunIo): Promise<number> {
  const [repository, ref, ...rest] = args;
  if (!repository || !ref || rest.length > 0)
    throw io.usage('stepline run <repository> <branch|tag|sha> [--environments a,b]');
  const environments = list(flags['environments']);
  if (flags['aws']) return printStartExecution(repository, ref, flags, io, environments);
  const body = await io.api('/api/runs', {
    method: 'POST',
    body: {
      repository,
      ref,
      ...(environments ? { environments } : {}),
      ...(str(flags['sha']) ? { sha: str(flags['sha']) } : {}),
      ...(str(flags['route-as']) ? { routeAs: str(flags['route-as']) } : {}),
      ...(str(flags['clone-url']) ? { cloneUrl: str(flags['clone-url']) } : {}),
      ...(str(flags['as']) ? { by: str(flags['as']) } : {}),
    },
  });
  return said(io, flags, body);
}

export async function rerunCommand(args: readonly string[], flags: Flags, io: RunIo): Promise<number> {
  if (args.length !== 1) throw io.usage('stepline rerun <execution> [--from-failed]');
  const arn = await io.executionArnOf(args[0]);
  const body = await io.api(`/api/executions/${encodeURIComponent(arn)}/rerun`, {
    method: 'POST',
    body: {
      ...(flags['from-failed'] ? { from: 'failed' } : {}),
      ...(str(flags['as']) ? { by: str(flags['as']) } : {}),
    },
  });
  return said(io, flags, body);
}

/** The configuration `--config`, `STEPLINE_CONFIG` (a path or the document) or ./stepline.config.json names. */
function readConfig(flags: Flags): SteplineConfig {
  const value = str(flags['config']) ?? process.env['STEPLINE_CONFIG'] ?? 'stepline.config.json';
  if (value.trimStart().startsWith('{')) return parseConfig(value, 'STEPLINE_CONFIG (inline JSON)');
  const path = resolve(value);
  if (!existsSync(path)) throw new Error(`the configuration ${path} does not exist: give --config FILE`);
  return parseConfig(readFileSync(path, 'utf8'), value);
}

/** A word for bash: single quotes, with the single quotes inside closed, escaped and reopened. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The execution a run by hand would start on AWS, planned offline from the configuration (no runtime, no remote). */
export async function planOffline(
  config: SteplineConfig,
  options: {
    readonly repository: string;
    readonly ref: string;
    readonly sha: string;
    readonly by: string;
    readonly environments?: readonly string[];
    readonly cloneUrl?: string;
    readonly deliveryId?: string;
  },
): Promise<PlannedRun> {
  const repo = configuredRepository(config, options.repository);
  const known = defaultKnownRepository(repo.provider, repo.name, repo.defaultBranch);
  const resolved = await resolveRef({
    cloneUrl: options.cloneUrl ?? known.cloneUrl,
    ref: options.ref,
    sha: options.sha,
    defaultBranch: repo.defaultBranch,
  });
  const request = manualRequest({
    provider: repo.provider,
    repository: repo.name,
    known: options.cloneUrl ? { ...known, cloneUrl: options.cloneUrl } : known,
    ref: resolved.ref,
    sha: resolved.sha,
    message: resolved.message,
    by: options.by,
    deliveryId: options.deliveryId ?? manualDeliveryId(),
  });
  return planRun(config, request, options.environments);
}

async function printStartExecution(
  repository: string,
  ref: string,
  flags: Flags,
  io: RunIo,
  environments: string[] | undefined,
): Promise<number> {
  const sha = str(flags['sha']);
  if (!sha) throw io.usage('--aws needs --sha: the commit to build (40 hex digits)');
  const cloneUrl = str(flags['clone-url']);
  const planned = await planOffline(readConfig(flags), {
    repository,
    ref,
    sha,
    by: str(flags['as']) ?? process.env['USER'] ?? 'stepline',
    ...(environments ? { environments } : {}),
    ...(cloneUrl ? { cloneUrl } : {}),
  });
  if (flags['json']) {
    io.out(JSON.stringify({ name: planned.name, input: planned.input }));
    return 0;
  }
  const stack = str(flags['stack-name']) ?? 'Stepline';
  const arn = `"$(aws cloudformation describe-stacks --stack-name ${stack} --query "Stacks[0].Outputs[?OutputKey=='StateMachineArn'].OutputValue" --output text)"`;
  io.out(
    `aws stepfunctions start-execution --state-machine-arn ${arn} --name ${planned.name} --input ${shellQuote(JSON.stringify(planned.input))}`,
  );
  return 0;
}
