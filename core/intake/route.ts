import picomatch from 'picomatch';
import type { Environment, Repository, SteplineConfig } from '../config/schema';
import { statusContexts } from '../contracts/status';
import { type RouteStrategy, routeStrategy } from '../deploy/strategies/plan';
import type { PipelineRequest, Route, RouteEnvironment } from './types';
import { type Continue, type Ignored, ignore, proceed, type Skipped, skip } from './verdict';

/**
 * Routing: what the configuration makes of a request. The first configured branch or tag pattern that matches
 * decides the environments; pull requests build and test only, and those from forks run without secrets; a path
 * filter skips a run only when the payload lists every changed file and none of them is relevant.
 */
export type RouteDecision = Continue<Route> | Ignored | Skipped;

type Matcher = (input: string) => boolean;

const GLOB_OPTIONS = { dot: true } as const;

interface CompiledTrigger {
  readonly pattern: string;
  readonly matches: Matcher;
  readonly environments: readonly RouteEnvironment[];
}

interface CompiledRepository {
  readonly config: Repository;
  readonly branches: readonly CompiledTrigger[];
  readonly tags: readonly CompiledTrigger[];
  readonly baseBranches: readonly { readonly pattern: string; readonly matches: Matcher }[];
  readonly include: Matcher;
  readonly exclude: Matcher | null;
  /** Whether the path filter is the default one (every path is relevant). */
  readonly allPaths: boolean;
}

export function routeEnvironment(name: string, environment: Environment): RouteEnvironment {
  return {
    name,
    cluster: environment.cluster,
    namespace: environment.namespace,
    allowedNamespaces: environment.allowedNamespaces,
    clusterScopedKinds: environment.clusterScopedKinds,
    manifests: environment.manifests,
    url: environment.url ?? null,
    approval:
      environment.approval?.required === true
        ? {
            approvers: environment.approval.approvers,
            timeoutSeconds: environment.approval.timeoutMinutes * 60,
            ...(environment.approval.allowSelfApproval ? { allowSelfApproval: true } : {}),
          }
        : null,
    rollout: { timeoutSeconds: environment.rollout.timeoutSeconds, pollSeconds: environment.rollout.pollSeconds },
    ...strategyOf(environment),
    ...(environment.delivery ? { delivery: environment.delivery } : {}),
  };
}

/** A canary or blue-green strategy, with the time it may hold the lock; nothing for a rolling update. */
function strategyOf(environment: Environment): { strategy?: RouteStrategy } {
  const strategy = routeStrategy(environment.strategy, environment.rollout);
  return strategy ? { strategy } : {};
}

function compileRepository(repo: Repository): CompiledRepository {
  const trigger = (t: Repository['branches'][number]): CompiledTrigger => ({
    pattern: t.pattern,
    matches: picomatch(t.pattern, GLOB_OPTIONS),
    environments: t.environments.map((name) => routeEnvironment(name, repo.environments[name]!)),
  });
  const { include, exclude } = repo.paths;
  return {
    config: repo,
    branches: repo.branches.map(trigger),
    tags: repo.tags.map(trigger),
    baseBranches: (repo.pullRequests?.baseBranches ?? []).map((pattern) => ({
      pattern,
      matches: picomatch(pattern, GLOB_OPTIONS),
    })),
    include: picomatch(include, GLOB_OPTIONS),
    exclude: exclude.length > 0 ? picomatch(exclude, GLOB_OPTIONS) : null,
    allPaths: exclude.length === 0 && include.includes('**'),
  };
}

function describeFilter(repo: Repository): string {
  const under = repo.paths.include.join(', ');
  return repo.paths.exclude.length > 0 ? `${under} (outside ${repo.paths.exclude.join(', ')})` : under;
}

/** Routes are immutable and the same for every push to a ref: at most this many are kept for reuse. */
const ROUTE_CACHE_SIZE = 512;

export class Router {
  private readonly repositories = new Map<string, CompiledRepository>();
  private readonly routes = new Map<string, Route>();

  public constructor(config: SteplineConfig) {
    for (const repo of config.repositories) {
      this.repositories.set(`${repo.provider}:${repo.name.toLowerCase()}`, compileRepository(repo));
    }
  }

  public route(request: PipelineRequest): RouteDecision {
    const repo = this.repositories.get(`${request.provider}:${request.repository.fullName.toLowerCase()}`);
    if (repo === undefined) {
      return ignore(
        'repository_not_configured',
        `repository ${request.repository.fullName} (${request.provider}) is not configured`,
      );
    }
    const decision =
      request.pullRequest === null ? this.routePush(repo, request) : this.routePullRequest(repo, request);
    if (!decision.continue) return decision;
    return this.filterPaths(repo, request, decision.value);
  }

  private routePush(repo: CompiledRepository, request: PipelineRequest): Continue<Route> | Ignored {
    const triggers = request.ref.kind === 'branch' ? repo.branches : repo.tags;
    const trigger = triggers.find((t) => t.matches(request.ref.name));
    if (trigger === undefined) {
      return ignore(
        'ref_not_configured',
        `${request.ref.kind} ${request.ref.name} matches no configured ${request.ref.kind === 'branch' ? 'branches' : 'tags'} pattern`,
      );
    }
    return proceed(this.makeRoute(repo, request, request.ref.kind, trigger.pattern, trigger.environments, true));
  }

  private routePullRequest(repo: CompiledRepository, request: PipelineRequest): Continue<Route> | Ignored {
    const pr = request.pullRequest!;
    if (pr.action === 'closed') return ignore('pull_request_closed', `pull request #${pr.number} was closed`);
    const settings = repo.config.pullRequests;
    if (settings === undefined) {
      return ignore('pull_requests_not_configured', `pull requests of ${repo.config.name} are not configured to build`);
    }
    if (!(settings.events as readonly string[]).includes(pr.action)) {
      return ignore(
        'pull_request_action_not_configured',
        `pull request action "${pr.action}" is not configured to build`,
      );
    }
    const base = repo.baseBranches.find((b) => b.matches(pr.base.ref));
    if (base === undefined) {
      return ignore('base_branch_not_configured', `pull requests into ${pr.base.ref} are not configured to build`);
    }
    // Pull requests never deploy; those from forks never see secrets.
    return proceed(this.makeRoute(repo, request, 'pull_request', base.pattern, [], !pr.fork));
  }

  private makeRoute(
    repo: CompiledRepository,
    request: PipelineRequest,
    trigger: Route['trigger'],
    pattern: string,
    environments: readonly RouteEnvironment[],
    secrets: boolean,
  ): Route {
    const concurrencyKey = `${request.provider}:${repo.config.name}:${request.ref.fullName}`;
    const cacheKey = `${trigger}\u0000${pattern}\u0000${secrets}\u0000${concurrencyKey}`;
    const cached = this.routes.get(cacheKey);
    if (cached !== undefined) return cached;
    const { build, tests } = repo.config;
    const route: Route = {
      repository: repo.config.name,
      trigger,
      pattern,
      build: {
        ...(build.buildspec ? { buildspec: build.buildspec } : {}),
        imageRepository: build.imageRepository,
        timeoutMinutes: build.timeoutMinutes,
      },
      tests,
      environments,
      secrets,
      concurrencyKey,
    };
    if (this.routes.size >= ROUTE_CACHE_SIZE) this.routes.clear();
    this.routes.set(cacheKey, route);
    return route;
  }

  private filterPaths(repo: CompiledRepository, request: PipelineRequest, route: Route): Continue<Route> | Skipped {
    const { paths, complete } = request.changedFiles;
    // Unknown or empty change lists never skip a run: only a full list with nothing relevant does.
    if (repo.allPaths || !complete || paths.length === 0) return proceed(route);
    const relevant = paths.some((path) => repo.include(path) && !repo.exclude?.(path));
    if (relevant) return proceed(route);
    return skip(`skipped: no changes under ${describeFilter(repo.config)}`, route, statusContexts(route));
  }
}
