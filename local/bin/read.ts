import { type BuildLike, failureOf, meaningfulLines } from '../console/model/failure';
import type { CliIo, Flags } from './io';

/**
 * The commands that read the runtime: `stepline executions list|show|history`, `stepline approvals`,
 * `stepline statuses`, as tables for a person or JSON (`--json`) for a script.
 */

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A build of the runtime's API (`buildSummary`) as the failure model reads it. */
function buildLike(b: Record<string, unknown>): BuildLike {
  return {
    id: String(b['id']),
    status: String(b['buildStatus']),
    step: str(b['step']),
    suite: str(b['suite']),
    phases: ((b['phases'] as Record<string, unknown>[]) ?? []).map((p) => ({
      name: String(p['phaseType']),
      status: str(p['phaseStatus']),
      messages: ((p['contexts'] as { message?: unknown }[]) ?? []).map((c) => String(c.message ?? '')),
    })),
  };
}

/** The last meaningful lines of one phase of a build's log (all of it when the phase is not known). */
async function phaseLines(io: CliIo, id: string, phase: string | null): Promise<string[]> {
  try {
    const log = await io.api(`/api/builds/${encodeURIComponent(id)}/log?format=json`);
    const chunks = (log['chunks'] as { phase?: string; text?: string }[]) ?? [];
    return meaningfulLines(
      chunks
        .filter((c) => !phase || c.phase === phase)
        .map((c) => c.text ?? '')
        .join(''),
    );
  } catch {
    return [];
  }
}

function print(io: CliIo, line: string): number {
  io.out(line);
  return 0;
}

function table(io: CliIo, rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows)
    io.out(
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
}

function when(iso: unknown): string {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function duration(start: unknown, stop: unknown): string {
  if (typeof start !== 'string') return '-';
  const ms = (typeof stop === 'string' ? Date.parse(stop) : Date.now()) - Date.parse(start);
  return ms < 1000 ? `${ms}ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 60_000)}m`;
}

export async function executionsCommand(args: readonly string[], flags: Flags, io: CliIo): Promise<number> {
  const [sub, ref] = args;
  if (sub === 'list' || sub === undefined) {
    const query = new URLSearchParams();
    if (typeof flags['status'] === 'string') query.set('status', flags['status'].toUpperCase());
    if (typeof flags['repository'] === 'string') query.set('repository', flags['repository']);
    query.set('limit', typeof flags['limit'] === 'string' ? flags['limit'] : '50');
    const body = await io.api(`/api/executions?${query}`);
    const list = body['executions'] as Record<string, unknown>[];
    if (flags['json']) return print(io, JSON.stringify(list));
    if (list.length === 0) return print(io, 'no executions');
    table(io, [
      ['NAME', 'STATUS', 'REPOSITORY', 'STARTED', 'DURATION'],
      ...list.map((e) => [
        String(e['name']),
        String(e['status']),
        String(e['repository'] ?? '-'),
        when(e['startDate']),
        duration(e['startDate'], e['stopDate']),
      ]),
    ]);
    return 0;
  }
  const arn = await io.executionArnOf(ref);
  if (sub === 'show') {
    const e = await io.api(`/api/executions/${encodeURIComponent(arn)}`);
    if (flags['json']) return print(io, JSON.stringify(e));
    io.out(`${e['name']}  ${e['status']}`);
    io.out(`  arn        ${e['executionArn']}`);
    io.out(`  repository ${e['repository'] ?? '-'}`);
    io.out(
      `  started    ${when(e['startDate'])}   stopped ${when(e['stopDate'])}   (${duration(e['startDate'], e['stopDate'])})`,
    );
    if (e['redriveCount']) io.out(`  redriven   ${e['redriveCount']} time(s), last ${when(e['redriveDate'])}`);
    const failure = failureOf(
      { status: String(e['status']), error: str(e['error']), cause: str(e['cause']) },
      ((e['builds'] as Record<string, unknown>[]) ?? []).map(buildLike),
    );
    if (failure) {
      const where = [failure.step, failure.suite ?? failure.environment].filter(Boolean).join(' ');
      io.out(`  error      ${failure.error}${where ? ` at ${where}` : ''}`);
      if (failure.reason) io.out(`  reason     ${failure.reason}`);
      const lines = failure.build ? await phaseLines(io, failure.build.id, failure.build.phase) : [];
      for (const line of lines.filter((l) => !failure.reason.includes(l))) io.out(`             | ${line}`);
      if (failure.logUrl) io.out(`  log        ${failure.logUrl}`);
    }
    const builds = (e['builds'] as Record<string, unknown>[]) ?? [];
    if (builds.length) {
      io.out('  builds');
      for (const b of builds)
        io.out(
          `    ${b['step']}${b['suite'] ? `/${b['suite']}` : ''}  ${b['buildStatus']}  ${b['id']}  ${b['logUrl']}`,
        );
    }
    const statuses = (e['statuses'] as Record<string, unknown>[]) ?? [];
    if (statuses.length) {
      io.out('  statuses');
      for (const s of statuses)
        io.out(`    ${String(s['context']).padEnd(28)} ${String(s['state']).padEnd(10)} ${s['description'] ?? ''}`);
    }
    const approvals = (e['approvals'] as Record<string, unknown>[]) ?? [];
    for (const a of approvals) io.out(`  approval   ${a['environment']}: ${a['status']}  ${a['id']}  ${a['url']}`);
    return 0;
  }
  if (sub === 'history') {
    const body = await io.api(`/api/executions/${encodeURIComponent(arn)}/history`);
    const events = body['events'] as Record<string, unknown>[];
    if (flags['json']) return print(io, JSON.stringify(events));
    table(io, [
      ['ID', 'TIME', 'TYPE', 'STATE', 'DETAIL'],
      ...events.map((event) => {
        const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
          | Record<string, unknown>
          | undefined;
        const detail = details?.['error'] ? `${details['error']}: ${String(details['cause'] ?? '').slice(0, 100)}` : '';
        return [
          String(event['id']),
          when(event['timestamp']),
          String(event['type']),
          String(details?.['name'] ?? ''),
          detail,
        ];
      }),
    ]);
    return 0;
  }
  throw io.usage(`stepline executions ${sub}: use list, show or history`);
}

export async function approvalsCommand(_args: readonly string[], flags: Flags, io: CliIo): Promise<number> {
  const query = typeof flags['status'] === 'string' ? `?status=${encodeURIComponent(flags['status'])}` : '';
  const body = await io.api(`/api/approvals${query}`);
  const list = body['approvals'] as Record<string, unknown>[];
  if (flags['json']) return print(io, JSON.stringify(list));
  if (list.length === 0) return print(io, 'no approvals');
  table(io, [
    ['ID', 'STATUS', 'ENVIRONMENT', 'REPOSITORY', 'COMMIT', 'EXECUTION'],
    ...list.map((a) => [
      String(a['id']),
      String(a['status']),
      String(a['environment']),
      String(a['repository']),
      String(a['commitSha']).slice(0, 7),
      String(a['executionArn']).split(':').pop() ?? '',
    ]),
  ]);
  return 0;
}

export async function statusesCommand(_args: readonly string[], flags: Flags, io: CliIo): Promise<number> {
  const query = new URLSearchParams();
  if (typeof flags['repository'] === 'string') query.set('repository', flags['repository']);
  if (typeof flags['sha'] === 'string') query.set('sha', flags['sha']);
  const body = await io.api(`/api/statuses?${query}`);
  const list = body['statuses'] as Record<string, unknown>[];
  if (flags['json']) return print(io, JSON.stringify(list));
  if (list.length === 0) return print(io, 'no statuses');
  table(io, [
    ['TIME', 'REPOSITORY', 'COMMIT', 'CONTEXT', 'STATE', 'DESCRIPTION'],
    ...list
      .slice()
      .reverse()
      .map((s) => [
        when(s['createdAt']),
        String(s['repository']),
        String(s['sha']).slice(0, 7),
        String(s['context']),
        String(s['state']),
        String(s['description'] ?? ''),
      ]),
  ]);
  return 0;
}
