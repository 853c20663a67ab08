import { describe, expect, it } from 'vitest';
import { computeDora, frequencyBucket, parseSince, percentile } from '../../../core/insight/compute';
import { commit, deploy, incident } from './fixtures';

/**
 * The four keys of a fixture of deploys, rollbacks, a canary abort and incidents, against the figures computed by
 * hand from the definitions (README, "Delivery insight"; core/insight/compute.ts). Each expectation says how it was
 * computed. Times are UTC; `now` is 2030-03-31T12:00Z and the window the last 30 days, from 2030-03-01T12:00Z.
 */

const NOW = new Date('2030-03-31T12:00:00Z');
const H = 3600;

const RECORDS = [
  // Before the window: counts for the frequency bucket only.
  deploy('production', '2030-02-20T10:00:00Z', 'a0', { commits: [commit('a0', '2030-02-20T09:00:00Z')] }),
  // P1: lead time 2 h.
  deploy('production', '2030-03-02T10:00:00Z', 'a1', { commits: [commit('a1', '2030-03-02T08:00:00Z')] }),
  // P2: carried b1 (24 h) and b2 (1 h).
  deploy('production', '2030-03-05T10:00:00Z', 'b2', {
    commits: [commit('b2', '2030-03-05T09:00:00Z'), commit('b1', '2030-03-04T10:00:00Z')],
  }),
  // P3: a failed rollout, rolled back: the environment fails at 03-10 10:00.
  deploy('production', '2030-03-10T10:00:00Z', 'c1', {
    failed: 'rolled-back',
    commits: [commit('c1', '2030-03-10T06:00:00Z')],
  }),
  // P4: a canary abort in the same failed stretch.
  deploy('production', '2030-03-10T14:00:00Z', 'c2', {
    failed: 'canary-abort',
    commits: [commit('c2', '2030-03-10T12:00:00Z'), commit('c1', '2030-03-10T06:00:00Z')],
  }),
  // P5: restores production after 24 h; carried c3 (30 min), c2 (22 h) and c1 (28 h).
  deploy('production', '2030-03-11T10:00:00Z', 'c3', {
    commits: [
      commit('c3', '2030-03-11T09:30:00Z'),
      commit('c2', '2030-03-10T12:00:00Z'),
      commit('c1', '2030-03-10T06:00:00Z'),
    ],
  }),
  // P6: refused before anything was applied: neither a deploy nor a failure of one.
  deploy('production', '2030-03-12T09:00:00Z', 'd1', { failed: 'not-applied', reason: 'ManifestInvalid: no kind' }),
  // P7: lead time 6 h; the incidents I1 and I2 are attributed to it.
  deploy('production', '2030-03-20T10:00:00Z', 'e1', { commits: [commit('e1', '2030-03-20T04:00:00Z')] }),
  // P8: a failed rollout the rollback did not restore: production has been failed since 03-25 10:00.
  deploy('production', '2030-03-25T10:00:00Z', 'f1', { failed: 'rollout-failed' }),
  // Staging: one deploy in each of three 4-week periods.
  deploy('staging', '2030-01-10T10:00:00Z', 's1'),
  deploy('staging', '2030-02-28T10:00:00Z', 's2'),
  deploy('staging', '2030-03-29T10:00:00Z', 's3', { commits: [commit('s3', '2030-03-29T08:00:00Z')] }),
];

const INCIDENTS = [
  // I1 names P7's commit (Four Keys' "root cause"): 3 h to resolve.
  incident('github:shop/api#1', '2030-03-20T12:00:00Z', '2030-03-20T15:00:00Z', { commits: ['e100000'] }),
  // I2 names only its environment: the latest successful production deploy before it opened is P7; 6 h.
  incident('github:shop/api#2', '2030-03-21T00:00:00Z', '2030-03-21T06:00:00Z', { environment: 'production' }),
  // I3 names a commit nothing deployed: attributed to no deploy.
  incident('github:shop/api#3', '2030-03-22T00:00:00Z', '2030-03-22T01:00:00Z', { commits: ['9999999'] }),
  // I4 names P8's commit, but P8 failed: an incident is attributed to a successful deploy only; still open.
  incident('github:shop/api#4', '2030-03-26T00:00:00Z', null, { commits: ['f100000'] }),
];

describe('the four keys of a fixture, as computed by hand', () => {
  // Act
  const report = computeDora(RECORDS, INCIDENTS, { now: NOW, days: 30 });
  const production = report.environments.find((e) => e.environment === 'production');
  const staging = report.environments.find((e) => e.environment === 'staging');

  it('has a window of the last 30 days, and one figure set per environment', () => {
    // Assess
    expect(report.window).toEqual({ since: '2030-03-01T12:00:00.000Z', until: '2030-03-31T12:00:00.000Z', days: 30 });
    expect(report.environments.map((e) => e.environment)).toEqual(['production', 'staging']);
  });

  it('deployment frequency: successful deploys per day, and the Four Keys bucket', () => {
    // Successful production deploys in the window: P1, P2, P5, P7 = 4 (P0 is before it): 4 / 30 per day.
    expect(production?.deploymentFrequency.succeeded).toBe(4);
    expect(production?.deploymentFrequency.perDay).toBeCloseTo(4 / 30, 12);
    // The 12 weeks end on 2030-03-31: W0 = 01-07..01-13, …, W6 = 02-18..02-24, W7 = 02-25..03-03, W8 = 03-04..03-10,
    // W9 = 03-11..03-17, W10 = 03-18..03-24, W11 = 03-25..03-31. The first production record (02-20) is in W6: W0-W5
    // do not count. Days with a successful deploy: W6 02-20, W7 03-02, W8 03-05, W9 03-11, W10 03-20, W11 none.
    expect(production?.deploymentFrequency.daysPerWeek).toEqual([null, null, null, null, null, null, 1, 1, 1, 1, 1, 0]);
    // Median of [1,1,1,1,1,0] = 1 < 3: not daily; weeks with one: [1,1,1,1,1,0], median 1 >= 1: weekly.
    expect(production?.deploymentFrequency.medianDaysPerWeek).toBe(1);
    expect(production?.deploymentFrequency.bucket).toBe('weekly');
    // Staging: W0 (01-10), W7 (02-28), W11 (03-29): nine weeks of 0, three of 1, median 0: not weekly. Weeks with one
    // per 4-week period: W0-W3 1, W4-W7 1, W8-W11 1, median 1 >= 1: monthly.
    expect(staging?.deploymentFrequency.daysPerWeek).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(staging?.deploymentFrequency.bucket).toBe('monthly');
    expect(staging?.deploymentFrequency.succeeded).toBe(1);
  });

  it('lead time for changes: each commit each successful deploy carried; median and p90', () => {
    // P1 2 h; P2 1 h and 24 h; P5 30 min, 22 h, 28 h; P7 6 h (failed deploys count for none).
    // Sorted, in seconds: 1800, 3600, 7200, 21600, 79200, 86400, 100800 (n = 7).
    expect(production?.leadTime.changes).toBe(7);
    // Median: rank (7 - 1) × 0.5 = 3 → 21600 (6 h).
    expect(production?.leadTime.median).toBe(6 * H);
    // p90: rank (7 - 1) × 0.9 = 5.4 → 86400 + 0.4 × (100800 - 86400) = 92160.
    expect(production?.leadTime.p90).toBeCloseTo(92_160, 6);
    expect(staging?.leadTime).toEqual({ changes: 1, median: 2 * H, p90: 2 * H });
  });

  it('change failure rate: deploys with a failure attributed to them over all deploys', () => {
    // Deploys in the window: P1, P2, P3, P4, P5, P7, P8 = 7 (P6 applied nothing). With a failure: P3 (rolled back),
    // P4 (canary abort), P8 (failed rollout), P7 (incidents I1 and I2): 4. Rate 4 / 7.
    expect(production?.changeFailureRate).toEqual({ failures: 4, deploys: 7, rate: 4 / 7 });
    expect(staging?.changeFailureRate).toEqual({ failures: 0, deploys: 1, rate: 0 });
  });

  it('time to restore: a failed stretch to the next successful deploy, and attributed incidents; median', () => {
    // P3 (03-10 10:00) to P5 (03-11 10:00): 24 h; I1: 3 h; I2: 6 h (I3 is attributed to nothing, I4 is open).
    // Sorted: 10800, 21600, 86400: median 21600 (6 h).
    expect(production?.timeToRestore.restores).toBe(3);
    expect(production?.timeToRestore.median).toBe(6 * H);
    // P8 failed and nothing succeeded since: production is failed now.
    expect(production?.timeToRestore.openSince).toBe('2030-03-25T10:00:00.000Z');
    expect(staging?.timeToRestore).toEqual({ restores: 0, median: null, openSince: null });
  });

  it('trend: the same figures week by week', () => {
    const weeks = production?.trend ?? [];
    expect(weeks).toHaveLength(12);
    expect(weeks[0]?.start).toBe('2030-01-07T00:00:00.000Z');
    // W8 (03-04..03-10): P2, P3, P4; lead times 1 h and 24 h (median 12.5 h); 2 of 3 failed; nothing restored.
    expect(weeks[8]).toEqual({
      start: '2030-03-04T00:00:00.000Z',
      deploys: 3,
      succeeded: 1,
      leadTimeMedian: 12.5 * H,
      changeFailureRate: 2 / 3,
      timeToRestoreMedian: null,
    });
    // W9 (03-11..03-17): P5 (P6 is no deploy); lead times 30 min, 22 h, 28 h; the 24 h stretch ended.
    expect(weeks[9]).toMatchObject({
      deploys: 1,
      leadTimeMedian: 22 * H,
      changeFailureRate: 0,
      timeToRestoreMedian: 24 * H,
    });
    // W10 (03-18..03-24): P7 with its incidents, resolved in 3 h and 6 h: median 4.5 h.
    expect(weeks[10]).toMatchObject({
      deploys: 1,
      leadTimeMedian: 6 * H,
      changeFailureRate: 1,
      timeToRestoreMedian: 4.5 * H,
    });
    // W11: P8 failed.
    expect(weeks[11]).toMatchObject({ deploys: 1, succeeded: 0, leadTimeMedian: null, changeFailureRate: 1 });
  });

  it('a withdrawn incident (its label removed) counts for nothing; labelled again, it counts again', () => {
    // Prepare: I1 and I2, the two incidents attributed to P7, lose their label (ADR 0112)
    const withdraw = (i: (typeof INCIDENTS)[number]) =>
      i.id.endsWith('#1') || i.id.endsWith('#2') ? { ...i, withdrawnAt: '2030-03-27T00:00:00Z' } : i;
    const withdrawn = INCIDENTS.map(withdraw);

    // Act
    const without = computeDora(RECORDS, withdrawn, { now: NOW, days: 30 });
    const relabelled = computeDora(
      RECORDS,
      withdrawn.map((i) => ({ ...i, withdrawnAt: null })),
      { now: NOW, days: 30 },
    );
    const prod = (r: typeof without) => r.environments.find((e) => e.environment === 'production');

    // Assess: P7 has no failure attributed any more: 3 of 7 (P3, P4, P8). Restores: the 24 h stretch alone.
    expect(prod(without)?.changeFailureRate).toEqual({ failures: 3, deploys: 7, rate: 3 / 7 });
    expect(prod(without)?.timeToRestore).toMatchObject({ restores: 1, median: 24 * H });
    expect(prod(without)?.trend[10]).toMatchObject({ changeFailureRate: 0, timeToRestoreMedian: null });
    // Labelled again: the figures of the fixture above (4 of 7; 3 restores, median 6 h).
    expect(prod(relabelled)?.changeFailureRate).toEqual({ failures: 4, deploys: 7, rate: 4 / 7 });
    expect(prod(relabelled)?.timeToRestore).toMatchObject({ restores: 3, median: 6 * H });
  });

  it('narrows to one environment or one repository', () => {
    // Act
    const only = computeDora(RECORDS, INCIDENTS, { now: NOW, days: 30, environment: 'staging' });
    const none = computeDora(RECORDS, INCIDENTS, { now: NOW, days: 30, repository: 'shop/web' });
    // Assess
    expect(only.environments.map((e) => e.environment)).toEqual(['staging']);
    expect(none.environments).toEqual([]);
  });
});

describe('the building blocks', () => {
  it('percentiles interpolate as PERCENTILE_CONT', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 0.9)).toBe(46);
  });

  it('buckets: daily from a median of 3 days a week, yearly when most periods have none', () => {
    expect(frequencyBucket([3, 4, 5, 2, 3, 3, 5, 1, 3, 4, 3, 2])).toBe('daily');
    expect(frequencyBucket([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBe('yearly');
    expect(frequencyBucket([null, null, null, null, null, null, null, null, null, null, null, null])).toBeNull();
  });

  it('reads --since as days, weeks or hours', () => {
    expect(parseSince('30d')).toBe(30);
    expect(parseSince('12w')).toBe(84);
    expect(parseSince('48h')).toBe(2);
    expect(parseSince('7')).toBe(7);
    expect(parseSince('0d')).toBeNull();
    expect(parseSince('soon')).toBeNull();
  });
});
