import type Database from 'better-sqlite3';
import { localCommitLog } from '../../adapters/local/commit-log';
import { SqliteDeploymentStore } from '../../adapters/local/deployments-sqlite';
import {
  type BackfillSummary,
  backfill,
  type CommitLog,
  computeDora,
  type DeploymentRecord,
  type DeploymentStore,
  type DoraReport,
  parseSince,
  reportsIn,
} from '../../core/insight';
import { HttpError, type Router, readJson, sendJson } from '../server/http';
import type { MetricsRegistry } from '../server/metrics';
import type { ExecutionStore } from '../store';

/**
 * Delivery insight on the local runtime (ADR 0097, 0098): the deployment records the status function writes (its
 * recorder is composed in functions.ts over this store), the four keys on `/metrics` as Prometheus gauges, and the
 * runtime's API that `stepline metrics dora` and the console's Delivery insight page read:
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /api/insight/dora?since=30d&environment=&repository=` | a `DoraReport`: the four keys per environment, their 12-week trend |
 * | `POST /api/insight/backfill` `{}` | `{ written, existing }`: records made from the execution histories the runtime holds |
 *
 * The gauges are the figures of the last `DORA_WINDOW_DAYS` days, computed from the records when one is written, at
 * start, and again at a scrape once a minute has passed (deployment frequency falls as days pass with no deploy).
 */

/** The window of the `/metrics` gauges, in days. */
export const DORA_WINDOW_DAYS = 30;

/** The Prometheus series of the four keys (gauges), by name: what `/metrics` exposes and the dashboard reads. */
export const DORA_SERIES = {
  deploys: 'stepline_dora_deploys',
  succeeded: 'stepline_dora_deploys_succeeded',
  frequency: 'stepline_dora_deployment_frequency_per_day',
  bucket: 'stepline_dora_deployment_frequency_bucket',
  leadTime: 'stepline_dora_lead_time_seconds',
  failures: 'stepline_dora_change_failures',
  failureRate: 'stepline_dora_change_failure_rate',
  timeToRestore: 'stepline_dora_time_to_restore_seconds',
  failedSince: 'stepline_dora_failed_since_timestamp_seconds',
} as const;

const STALE_MS = 60_000;

export interface LocalInsightOptions {
  readonly db: Database.Database;
  readonly metrics: MetricsRegistry;
  readonly executions: ExecutionStore;
  /** The commit log backfill reads commit times from. Default: git, for repositories on this machine. */
  readonly commits?: CommitLog;
  readonly now?: () => Date;
}

export interface LocalInsight {
  /** The store the status function's recorder writes to: each write refreshes the gauges. */
  readonly store: DeploymentStore;
  /** The four keys over the last `days` days. */
  report(query: { days: number; environment?: string; repository?: string }): Promise<DoraReport>;
  /** Records made from the histories of the executions the runtime holds, for the reports that have none. */
  backfill(): Promise<BackfillSummary>;
  /** The runtime API's routes (`/api/insight/*`). */
  routes(router: Router): void;
}

function declare(metrics: MetricsRegistry): void {
  const window = `over the last ${DORA_WINDOW_DAYS} days`;
  metrics.gauge(DORA_SERIES.deploys, `Deploys (successful and failed) ${window}, by environment.`);
  metrics.gauge(DORA_SERIES.succeeded, `Successful deploys ${window}, by environment.`);
  metrics.gauge(DORA_SERIES.frequency, `Deployment frequency: successful deploys per day ${window}, by environment.`);
  metrics.gauge(
    DORA_SERIES.bucket,
    'Deployment frequency bucket of Four Keys (daily, weekly, monthly, yearly) over the last 12 weeks: 1 for the bucket.',
  );
  metrics.gauge(
    DORA_SERIES.leadTime,
    `Lead time for changes (commit to deploy), median (quantile 0.5) and p90 (0.9) ${window}, by environment.`,
  );
  metrics.gauge(DORA_SERIES.failures, `Deploys with a failure attributed to them ${window}, by environment.`);
  metrics.gauge(DORA_SERIES.failureRate, `Change failure rate (0-1) ${window}, by environment.`);
  metrics.gauge(DORA_SERIES.timeToRestore, `Time to restore, median ${window}, by environment.`);
  metrics.gauge(
    DORA_SERIES.failedSince,
    'When the environment failed, while it still is (no successful deploy since), by environment.',
  );
}

/** The gauges of a report: one series per environment (a figure with no value yet has no series). */
function expose(metrics: MetricsRegistry, report: DoraReport | null): void {
  for (const name of Object.values(DORA_SERIES)) metrics.reset(name);
  for (const e of report?.environments ?? []) {
    const env = { environment: e.environment };
    metrics.set(DORA_SERIES.deploys, env, e.changeFailureRate.deploys);
    metrics.set(DORA_SERIES.succeeded, env, e.deploymentFrequency.succeeded);
    metrics.set(DORA_SERIES.frequency, env, e.deploymentFrequency.perDay);
    if (e.deploymentFrequency.bucket) {
      metrics.set(DORA_SERIES.bucket, { ...env, bucket: e.deploymentFrequency.bucket }, 1);
    }
    if (e.leadTime.median !== null) metrics.set(DORA_SERIES.leadTime, { ...env, quantile: '0.5' }, e.leadTime.median);
    if (e.leadTime.p90 !== null) metrics.set(DORA_SERIES.leadTime, { ...env, quantile: '0.9' }, e.leadTime.p90);
    metrics.set(DORA_SERIES.failures, env, e.changeFailureRate.failures);
    if (e.changeFailureRate.rate !== null) metrics.set(DORA_SERIES.failureRate, env, e.changeFailureRate.rate);
    if (e.timeToRestore.median !== null) metrics.set(DORA_SERIES.timeToRestore, env, e.timeToRestore.median);
    if (e.timeToRestore.openSince !== null) {
      metrics.set(DORA_SERIES.failedSince, env, Date.parse(e.timeToRestore.openSince) / 1000);
    }
  }
}

/** A query parameter that is a whole number of days (`30d`, `12w`), or a 400 naming it. */
function daysOf(value: string | null): number {
  const days = parseSince(value ?? `${DORA_WINDOW_DAYS}d`);
  if (days === null) {
    throw new HttpError(400, 'invalid_parameter', `since must be a number of days or weeks (30d, 12w), got "${value}"`);
  }
  return days;
}

export function localInsight(options: LocalInsightOptions): LocalInsight {
  const now = options.now ?? (() => new Date());
  const records = new SqliteDeploymentStore(options.db);
  let figures: DoraReport | null = null;
  let computedAt = 0;
  let refreshing: Promise<void> | null = null;

  const report = async (query: { days: number; environment?: string; repository?: string }) =>
    computeDora(await records.list({}), await records.incidents(), { now: now(), ...query });
  const refresh = (): Promise<void> => {
    refreshing ??= report({ days: DORA_WINDOW_DAYS })
      .then((computed) => {
        figures = computed;
        computedAt = Date.now();
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  };

  declare(options.metrics);
  options.metrics.collect(() => {
    if (Date.now() - computedAt > STALE_MS) void refresh().catch(() => {});
    expose(options.metrics, figures);
  });
  void refresh().catch(() => {});

  const store: DeploymentStore = {
    recent: (stream, limit) => records.recent(stream, limit),
    list: (query) => records.list(query),
    incidents: (since) => records.incidents(since),
    put: async (record: DeploymentRecord) => {
      await records.put(record);
      await refresh().catch(() => {});
    },
    putIncident: async (incident) => {
      await records.putIncident(incident);
      await refresh().catch(() => {});
    },
  };

  const runBackfill = async (): Promise<BackfillSummary> => {
    const reports = [];
    let cursor: string | undefined;
    do {
      const page = options.executions.listExecutions({}, 500, cursor);
      for (const execution of page.items) reports.push(...reportsIn(options.executions.history(execution.arn)));
      cursor = page.next ?? undefined;
    } while (cursor);
    const summary = await backfill(reports, store, options.commits ?? localCommitLog(null));
    await refresh();
    return summary;
  };

  return {
    store,
    report,
    backfill: runBackfill,
    routes(router) {
      router.add('GET', '/api/insight/dora', async ({ res, url }) => {
        const environment = url.searchParams.get('environment') || undefined;
        const repository = url.searchParams.get('repository') || undefined;
        const answer = await report({
          days: daysOf(url.searchParams.get('since')),
          ...(environment ? { environment } : {}),
          ...(repository ? { repository } : {}),
        });
        sendJson(res, 200, answer);
      });
      router.add('POST', '/api/insight/backfill', async ({ req, res }) => {
        // JSON only (readJson refuses anything else): a form of another site cannot send it without a preflight.
        await readJson(req, 1024);
        sendJson(res, 200, await runBackfill());
      });
    },
  };
}
