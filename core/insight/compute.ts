import type { DeploymentRecord, Incident } from './contracts';
import { linkIncidents } from './incidents';
import { isDeploy, isFailedDeploy, leadTimesOf } from './record';

/**
 * The four keys of DORA per environment, from deployment records and incidents (ADR 0097; the definitions are the
 * README's "Delivery insight" section). Everything is a pure function of the records, the incidents and `now`, so a
 * figure can be computed by hand from a fixture (test/unit/insight/compute.test.ts does).
 *
 * - Deployment frequency: successful deploys in the window ÷ its days; and Four Keys' bucket over the last 12 weeks
 *   (dora-team/fourkeys METRICS.md, "Calculating the bucket"): daily when the median number of days per week with a
 *   successful deploy is 3 or more; weekly when the median week has one; monthly when the median 4-week period has
 *   one week with one; else yearly. Weeks that end before the environment's first record do not count.
 * - Lead time for changes: for each commit each successful deploy carried (the deployed commit and those since the
 *   environment's previous successful deploy), the deploy's time minus the commit's; median and p90.
 * - Change failure rate: deploys with a failure attributed to them (a failed deploy: rolled back, failed rollout,
 *   canary abort; or a successful one an incident is attributed to) ÷ deploys. A deploy refused before anything was
 *   applied is neither.
 * - Time to restore: per repository and environment, from the first failed deploy after a success to the next
 *   successful deploy; and, for each incident attributed to a deploy there, from its opening to its resolution;
 *   median.
 *
 * Medians and percentiles interpolate linearly between the two nearest values, as BigQuery's PERCENTILE_CONT (which
 * Four Keys uses) does.
 */

export type FrequencyBucket = 'daily' | 'weekly' | 'monthly' | 'yearly';

export interface DoraOptions {
  readonly now: Date;
  /** The window: the last this many days up to `now`. */
  readonly days: number;
  readonly environment?: string;
  readonly repository?: string;
}

/** One week of the trend: the seven UTC days from `start`. */
export interface TrendWeek {
  readonly start: string;
  readonly deploys: number;
  readonly succeeded: number;
  readonly leadTimeMedian: number | null;
  readonly changeFailureRate: number | null;
  readonly timeToRestoreMedian: number | null;
}

export interface DoraFigures {
  readonly environment: string;
  readonly repositories: readonly string[];
  readonly deploymentFrequency: {
    /** Successful deploys in the window. */
    readonly succeeded: number;
    readonly perDay: number;
    readonly bucket: FrequencyBucket | null;
    /** Days with a successful deploy in each of the last 12 weeks, oldest first (null: before the first record). */
    readonly daysPerWeek: readonly (number | null)[];
    readonly medianDaysPerWeek: number | null;
  };
  /** Seconds. */
  readonly leadTime: { readonly changes: number; readonly median: number | null; readonly p90: number | null };
  readonly changeFailureRate: { readonly failures: number; readonly deploys: number; readonly rate: number | null };
  /** Seconds; `openSince`: the environment is failed now, since then (no successful deploy after the failure). */
  readonly timeToRestore: {
    readonly restores: number;
    readonly median: number | null;
    readonly openSince: string | null;
  };
  readonly trend: readonly TrendWeek[];
}

export interface DoraReport {
  readonly window: { readonly since: string; readonly until: string; readonly days: number };
  readonly environments: readonly DoraFigures[];
}

const DAY = 86_400_000;
export const TREND_WEEKS = 12;

/** PERCENTILE_CONT: linear interpolation between the closest ranks; null for no values. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const low = sorted[lo] as number;
  const high = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return low + (h - lo) * (high - low);
}

export const median = (values: readonly number[]): number | null => percentile(values, 0.5);

/** `30d`, `12w`, `48h` (whole days, at least 1), or a number of days. */
export function parseSince(value: string): number | null {
  const m = /^(\d+)\s*([dwh]?)$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const days = m[2] === 'w' ? n * 7 : m[2] === 'h' ? n / 24 : n;
  return days > 0 ? days : null;
}

/** A restore: a failed stretch that a successful deploy ended, or an attributed incident that was resolved. */
interface Restore {
  readonly environment: string;
  readonly restoredAt: number;
  readonly seconds: number;
}

/** Failed stretches per stream: the first failed deploy after a success, to the next successful deploy. */
function stretches(records: readonly DeploymentRecord[]): { restores: Restore[]; open: Map<string, number> } {
  const byStream = new Map<string, DeploymentRecord[]>();
  for (const record of records) byStream.set(record.stream, [...(byStream.get(record.stream) ?? []), record]);
  const restores: Restore[] = [];
  const open = new Map<string, number>();
  for (const list of byStream.values()) {
    let failedSince: number | null = null;
    for (const record of [...list].sort((a, b) => Date.parse(a.deployedAt) - Date.parse(b.deployedAt))) {
      const at = Date.parse(record.deployedAt);
      if (isFailedDeploy(record)) failedSince ??= at;
      else if (record.result === 'succeeded' && failedSince !== null) {
        restores.push({ environment: record.environment, restoredAt: at, seconds: (at - failedSince) / 1000 });
        failedSince = null;
      }
    }
    const environment = list[0]?.environment as string;
    if (failedSince !== null) open.set(environment, Math.min(open.get(environment) ?? failedSince, failedSince));
  }
  return { restores, open };
}

/** Days with a successful deploy in each of the 12 weeks ending on `now`'s UTC day; null for weeks before `first`. */
function daysPerWeek(records: readonly DeploymentRecord[], now: Date, first: number): (number | null)[] {
  const today = Math.floor(now.getTime() / DAY);
  const firstDay = Math.floor(first / DAY);
  const start = today - TREND_WEEKS * 7 + 1;
  const days = new Set(
    records.filter((r) => r.result === 'succeeded').map((r) => Math.floor(Date.parse(r.deployedAt) / DAY)),
  );
  return Array.from({ length: TREND_WEEKS }, (_, week) => {
    const from = start + week * 7;
    if (from + 6 < firstDay) return null;
    let count = 0;
    for (let day = from; day < from + 7; day++) if (days.has(day)) count++;
    return count;
  });
}

/** Four Keys' bucket from the days per week (weeks before the first record left out). */
export function frequencyBucket(weeks: readonly (number | null)[]): FrequencyBucket | null {
  const counted = weeks.filter((w): w is number => w !== null);
  if (counted.length === 0) return null;
  if ((median(counted) ?? 0) >= 3) return 'daily';
  if ((median(counted.map((d) => (d > 0 ? 1 : 0))) ?? 0) >= 1) return 'weekly';
  const months: number[] = [];
  for (let i = 0; i < weeks.length; i += 4) {
    const month = weeks.slice(i, i + 4).filter((w): w is number => w !== null);
    if (month.length > 0) months.push(month.filter((d) => d > 0).length);
  }
  return (median(months) ?? 0) >= 1 ? 'monthly' : 'yearly';
}

function within(time: number, from: number, to: number): boolean {
  return time >= from && time <= to;
}

interface Figures {
  readonly deploys: DeploymentRecord[];
  readonly linked: Map<DeploymentRecord, Incident[]>;
  readonly restores: Restore[];
}

/** The counts and percentiles of one period (the window, or one week of the trend). */
function figuresOf(all: Figures, from: number, to: number) {
  const deploys = all.deploys.filter((r) => within(Date.parse(r.deployedAt), from, to));
  const succeeded = deploys.filter((r) => r.result === 'succeeded');
  const leadTimes = succeeded.flatMap(leadTimesOf);
  const failures = deploys.filter((r) => isFailedDeploy(r) || (all.linked.get(r)?.length ?? 0) > 0).length;
  const restores = all.restores.filter((r) => within(r.restoredAt, from, to)).map((r) => r.seconds);
  return {
    deploys: deploys.length,
    succeeded: succeeded.length,
    leadTimes,
    failures,
    changeFailureRate: deploys.length > 0 ? failures / deploys.length : null,
    restores,
  };
}

/** The four keys of each environment (one environment, or only a repository's, when the options say so). */
export function computeDora(
  allRecords: readonly DeploymentRecord[],
  incidents: readonly Incident[],
  options: DoraOptions,
): DoraReport {
  const until = options.now.getTime();
  const since = until - options.days * DAY;
  const records = allRecords.filter(
    (r) =>
      (!options.environment || r.environment === options.environment) &&
      (!options.repository || r.repository === options.repository) &&
      Date.parse(r.deployedAt) <= until,
  );
  const linked = linkIncidents(records, incidents);
  const { restores: deployRestores, open } = stretches(records);
  const incidentRestores: Restore[] = [];
  for (const [record, list] of linked) {
    for (const incident of list) {
      if (!incident.resolvedAt) continue;
      const restoredAt = Date.parse(incident.resolvedAt);
      const seconds = (restoredAt - Date.parse(incident.openedAt)) / 1000;
      if (seconds >= 0) incidentRestores.push({ environment: record.environment, restoredAt, seconds });
    }
  }
  const environments = [...new Set(records.map((r) => r.environment))].sort();
  const today = Math.floor(until / DAY);
  const trendStart = (today - TREND_WEEKS * 7 + 1) * DAY;
  return {
    window: { since: new Date(since).toISOString(), until: new Date(until).toISOString(), days: options.days },
    environments: environments.map((environment): DoraFigures => {
      const own = records.filter((r) => r.environment === environment);
      const all: Figures = {
        deploys: own.filter(isDeploy),
        linked,
        restores: [...deployRestores, ...incidentRestores].filter((r) => r.environment === environment),
      };
      const window = figuresOf(all, since, until);
      const first = Math.min(...own.map((r) => Date.parse(r.deployedAt)));
      const weeks = daysPerWeek(own, options.now, first);
      const counted = weeks.filter((w): w is number => w !== null);
      const openSince = open.get(environment);
      return {
        environment,
        repositories: [...new Set(own.map((r) => r.repository))].sort(),
        deploymentFrequency: {
          succeeded: window.succeeded,
          perDay: window.succeeded / options.days,
          bucket: frequencyBucket(weeks),
          daysPerWeek: weeks,
          medianDaysPerWeek: median(counted),
        },
        leadTime: {
          changes: window.leadTimes.length,
          median: median(window.leadTimes),
          p90: percentile(window.leadTimes, 0.9),
        },
        changeFailureRate: { failures: window.failures, deploys: window.deploys, rate: window.changeFailureRate },
        timeToRestore: {
          restores: window.restores.length,
          median: median(window.restores),
          openSince: openSince === undefined ? null : new Date(openSince).toISOString(),
        },
        trend: Array.from({ length: TREND_WEEKS }, (_, week) => {
          const from = trendStart + week * 7 * DAY;
          const f = figuresOf(all, from, from + 7 * DAY - 1);
          return {
            start: new Date(from).toISOString(),
            deploys: f.deploys,
            succeeded: f.succeeded,
            leadTimeMedian: median(f.leadTimes),
            changeFailureRate: f.changeFailureRate,
            timeToRestoreMedian: median(f.restores),
          };
        }),
      };
    }),
  };
}
