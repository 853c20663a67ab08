import type { DoraFigures, DoraReport } from '../../core/insight/compute';
import type { CliIo, Flags } from './io';

/**
 * `stepline metrics dora [--environment E] [--repository R] [--since 30d] [--json] [--backfill]` (ADR 0097, 0098):
 * DORA's four keys per environment, from the deployment records of the running runtime (`GET /api/insight/dora`).
 * `--backfill` first makes the records of runs that ended before the runtime recorded them, from their execution
 * histories (`POST /api/insight/backfill`). A table for a person; the report as JSON with `--json`. With `--aws`, the
 * same from the deployed platform's records in DynamoDB, and backfill from Step Functions (metrics-aws.ts, ADR 0118).
 */

export const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** Seconds as a person reads a lead time: `45s`, `12m`, `3h 20m`, `2d 4h`. */
export function humanDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

const percent = (rate: number | null): string => (rate === null ? '-' : `${Math.round(rate * 100)}%`);

/** Eight levels of a block: a week's successful deploys against the busiest week. */
const BLOCKS = ' ▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const top = Math.max(0, ...values);
  return values.map((v) => (top === 0 ? BLOCKS[1] : BLOCKS[Math.max(1, Math.round((v / top) * 8))])).join('');
}

function row(e: DoraFigures): string[] {
  const f = e.deploymentFrequency;
  const restore = e.timeToRestore.openSince
    ? `${humanDuration(e.timeToRestore.median)} (failed since ${e.timeToRestore.openSince.slice(0, 16)}Z)`
    : humanDuration(e.timeToRestore.median);
  return [
    e.environment,
    `${f.succeeded}`,
    `${f.perDay.toFixed(2)}/day${f.bucket ? `, ${f.bucket}` : ''}`,
    `${humanDuration(e.leadTime.median)} / ${humanDuration(e.leadTime.p90)}`,
    `${percent(e.changeFailureRate.rate)} (${e.changeFailureRate.failures} of ${e.changeFailureRate.deploys})`,
    restore,
    sparkline(e.trend.map((w) => w.succeeded)),
  ];
}

function table(io: Pick<CliIo, 'out'>, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows)
    io.out(
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

/** What a backfill answered: records written, reports that had one; on AWS, the commits it could not time. */
export interface BackfillAnswer {
  readonly written: unknown;
  readonly existing: unknown;
  /** The deploys whose commit times the Git host did not give (`--aws`): no lead time for them. */
  readonly unreadCommits?: readonly { readonly repository: string; readonly commit: string; readonly reason: string }[];
}

/**
 * Prints a report as the runtime's and the AWS path alike print it (`--aws`, metrics-aws.ts): the JSON report (with
 * the backfill's answer first), or the backfill's line, the window and one row per environment.
 */
export function printDora(
  io: Pick<CliIo, 'out'>,
  report: DoraReport,
  options: { readonly flags: Flags; readonly backfilled: BackfillAnswer | null },
): number {
  const { flags, backfilled } = options;
  const environment = str(flags['environment']);
  if (flags['json']) {
    io.out(JSON.stringify(backfilled ? { backfill: backfilled, ...report } : report));
    return 0;
  }
  if (backfilled) {
    io.out(
      `backfill: ${backfilled.written} records made from execution histories, ${backfilled.existing} had one already`,
    );
    const unread = backfilled.unreadCommits ?? [];
    if (unread.length > 0) {
      io.out(`commit times not read for ${unread.length} deploys (no lead time for them):`);
      for (const u of unread) io.out(`  ${u.repository} ${u.commit.slice(0, 7)}: ${u.reason}`);
    }
  }
  const { since, until, days } = report.window;
  io.out(`DORA's four keys, the last ${days} days (${since.slice(0, 10)} to ${until.slice(0, 10)})`);
  if (report.environments.length === 0) {
    io.out(
      `no deploys recorded${environment ? ` to ${environment}` : ''}: a run that reaches an environment records one${
        flags['backfill'] ? '' : ' (--backfill makes the records of earlier runs)'
      }`,
    );
    return 0;
  }
  table(io, [
    [
      'environment',
      'deploys',
      'frequency',
      'lead time p50 / p90',
      'change failure rate',
      'time to restore',
      '12 weeks',
    ],
    ...report.environments.map(row),
  ]);
  return 0;
}

export const METRICS_USAGE =
  'stepline metrics dora [--environment E] [--repository R] [--since 30d] [--json] [--backfill]\n' +
  '       stepline metrics dora --aws [--stack-name Stepline] [--region R] [--state-machine-arn ARN]\n' +
  '                             [--deployments-table NAME] [--tokens-secret ARN] [same options]';

export async function metricsCommand(args: readonly string[], flags: Flags, io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'dora' || rest.length > 0) throw io.usage(METRICS_USAGE);
  if (flags['aws']) return (await import('./metrics-aws')).awsMetricsCommand(flags, io);
  let backfilled: BackfillAnswer | null = null;
  if (flags['backfill']) {
    backfilled = (await io.api('/api/insight/backfill', { method: 'POST', body: {} })) as unknown as BackfillAnswer;
  }
  const query = new URLSearchParams({ since: str(flags['since']) ?? '30d' });
  const environment = str(flags['environment']);
  const repository = str(flags['repository']);
  if (environment) query.set('environment', environment);
  if (repository) query.set('repository', repository);
  const report = (await io.api(`/api/insight/dora?${query}`)) as unknown as DoraReport;
  return printDora(io, report, { flags, backfilled });
}
