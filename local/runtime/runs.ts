import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import type { Provider, SteplineConfig } from '../../core/config/schema';
import { Intake } from '../../core/intake/intake';
import { executionName } from '../../core/intake/name';
import type { WorkflowStarter } from '../../core/intake/ports';
import { type HistoryEventLike, prebuiltOf } from '../../core/intake/prebuilt';
import type { ExecutionInput, PipelineRequest, Prebuilt, RefKind, Route } from '../../core/intake/types';
import { failedEnvironmentOf } from '../../core/status/cause';
import { RunRefusedError, type RunRequest, type StartedRun } from '../server/ports';
import type { ExecutionRecord, ExecutionStore } from '../store';

/**
 * Runs started by hand (issue 17, ADR 0076): `stepline run <repository> <branch|tag|sha>`, the console's Run and
 * Re-run buttons, and the input `aws stepfunctions start-execution` takes on AWS. A run by hand is a push that no
 * Git host sent: the same `PipelineRequest` shape, routed by the same `Intake.plan` (so the same branch and tag
 * patterns decide the environments, and the same statuses are reported), with an event `manual`, a delivery id of
 * its own (`manual-…`, `rerun-…`, so the execution name says how it started) and no changed-file list (path filters
 * never skip it). `--environments` narrows the route's environments; it never adds one the route does not promote to.
 */

export { RunRefusedError, type RunRequest, type StartedRun } from '../server/ports';

export const MANUAL_EVENT = 'manual';

/** What the runtime knows of a repository from its earlier runs (their inputs). */
export interface KnownRepository {
  readonly cloneUrl: string;
  readonly htmlUrl: string | null;
  readonly defaultBranch: string;
}

/** The execution to start: its name and its input, as StartExecution takes them. */
export interface PlannedRun {
  readonly name: string;
  readonly input: ExecutionInput;
}

const HOSTS: Readonly<Record<Provider, string>> = {
  github: 'https://github.com',
  gitlab: 'https://gitlab.com',
  bitbucket: 'https://bitbucket.org',
};

const SHA = /^[0-9a-f]{7,40}$/i;

/** The configured repository a name designates. */
export function configuredRepository(
  config: SteplineConfig,
  name: string,
): { provider: Provider; name: string; defaultBranch: string } {
  const [prefix, rest] = name.includes(':') ? (name.split(/:(.*)/s, 2) as [string, string]) : [null, name];
  const matches = config.repositories.filter(
    (r) => r.name.toLowerCase() === rest.toLowerCase() && (prefix === null || r.provider === prefix),
  );
  if (matches.length === 0) {
    const known = config.repositories.map((r) => r.name).join(', ') || 'none';
    throw new RunRefusedError('not_found', `${name} is not a configured repository (configured: ${known})`);
  }
  if (matches.length > 1) {
    throw new RunRefusedError(
      'invalid',
      `${rest} is configured for ${matches.map((m) => m.provider).join(' and ')}: name one, as in ${matches[0]?.provider}:${rest}`,
    );
  }
  const repo = matches[0]!;
  const main = repo.branches.find((b) => !/[*?[{]/.test(b.pattern))?.pattern ?? 'main';
  return { provider: repo.provider, name: repo.name, defaultBranch: main };
}

/** A fresh delivery id for a run by hand: `manual-1a2b3c4d` (the execution name ends with it). */
export function manualDeliveryId(kind: 'manual' | 'rerun' = 'manual'): string {
  return `${kind}-${randomBytes(4).toString('hex')}`;
}

/** The request of a run by hand, as a Git host's push of `sha` to `ref` would have been normalized. */
export function manualRequest(options: {
  readonly provider: Provider;
  readonly repository: string;
  readonly known: KnownRepository;
  readonly ref: { readonly name: string; readonly kind: RefKind };
  readonly sha: string;
  readonly message: string | null;
  readonly by: string;
  readonly deliveryId: string;
}): PipelineRequest {
  const { ref } = options;
  return {
    provider: options.provider,
    deliveryId: options.deliveryId,
    event: MANUAL_EVENT,
    repository: {
      fullName: options.repository,
      cloneUrl: options.known.cloneUrl,
      defaultBranch: options.known.defaultBranch,
      htmlUrl: options.known.htmlUrl,
    },
    ref: { name: ref.name, fullName: `refs/${ref.kind === 'tag' ? 'tags' : 'heads'}/${ref.name}`, kind: ref.kind },
    commit: {
      sha: options.sha.toLowerCase(),
      before: null,
      message: options.message,
      url: options.known.htmlUrl ? `${options.known.htmlUrl}/commit/${options.sha.toLowerCase()}` : null,
    },
    pullRequest: null,
    changedFiles: { paths: [], complete: false },
    sender: { login: options.by },
  };
}

/** `route` with only `environments` (in the route's order); refuses a name the route does not promote to. */
export function narrowRoute(route: Route, environments: readonly string[] | undefined): Route {
  if (environments === undefined) return route;
  const promoted = route.environments.map((e) => e.name);
  const unknown = environments.filter((e) => !promoted.includes(e));
  if (unknown.length > 0) {
    throw new RunRefusedError(
      'invalid',
      `${unknown.join(', ')}: ${route.trigger} ${route.pattern} promotes to ${promoted.join(', ') || 'no environment'} only`,
    );
  }
  return { ...route, environments: route.environments.filter((e) => environments.includes(e.name)) };
}

/** Routes a request as the webhook would, then narrows the environments: the execution to start. */
export function planRun(
  config: SteplineConfig,
  request: PipelineRequest,
  environments?: readonly string[],
): PlannedRun {
  const planned = new Intake(config).plan(request);
  if (!planned.continue) {
    const reason = planned.kind === 'ignored' ? planned.reason : 'nothing is configured to run';
    throw new RunRefusedError('ignored', `${request.repository.fullName} ${request.ref.name}: ${reason}`);
  }
  const { request: routed, route } = planned.value.input;
  return { name: executionName(routed), input: { request: routed, route: narrowRoute(route, environments) } };
}

// ------------------------------------------------------------------------------------------------ git

const exec = promisify(execFile);

/** Runs git with a short timeout and no prompt for credentials; answers its standard output. */
async function git(args: readonly string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec('git', [...args], {
      ...(cwd ? { cwd } : {}),
      timeout: 30_000,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new RunRefusedError(
      'invalid',
      `git ${args[0]} failed: ${stderr.split('\n').filter(Boolean).join(' ').slice(0, 400) || (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

interface RemoteRef {
  readonly name: string;
  readonly kind: RefKind;
  readonly sha: string;
}

/** The branches and tags of a remote, tags peeled to their commit. */
async function remoteRefs(cloneUrl: string): Promise<RemoteRef[]> {
  const text = await git(['ls-remote', '--heads', '--tags', cloneUrl]);
  const refs = new Map<string, RemoteRef>();
  for (const line of text.split('\n')) {
    const [sha, full] = line.split('\t');
    if (!sha || !full) continue;
    const peeled = full.endsWith('^{}');
    const name = peeled ? full.slice(0, -3) : full;
    const kind: RefKind = name.startsWith('refs/tags/') ? 'tag' : 'branch';
    const short = name.replace(/^refs\/(heads|tags)\//, '');
    // An annotated tag's own object comes first, its commit (`^{}`) after: keep the commit.
    if (peeled || !refs.has(name)) refs.set(name, { name: short, kind, sha });
  }
  return [...refs.values()];
}

/** The commit's subject and author, where the clone URL is a folder on this machine (the demo, tests); else null. */
async function localCommitMessage(cloneUrl: string, sha: string): Promise<string | null> {
  const dir = cloneUrl.startsWith('file://') ? new URL(cloneUrl).pathname : cloneUrl;
  if (!isAbsolute(dir) || !existsSync(dir)) return null;
  try {
    return (await git(['log', '-1', '--format=%B', sha], dir)).trim().slice(0, 1000) || null;
  } catch {
    return null;
  }
}

/** `refs/heads/x` → branch x, `refs/tags/v1` → tag v1, else the name as it is, of a kind not known yet. */
function parseRefName(ref: string): { name: string; kind: RefKind | null } {
  if (ref.startsWith('refs/heads/')) return { name: ref.slice('refs/heads/'.length), kind: 'branch' };
  if (ref.startsWith('refs/tags/')) return { name: ref.slice('refs/tags/'.length), kind: 'tag' };
  return { name: ref, kind: null };
}

/**
 * Resolves what a person named (`main`, `v1.2.0`, `refs/tags/v1.2.0`, `1a2b3c4`) to a ref and a commit.
 * - With `sha` (40 hex digits), nothing is asked of the remote: `ref` names the branch (or, as `refs/tags/…`, the
 *   tag) to route the commit as. This is how a run is planned offline, for `aws stepfunctions start-execution`.
 * - Otherwise `git ls-remote`: a branch or tag of that name, at its commit now; else a SHA (a ref's head, a commit
 *   an earlier run built, or 40 hex digits), routed as `routeAs`, else as a branch whose head it is, else as the
 *   branch an earlier run of it was on, else as the default branch.
 */
export async function resolveRef(options: {
  readonly cloneUrl: string;
  readonly ref: string;
  readonly sha?: string;
  readonly routeAs?: string;
  readonly defaultBranch: string;
  readonly knownCommits?: readonly { readonly sha: string; readonly ref: string; readonly kind: RefKind }[];
}): Promise<{ ref: { name: string; kind: RefKind }; sha: string; message: string | null }> {
  const asked = parseRefName(options.ref);
  if (options.sha !== undefined) {
    const sha = options.sha.toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(sha))
      throw new RunRefusedError('invalid', `--sha takes a full commit SHA (40 hex digits), not ${options.sha}`);
    return {
      ref: { name: asked.name, kind: asked.kind ?? 'branch' },
      sha,
      message: await localCommitMessage(options.cloneUrl, sha),
    };
  }
  const refs = await remoteRefs(options.cloneUrl);
  const byName = (wanted: { name: string; kind: RefKind | null }): RemoteRef | undefined =>
    refs.find((r) => r.name === wanted.name && (wanted.kind ?? 'branch') === r.kind) ??
    (wanted.kind === null ? refs.find((r) => r.name === wanted.name && r.kind === 'tag') : undefined);
  const named = byName(asked);
  if (named) {
    return {
      ref: { name: named.name, kind: named.kind },
      sha: named.sha,
      message: await localCommitMessage(options.cloneUrl, named.sha),
    };
  }
  if (!SHA.test(options.ref)) {
    throw new RunRefusedError('not_found', `${options.ref} is neither a branch nor a tag of ${options.cloneUrl}`);
  }
  const prefix = options.ref.toLowerCase();
  const sha =
    refs.find((r) => r.sha.startsWith(prefix))?.sha ??
    options.knownCommits?.find((c) => c.sha.startsWith(prefix))?.sha ??
    (prefix.length === 40 ? prefix : undefined);
  if (!sha) {
    throw new RunRefusedError(
      'invalid',
      `${options.ref} is neither a branch nor a tag, nor the abbreviation of a commit that a ref or a run knows: give the full SHA`,
    );
  }
  const as = options.routeAs ? parseRefName(options.routeAs) : null;
  const head = refs.find((r) => r.sha === sha && r.kind === 'branch');
  const earlier = options.knownCommits?.find((c) => c.sha === sha);
  const ref: { name: string; kind: RefKind } = as
    ? { name: as.name, kind: as.kind ?? byName(as)?.kind ?? 'branch' }
    : head
      ? { name: head.name, kind: 'branch' }
      : earlier
        ? { name: earlier.ref, kind: earlier.kind }
        : { name: options.defaultBranch, kind: 'branch' };
  return { ref, sha, message: await localCommitMessage(options.cloneUrl, sha) };
}

/** The clone URL a host gives a repository, for a run of a repository no earlier run told about. */
export function defaultKnownRepository(provider: Provider, name: string, defaultBranch: string): KnownRepository {
  return { cloneUrl: `${HOSTS[provider]}/${name}.git`, htmlUrl: `${HOSTS[provider]}/${name}`, defaultBranch };
}

// ------------------------------------------------------------------------------------------------ the runtime's side

/** What the runtime reads of its earlier executions for a run by hand. */
export interface RunHistory {
  /** The newest inputs first, of this repository. */
  inputsOf(provider: Provider, repository: string): readonly ExecutionInput[];
  /** The input of one execution, or undefined. */
  inputOf(
    executionArn: string,
  ): { readonly input: ExecutionInput; readonly status: string; readonly cause: string | null } | undefined;
  /** The history events of one execution, oldest first (for the image it built). */
  historyOf(executionArn: string): readonly HistoryEventLike[];
}

/** The run history of the execution store: the inputs of its recorded executions. */
export function storedRunHistory(executions: ExecutionStore): RunHistory {
  const inputOf = (record: ExecutionRecord): ExecutionInput | null => {
    try {
      return JSON.parse(record.input) as ExecutionInput;
    } catch {
      return null;
    }
  };
  return {
    inputsOf: (provider, repository) =>
      executions
        .listExecutions({ repository }, 50)
        .items.map(inputOf)
        .filter((i): i is ExecutionInput => i?.request?.provider === provider),
    inputOf: (arn) => {
      const record = executions.getExecution(arn);
      const input = record ? inputOf(record) : null;
      return record && input ? { input, status: record.status, cause: record.cause } : undefined;
    },
    historyOf: (arn) => executions.history(arn),
  };
}

/** Starts runs by hand on the local runtime, through its one starter (so the same rules hold as for the webhook). */
export class ManualRuns {
  public constructor(
    private readonly config: SteplineConfig,
    private readonly starter: WorkflowStarter,
    private readonly history: RunHistory,
  ) {}

  /** `stepline run`, the console's Run button. */
  public async run(request: RunRequest): Promise<StartedRun> {
    const repo = configuredRepository(this.config, request.repository);
    const earlier = this.history.inputsOf(repo.provider, repo.name);
    // Where the repository is: as the Git host last said (a webhook), else as the last run by hand had it.
    const last = (earlier.find((i) => i.request.event !== MANUAL_EVENT) ?? earlier[0])?.request.repository;
    const known: KnownRepository = request.cloneUrl
      ? {
          cloneUrl: request.cloneUrl,
          htmlUrl: last?.htmlUrl ?? null,
          defaultBranch: last?.defaultBranch ?? repo.defaultBranch,
        }
      : last
        ? { cloneUrl: last.cloneUrl, htmlUrl: last.htmlUrl, defaultBranch: last.defaultBranch }
        : defaultKnownRepository(repo.provider, repo.name, repo.defaultBranch);
    const resolved = await resolveRef({
      cloneUrl: known.cloneUrl,
      ref: request.ref,
      ...(request.sha ? { sha: request.sha } : {}),
      ...(request.routeAs ? { routeAs: request.routeAs } : {}),
      defaultBranch: known.defaultBranch,
      knownCommits: earlier
        .filter((i) => i.request.pullRequest === null)
        .map((i) => ({ sha: i.request.commit.sha, ref: i.request.ref.name, kind: i.request.ref.kind })),
    });
    const message =
      resolved.message ?? earlier.find((i) => i.request.commit.sha === resolved.sha)?.request.commit.message ?? null;
    const pipelineRequest = manualRequest({
      provider: repo.provider,
      repository: repo.name,
      known,
      ref: resolved.ref,
      sha: resolved.sha,
      message,
      by: request.by,
      deliveryId: manualDeliveryId(),
    });
    return this.start(planRun(this.config, pipelineRequest, request.environments));
  }

  /**
   * "Re-run": a new execution for the same commit and route as a finished one, started as `by`; `fromFailed`
   * promotes the image that run built (by digest, read from its history) from the environment it failed in: no
   * build, no tests, none of the environments before (ADR 0106).
   */
  public async rerun(
    executionArn: string,
    options: { readonly by: string; readonly fromFailed?: boolean },
  ): Promise<StartedRun> {
    const found = this.history.inputOf(executionArn);
    if (!found) throw new RunRefusedError('not_found', `no execution ${executionArn}`);
    if (found.status === 'RUNNING')
      throw new RunRefusedError('conflict', 'the run is still going: stop it first, or wait');
    const { request, route } = found.input;
    if (!request || !route) throw new RunRefusedError('invalid', 'this execution is not a Stepline pipeline run');
    let environments = route.environments;
    let prebuilt: Prebuilt | null = null;
    if (options.fromFailed) {
      const failed = failedEnvironmentOf(found.cause);
      const index = failed ? environments.findIndex((e) => e.name === failed) : -1;
      if (index < 0) throw new RunRefusedError('invalid', 'the run did not fail in an environment: re-run all of it');
      environments = environments.slice(index);
      prebuilt = prebuiltOf(executionArn, this.history.historyOf(executionArn), found.input.prebuilt?.from);
      if (!prebuilt) {
        throw new RunRefusedError('invalid', 'the image this run built is not in its history: re-run all of it');
      }
    }
    const again: PipelineRequest = { ...request, deliveryId: manualDeliveryId('rerun'), sender: { login: options.by } };
    const input: ExecutionInput = {
      request: again,
      route: { ...route, environments },
      ...(prebuilt ? { prebuilt } : {}),
    };
    return this.start({ name: executionName(again), input });
  }

  private async start(planned: PlannedRun): Promise<StartedRun> {
    const result = await this.starter.start({ name: planned.name, input: planned.input });
    return { outcome: result.outcome, executionArn: result.executionArn, name: planned.name, input: planned.input };
  }
}
