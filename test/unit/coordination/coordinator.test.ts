import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteCoordinationStore } from '../../../adapters/local/coordination';
import type { EnterRequest } from '../../../core/coordination/contracts';
import { Coordinator } from '../../../core/coordination/service';

const MAIN = 'github:acme/shop:refs/heads/main';
const RELEASE = 'github:acme/shop:refs/heads/release/1';
const REPO = 'github:acme/shop';
const STAGING = 'github:acme/shop:staging';
const PROD = 'github:acme/shop:production';

const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:pipeline:${name}`;

function enter(overrides: Partial<EnterRequest> & Pick<EnterRequest, 'executionArn' | 'sequence'>): EnterRequest {
  return {
    action: 'enter',
    concurrencyKey: MAIN,
    environmentKey: STAGING,
    first: true,
    leaseSeconds: 600,
    now: 1_000_000,
    ...overrides,
  };
}

describe('Coordinator on SQLite', () => {
  let coordinator: Coordinator;

  beforeEach(() => {
    // Prepare: a fresh in-memory database per test, the same store the local runtime uses.
    coordinator = new Coordinator(new SqliteCoordinationStore(new Database(':memory:')), () => 1_000_000);
  });

  it('gives runs of a repository increasing sequences, in the order they register', async () => {
    // Act
    const a = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const b = await coordinator.register({
      action: 'register',
      executionArn: arn('b'),
      concurrencyKey: RELEASE,
      repositoryKey: REPO,
    });
    const other = await coordinator.register({
      action: 'register',
      executionArn: arn('c'),
      concurrencyKey: 'github:acme/other:refs/heads/main',
      repositoryKey: 'github:acme/other',
    });

    // Assess
    expect([a.sequence, b.sequence, other.sequence]).toEqual([1, 2, 1]);
  });

  it('supersedes the older run of the same branch that has not started deploying', async () => {
    // Prepare
    const older = await coordinator.register({
      action: 'register',
      executionArn: arn('old'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });

    // Act
    const newer = await coordinator.register({
      action: 'register',
      executionArn: arn('new'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const olderAtGate = await coordinator.enter(enter({ executionArn: arn('old'), sequence: older.sequence }));

    // Assess
    expect(newer.superseded).toEqual({ executionArn: arn('old'), sequence: older.sequence });
    expect(olderAtGate).toEqual({ outcome: 'superseded', by: arn('new') });
  });

  it('does not supersede a run that already started deploying', async () => {
    // Prepare
    const older = await coordinator.register({
      action: 'register',
      executionArn: arn('old'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    expect(await coordinator.enter(enter({ executionArn: arn('old'), sequence: older.sequence }))).toEqual({
      outcome: 'acquired',
    });

    // Act
    const newer = await coordinator.register({
      action: 'register',
      executionArn: arn('new'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const olderNextEnvironment = await coordinator.enter(
      enter({ executionArn: arn('old'), sequence: older.sequence, environmentKey: PROD, first: false }),
    );

    // Assess
    expect(newer.superseded).toBeNull();
    expect(olderNextEnvironment).toEqual({ outcome: 'acquired' });
  });

  it('keeps the first sequence when the same execution registers again', async () => {
    // Prepare
    const first = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });

    // Act
    const again = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });

    // Assess
    expect(again).toEqual({ sequence: first.sequence, superseded: null });
  });

  it('lets one run at a time hold an environment and hands it over on leave', async () => {
    // Prepare: two runs of different branches that both deploy to staging.
    const a = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const b = await coordinator.register({
      action: 'register',
      executionArn: arn('b'),
      concurrencyKey: RELEASE,
      repositoryKey: REPO,
    });
    const bEnter = enter({ executionArn: arn('b'), sequence: b.sequence, concurrencyKey: RELEASE });

    // Act
    const bFirst = await coordinator.enter(bEnter);
    const aWhileHeld = await coordinator.enter(enter({ executionArn: arn('a'), sequence: a.sequence }));
    const left = await coordinator.leave({
      action: 'leave',
      executionArn: arn('b'),
      sequence: b.sequence,
      environmentKey: STAGING,
      deployed: false,
    });
    const aAfter = await coordinator.enter(enter({ executionArn: arn('a'), sequence: a.sequence }));

    // Assess
    expect(bFirst).toEqual({ outcome: 'acquired' });
    expect(aWhileHeld).toEqual({ outcome: 'busy', holder: arn('b'), leaseExpiresAt: 1_000_000 + 600_000 });
    expect(left).toEqual({ released: true });
    expect(aAfter).toEqual({ outcome: 'acquired' });
  });

  it('never lets an older run deploy over a newer run that deployed while it waited for the lock', async () => {
    // Prepare: a (older, main) waits while b (newer, release) deploys to staging.
    const a = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const b = await coordinator.register({
      action: 'register',
      executionArn: arn('b'),
      concurrencyKey: RELEASE,
      repositoryKey: REPO,
    });
    await coordinator.enter(enter({ executionArn: arn('b'), sequence: b.sequence, concurrencyKey: RELEASE }));
    expect((await coordinator.enter(enter({ executionArn: arn('a'), sequence: a.sequence }))).outcome).toBe('busy');
    await coordinator.leave({
      action: 'leave',
      executionArn: arn('b'),
      sequence: b.sequence,
      environmentKey: STAGING,
      deployed: true,
    });

    // Act
    const aAfter = await coordinator.enter(enter({ executionArn: arn('a'), sequence: a.sequence }));

    // Assess
    expect(aAfter).toEqual({ outcome: 'overtaken', by: arn('b') });
  });

  it('lets another run take an environment whose lease has expired, and the late leave releases nothing', async () => {
    // Prepare
    const a = await coordinator.register({
      action: 'register',
      executionArn: arn('a'),
      concurrencyKey: MAIN,
      repositoryKey: REPO,
    });
    const b = await coordinator.register({
      action: 'register',
      executionArn: arn('b'),
      concurrencyKey: RELEASE,
      repositoryKey: REPO,
    });
    await coordinator.enter(enter({ executionArn: arn('a'), sequence: a.sequence, leaseSeconds: 60 }));

    // Act
    const bLate = await coordinator.enter(
      enter({ executionArn: arn('b'), sequence: b.sequence, concurrencyKey: RELEASE, now: 1_000_000 + 61_000 }),
    );
    const aLeave = await coordinator.leave({
      action: 'leave',
      executionArn: arn('a'),
      sequence: a.sequence,
      environmentKey: STAGING,
      deployed: false,
    });
    const third = await coordinator.enter(
      enter({
        executionArn: arn('c'),
        sequence: 99,
        concurrencyKey: 'github:acme/shop:refs/heads/x',
        now: 1_000_000 + 62_000,
      }),
    );

    // Assess
    expect(bLate).toEqual({ outcome: 'acquired' });
    expect(aLeave).toEqual({ released: false });
    expect(third.outcome).toBe('busy');
  });

  it('hands the lock to exactly one of many runs that ask at once', async () => {
    // Prepare
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        coordinator.register({
          action: 'register',
          executionArn: arn(`r${i}`),
          concurrencyKey: `github:acme/shop:refs/heads/b${i}`,
          repositoryKey: REPO,
        }),
      ),
    );

    // Act
    const outcomes = await Promise.all(
      runs.map((r, i) =>
        coordinator.enter(
          enter({
            executionArn: arn(`r${i}`),
            sequence: r.sequence,
            concurrencyKey: `github:acme/shop:refs/heads/b${i}`,
          }),
        ),
      ),
    );

    // Assess
    expect(outcomes.filter((o) => o.outcome === 'acquired')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'busy')).toHaveLength(19);
  });
});
