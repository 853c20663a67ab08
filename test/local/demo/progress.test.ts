import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunProgress, type RuntimeEvent } from '../../../local/demo/progress';
import { Terminal } from '../../../local/demo/terminal';
import type { BuildDocument } from '../../../local/services/codebuild';

/**
 * The live view, fed the runtime's events by hand: what it shows for a rollout that fails and is rolled back, an
 * approval that is rejected, replicas that change, and events that belong to another run.
 */

const ARN = 'arn:aws:states:us-east-1:000000000000:execution:stepline-pipeline:run-1';
const START = Date.parse('2026-01-01T00:00:00.000Z');

function world(objects: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const terminal = new Terminal({
    isTTY: false,
    write: (text: string) => lines.push(...text.split('\n').filter(Boolean)) > 0,
  });
  const builds = new Map<string, BuildDocument>();
  const progress = new RunProgress(
    terminal,
    {
      build: (id) => builds.get(id),
      reports: () => [],
      logs: () => [],
      object: (_apiVersion, kind, namespace, name) => objects[`${kind}/${namespace}/${name}`] ?? null,
    },
    START,
    { pollMs: 100 },
  );
  let id = 0;
  const history = (type: string, details: Record<string, unknown> = {}, previous = id): void => {
    id += 1;
    const key = /StateEntered$/.test(type)
      ? 'stateEnteredEventDetails'
      : /StateExited$/.test(type)
        ? 'stateExitedEventDetails'
        : `${type[0]?.toLowerCase()}${type.slice(1)}EventDetails`;
    progress.handle({
      type: 'history',
      executionArn: ARN,
      event: { id, previousEventId: previous, type, timestamp: new Date(START + id).toISOString(), [key]: details },
    });
  };
  const invoke = (fn: string, result: unknown, errorType: string | null = null): void =>
    progress.handle({ type: 'invoke', function: fn, errorType, result, durationMs: 5 } as RuntimeEvent);
  const started = (environments: Record<string, unknown>[]): void =>
    history('ExecutionStarted', {
      input: JSON.stringify({ request: {}, route: { environments, tests: [{ name: 'unit' }] } }),
    });
  return { lines, progress, builds, history, invoke, started };
}

const DEPLOYED = {
  environment: 'staging',
  namespace: 'shop',
  revision: 2,
  image: 'shop@sha256:0',
  applied: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', namespace: 'shop', change: 'configured' }],
  changed: 1,
  watch: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', namespace: 'shop', generation: 2 }],
  rollout: { deadline: '2026-01-01T00:10:00.000Z', pollSeconds: 2 },
};

function deployment(updated: number, available: number): Record<string, unknown> {
  return {
    spec: { replicas: 2 },
    status: { updatedReplicas: updated, readyReplicas: available, availableReplicas: available },
  };
}

describe('RunProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows a failed rollout, then the rollback and the revision it restored', () => {
    // Prepare
    const { lines, progress, history, invoke, started } = world();
    progress.follow(ARN);
    started([{ name: 'staging', approval: null }]);
    history('MapIterationStarted', { name: 'Promote', index: 0 });
    // Act
    invoke('stepline-deploy', DEPLOYED);
    invoke(
      'stepline-rollout',
      { errorType: 'Stepline.RolloutFailed', errorMessage: 'deployment "shop" exceeded its progress deadline' },
      'Stepline.RolloutFailed',
    );
    invoke('stepline-rollback', { ...DEPLOYED, revision: 1, commit: 'abc1234def', leftover: [] });
    progress.close();
    // Assess
    const shown = lines.map((l) => l.replace(/^\s*\S+\s+/, ''));
    expect(shown).toContain('staging      applied revision 2 to namespace shop: 1 object (Deployment): 1 configured');
    expect(shown).toContain('staging      FAILED rollout: deployment "shop" exceeded its progress deadline');
    expect(shown).toContain(
      'staging      rolled back to revision 1 (commit abc1234): 1 object (Deployment): 1 configured',
    );
  });

  it('says who rejected an approval and why', () => {
    // Prepare
    const { lines, progress, history, started } = world();
    progress.follow(ARN);
    started([{ name: 'production', approval: { approvers: ['alice'] } }]);
    history('MapIterationStarted', { name: 'Promote', index: 0 });
    // Act
    history('TaskFailed', {
      error: 'Stepline.ApprovalRejected',
      cause: JSON.stringify({ rejectedBy: 'alice', reason: 'not on a Friday' }),
    });
    // Assess
    expect(lines.at(-1)).toMatch(/production\s+FAILED rejected by alice: not on a Friday$/);
  });

  it('shows the replicas of a rollout each time they change, and not in between', async () => {
    // Prepare
    const objects: Record<string, unknown> = { 'Deployment/shop/shop': deployment(0, 0) };
    const { lines, progress, history, invoke, started } = world(objects);
    progress.follow(ARN);
    started([{ name: 'staging', approval: null }]);
    history('MapIterationStarted', { name: 'Promote', index: 0 });
    // Act
    invoke('stepline-deploy', DEPLOYED);
    await vi.advanceTimersByTimeAsync(300);
    objects['Deployment/shop/shop'] = deployment(2, 1);
    await vi.advanceTimersByTimeAsync(300);
    objects['Deployment/shop/shop'] = deployment(2, 2);
    await vi.advanceTimersByTimeAsync(300);
    invoke('stepline-rollout', {
      state: 'done',
      reason: '1 object(s) rolled out',
      objects: [{ reason: 'deployment "shop" successfully rolled out' }],
    });
    objects['Deployment/shop/shop'] = deployment(1, 1);
    await vi.advanceTimersByTimeAsync(300);
    progress.close();
    // Assess
    expect(lines.filter((l) => l.includes('replicas')).map((l) => l.replace(/^.*replicas /, ''))).toEqual([
      'deployment/shop: 0/2 updated, 0/2 ready, 0/2 available',
      'deployment/shop: 2/2 updated, 1/2 ready, 1/2 available',
      'deployment/shop: 2/2 updated, 2/2 ready, 2/2 available',
    ]);
    expect(lines.at(-1)).toMatch(/staging\s+ok rolled out: deployment "shop" successfully rolled out$/);
  });

  it('shows what came before the run was known, and nothing of another run', () => {
    // Prepare
    const { lines, progress, builds, started } = world();
    builds.set('stepline-build:other', {
      buildNumber: 7,
      projectName: 'stepline-build',
      sourceVersion: 'f00d',
      phases: [],
      environment: { environmentVariables: [{ name: 'STEPLINE_EXECUTION_ARN', value: `${ARN}-other` }] },
    } as unknown as BuildDocument);
    started([]);
    // Act
    progress.handle({
      type: 'build',
      buildId: 'stepline-build:other',
      detailType: 'CodeBuild Build State Change',
      buildStatus: 'IN_PROGRESS',
    });
    const beforeFollow = lines.length;
    progress.follow(ARN);
    // Assess
    expect(beforeFollow).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/pipeline\s+started: build, test unit, deploy to \(no environment\)$/);
  });
});
