import type { CommitTime, DeploymentRecord, FailureKind, Incident } from '../../../core/insight/contracts';

/** Builders for the insight tests: full SHAs from short names, records and incidents with their defaults. */

/** A 40-digit SHA that starts with `short` (hex). */
export const sha = (short: string): string => short.padEnd(40, '0');

export const commit = (short: string, time: string): CommitTime => ({ sha: sha(short), time });

export function deploy(
  environment: string,
  deployedAt: string,
  short: string,
  options: {
    readonly failed?: FailureKind;
    readonly reason?: string;
    readonly commits?: readonly CommitTime[] | null;
    readonly repository?: string;
    readonly execution?: string;
  } = {},
): DeploymentRecord {
  const repository = options.repository ?? 'shop/api';
  return {
    stream: `github:${repository}:${environment}`,
    provider: 'github',
    repository,
    environment,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:stepline-pipeline:${options.execution ?? `run-${short}`}`,
    sha: sha(short),
    ref: 'main',
    deployedAt,
    result: options.failed ? 'failed' : 'succeeded',
    failure: options.failed ? { kind: options.failed, reason: options.reason ?? options.failed } : null,
    rolledBackTo: null,
    previousSha: null,
    commits: options.commits === undefined ? [] : options.commits,
  };
}

export function incident(
  id: string,
  openedAt: string,
  resolvedAt: string | null,
  named: Partial<Incident> = {},
): Incident {
  return {
    id,
    source: 'issue',
    provider: 'github',
    repository: 'shop/api',
    environment: null,
    title: id,
    openedAt,
    resolvedAt,
    commits: [],
    executions: [],
    ...named,
  };
}
