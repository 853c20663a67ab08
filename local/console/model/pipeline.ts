import type { DeploymentView, PipelineContext } from '../source';
import type { ExecutionView, StateRun } from './status';

/**
 * What the console knows of a Stepline pipeline run from its input (`ExecutionInput`: `request` and `route`, see
 * core/intake/types.ts) and its history: the repository, ref and commit it builds, and what it deployed where.
 * Executions of other state machines answer nulls and no deployments. Pure: no DOM.
 */

type Loose = Record<string, unknown> | undefined;

function obj(value: unknown): Loose {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function parse(input: unknown): Loose {
  if (typeof input !== 'string') return obj(input);
  try {
    return obj(JSON.parse(input));
  } catch {
    return undefined;
  }
}

export const NO_CONTEXT: PipelineContext = {
  provider: null,
  repository: null,
  repositoryUrl: null,
  refKind: null,
  ref: null,
  pullRequest: null,
  commit: null,
  commitMessage: null,
  commitUrl: null,
  sender: null,
};

/** The pipeline context of an execution input (JSON text or parsed). */
export function pipelineContextOf(input: unknown): PipelineContext {
  const request = obj(parse(input)?.['request']);
  if (!request) return NO_CONTEXT;
  const repository = obj(request['repository']);
  const ref = obj(request['ref']);
  const commit = obj(request['commit']);
  const pr = obj(request['pullRequest']);
  const kind = str(ref?.['kind']);
  const number = pr?.['number'];
  return {
    provider: str(request['provider']),
    repository: str(repository?.['fullName']),
    repositoryUrl: str(repository?.['htmlUrl']),
    refKind: pr ? 'pull_request' : kind === 'branch' || kind === 'tag' ? kind : null,
    ref: str(ref?.['name']),
    pullRequest:
      pr && typeof number === 'number' ? { number, title: str(pr['title']) ?? '', url: str(pr['url']) } : null,
    commit: str(commit?.['sha']),
    commitMessage: str(commit?.['message']),
    commitUrl: str(commit?.['url']),
    sender: str(obj(request['sender'])?.['login']),
  };
}

/** Builds a link to one applied Kubernetes object, or null. */
export type ObjectLink = (
  object: { apiVersion: string; kind: string; name: string; namespace: string | null },
  environment: string,
) => string | null;

function statusOf(runs: readonly StateRun[], ended: boolean): string {
  const by = (name: string): StateRun | undefined => runs.find((r) => r.name === name && !r.superseded);
  const reported = by('ReportDeployed');
  if (by('Deployed') || (reported && reported.exitedId !== undefined)) return 'deployed';
  if (by('DeployFailed')) return by('Rollback') ? 'rolled back' : 'failed';
  if (by('NotApproved')) return 'not approved';
  if (by('LockNotTaken')) return 'environment busy';
  if (runs.some((r) => r.status === 'running'))
    return by('Approve')?.status === 'running' ? 'waiting for approval' : 'deploying';
  if (runs.some((r) => r.status === 'failed' || r.status === 'aborted')) return 'failed';
  // An environment the run never reached: `pending` while it may still, `not reached` once it has ended.
  return runs.length > 0 ? 'skipped' : ended ? 'not reached' : 'pending';
}

/** Whether the history's last word is the end of the execution (a redrive starts it again). */
function endedIn(view: ExecutionView): boolean {
  for (let i = view.rows.length - 1; i >= 0; i--) {
    const type = view.rows[i]?.type ?? '';
    if (type === 'ExecutionRedriven' || type === 'ExecutionStarted') return false;
    if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(type)) return true;
  }
  return false;
}

/**
 * What the run deployed, per environment of its route, in order: each environment's status from the states of
 * its iteration of the promotion Map (`Promote`), the objects from its `Deploy` task's result. An environment
 * that a failed (or stopped) run never reached is `not reached`, not `pending`.
 */
export function deploymentsOf(input: unknown, view: ExecutionView, link?: ObjectLink): DeploymentView[] {
  const route = obj(parse(input)?.['route']);
  const environments = Array.isArray(route?.['environments']) ? (route['environments'] as unknown[]) : [];
  const promote = view.states.get('Promote')?.runs.filter((r) => !r.superseded) ?? [];
  const containers = new Set(promote.map((r) => r.enteredId));
  const all = [...view.states.values()].flatMap((s) => s.runs);
  const ended = endedIn(view);
  return environments.map((raw, index) => {
    const env = obj(raw) ?? {};
    const name = str(env['name']) ?? `#${index + 1}`;
    const namespace = str(env['namespace']);
    const cluster = obj(env['cluster']);
    const runs = all.filter((r) => containers.has(r.container) && r.iteration === index);
    const deploy = [...runs].reverse().find((r) => r.name === 'Deploy' && r.output);
    let applied: unknown[] = [];
    if (deploy?.output) {
      const payload = obj(obj(parse(deploy.output))?.['Payload']);
      if (Array.isArray(payload?.['applied'])) applied = payload['applied'] as unknown[];
    }
    return {
      environment: name,
      status: statusOf(runs, ended),
      url: str(env['url']),
      namespace,
      cluster: str(cluster?.['name']) ?? str(cluster?.['context']) ?? str(cluster?.['type']),
      objects: applied.map((o) => {
        const ref = obj(o) ?? {};
        const object = {
          apiVersion: str(ref['apiVersion']) ?? '',
          kind: str(ref['kind']) ?? '',
          name: str(ref['name']) ?? '',
          namespace: str(ref['namespace']),
        };
        return { kind: object.kind, name: object.name, link: link ? link(object, name) : null };
      }),
    };
  });
}
